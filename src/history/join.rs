//! Histories of the join service: requests are the domain's [`Request`]s and refusals its
//! [`JoinError`]s, saved by the names traces print (`sue`, `team-A`) and the variant names the
//! services answer with (`AlreadyOnTeam`, `NotOnTeam`, …).

use super::{Call, History, Outcome};
use crate::trace::file::{RequestRecord, Team, User};
use joincheck_models::domain::{DatabaseError, JoinError, Request};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A history of join and leave requests.
pub type JoinHistory = History<JoinRequest, (), Refusal>;

/// One join or leave request in a [`JoinHistory`].
pub type JoinCall = Call<JoinRequest, (), Refusal>;

/// A join-service request, saved as replay files save one:
/// `{"request":"join","user":"sue","team":"team-A"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "RequestRecord", from = "RequestRecord")]
pub struct JoinRequest(pub Request);

impl From<JoinRequest> for RequestRecord {
    fn from(request: JoinRequest) -> RequestRecord {
        match request.0 {
            Request::Join { user, team } => RequestRecord::Join {
                user: User(user),
                team: Team(team),
            },
            Request::Leave { user, team } => RequestRecord::Leave {
                user: User(user),
                team: Team(team),
            },
        }
    }
}

impl From<RequestRecord> for JoinRequest {
    fn from(record: RequestRecord) -> JoinRequest {
        JoinRequest(match record {
            RequestRecord::Join { user, team } => Request::Join {
                user: user.0,
                team: team.0,
            },
            RequestRecord::Leave { user, team } => Request::Leave {
                user: user.0,
                team: team.0,
            },
        })
    }
}

impl fmt::Display for JoinRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why the service refused a request, as it said it: `{"AlreadyOnTeam":{"team":"team-B"}}`,
/// `"NotOnTeam"`, ….
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "RefusalRecord", from = "RefusalRecord")]
pub struct Refusal(pub JoinError);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A service's answer as a history records it: `Ok(())` is ok; a database's refusal the service
/// gave up on is an error (its transaction did not commit); every other `JoinError` a refusal.
impl From<Result<(), JoinError>> for Outcome<(), Refusal> {
    fn from(answer: Result<(), JoinError>) -> Self {
        match answer {
            Ok(()) => Outcome::Ok(()),
            Err(JoinError::Database(error)) => Outcome::Error(error.to_string()),
            Err(error) => Outcome::Refused(Refusal(error)),
        }
    }
}

/// [`JoinError`] with the names of users and teams, as JSON writes it.
#[derive(Serialize, Deserialize)]
enum RefusalRecord {
    AlreadyOnTeam { team: Team },
    NotOnTeam,
    Conflict { expected: u64, actual: u64 },
    AlreadyOnSomeTeam,
    StaleToken { token: u64, newest: u64 },
    Database { error: DatabaseRecord },
}

/// [`DatabaseError`] as JSON writes it: `"duplicate-key"`, `"deadlock"`, ….
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum DatabaseRecord {
    DuplicateKey,
    SerializationFailure,
    Deadlock,
    Busy,
    ConnectionLost,
    Other,
}

impl From<DatabaseError> for DatabaseRecord {
    fn from(error: DatabaseError) -> DatabaseRecord {
        match error {
            DatabaseError::DuplicateKey => DatabaseRecord::DuplicateKey,
            DatabaseError::SerializationFailure => DatabaseRecord::SerializationFailure,
            DatabaseError::Deadlock => DatabaseRecord::Deadlock,
            DatabaseError::Busy => DatabaseRecord::Busy,
            DatabaseError::ConnectionLost => DatabaseRecord::ConnectionLost,
            DatabaseError::Other => DatabaseRecord::Other,
        }
    }
}

impl From<DatabaseRecord> for DatabaseError {
    fn from(record: DatabaseRecord) -> DatabaseError {
        match record {
            DatabaseRecord::DuplicateKey => DatabaseError::DuplicateKey,
            DatabaseRecord::SerializationFailure => DatabaseError::SerializationFailure,
            DatabaseRecord::Deadlock => DatabaseError::Deadlock,
            DatabaseRecord::Busy => DatabaseError::Busy,
            DatabaseRecord::ConnectionLost => DatabaseError::ConnectionLost,
            DatabaseRecord::Other => DatabaseError::Other,
        }
    }
}

impl From<Refusal> for RefusalRecord {
    fn from(refusal: Refusal) -> RefusalRecord {
        match refusal.0 {
            JoinError::AlreadyOnTeam { team } => RefusalRecord::AlreadyOnTeam { team: Team(team) },
            JoinError::NotOnTeam => RefusalRecord::NotOnTeam,
            JoinError::Conflict { expected, actual } => {
                RefusalRecord::Conflict { expected, actual }
            }
            JoinError::AlreadyOnSomeTeam => RefusalRecord::AlreadyOnSomeTeam,
            JoinError::StaleToken { token, newest } => RefusalRecord::StaleToken { token, newest },
            JoinError::Database(error) => RefusalRecord::Database {
                error: error.into(),
            },
        }
    }
}

impl From<RefusalRecord> for Refusal {
    fn from(record: RefusalRecord) -> Refusal {
        Refusal(match record {
            RefusalRecord::AlreadyOnTeam { team } => JoinError::AlreadyOnTeam { team: team.0 },
            RefusalRecord::NotOnTeam => JoinError::NotOnTeam,
            RefusalRecord::Conflict { expected, actual } => {
                JoinError::Conflict { expected, actual }
            }
            RefusalRecord::AlreadyOnSomeTeam => JoinError::AlreadyOnSomeTeam,
            RefusalRecord::StaleToken { token, newest } => JoinError::StaleToken { token, newest },
            RefusalRecord::Database { error } => JoinError::Database(error.into()),
        })
    }
}
