//! The database operations servers perform, and what each returned.
//!
//! One operation is one atomic step: the granularity of one SQL statement or one Mongo call. The
//! real store records these in its history and the models take exactly these as their actions,
//! so a model path and an implementation history are the same kind of thing and one renderer
//! serves both.

use crate::domain::{Event, ServerId, TeamId, UserId};
use crate::footprint::{Access, Datum, Footprint};
use crate::statement::{SqlAnswer, SqlStatement};
use std::fmt;

/// Which event stream an append guards with its expected version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamKey {
    /// One stream for every event: any concurrent append conflicts.
    Global,
    /// One stream per user: only appends about the same user conflict.
    User(UserId),
    /// One stream per team: only appends to the same team conflict.
    Team(TeamId),
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamKey::Global => write!(f, "the log"),
            StreamKey::User(user) => write!(f, "{user}'s stream"),
            StreamKey::Team(team) => write!(f, "{team}'s stream"),
        }
    }
}

/// One database operation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// findOne: which team lists `user`? (the naive protocol's *check*)
    FindTeamOf {
        /// The user looked for.
        user: UserId,
    },
    /// $push: add `user` to `team`'s members (the naive protocol's *act*)
    PushMember {
        /// The team pushed into.
        team: TeamId,
        /// The user pushed.
        user: UserId,
    },
    /// $pull: remove `user` from `team`'s members.
    PullMember {
        /// The team pulled from.
        team: TeamId,
        /// The user pulled.
        user: UserId,
    },
    /// Read a stream: its version and events.
    Read {
        /// The stream read.
        stream: StreamKey,
    },
    /// Read every team's stream at once: all events, and each team stream's version ("read
    /// every team's stream", where a read of the one global stream is "read the log").
    ReadAll,
    /// Append `events` to `stream` if it is still at version `expected`.
    Append {
        /// The stream appended to.
        stream: StreamKey,
        /// The version the stream must still be at: the one read.
        expected: u64,
        /// The events appended.
        events: Vec<Event>,
    },
    /// insertOne `{user, team}` into the memberships collection, whose unique index on `user`
    /// refuses a second membership of the same user.
    InsertMembership {
        /// The user inserted.
        user: UserId,
        /// The team inserted.
        team: TeamId,
    },
    /// deleteOne `{user, team}` from the memberships collection: only that membership.
    DeleteMembership {
        /// The user whose membership is deleted.
        user: UserId,
        /// The team it must be for.
        team: TeamId,
    },
    /// updateOne of `user`'s document: `set team = team where team is where_team`, with `None`
    /// for no team. The condition is checked and the write made in the same operation.
    UpdateTeam {
        /// The user whose document is updated.
        user: UserId,
        /// The team set (`None`: none).
        team: Option<TeamId>,
        /// The team the document must have for the update to change it (`None`: none).
        where_team: Option<TeamId>,
    },
    /// Acquire `user`'s lock: wait while another server holds an unexpired lease on it, then
    /// hold the lease.
    Acquire {
        /// The user whose lock is taken.
        user: UserId,
    },
    /// Release `user`'s lock: it is freed only if this server still holds the lease.
    Release {
        /// The user whose lock is released.
        user: UserId,
    },
    /// `user`'s lease expires under its holder (a GC pause, a stalled VM): the lock is free and
    /// the holder is not told. The environment's step, recorded as its holder's.
    Expire {
        /// The user whose lease expires.
        user: UserId,
    },
    /// `operation` carrying the fencing token of its user's lock: the store rejects it when it
    /// has seen a newer token for that lock.
    Fenced {
        /// The token the lock service handed out with the lease.
        token: u64,
        /// The operation fenced.
        operation: Box<Operation>,
    },
    /// An operation of a store joincheck does not know, in that store's own words (boxed, so
    /// that the built-in operations stay small).
    Custom(Box<CustomOperation>),
    /// A statement of an SQL database, as the server sent it (boxed, like a custom operation).
    Sql(Box<SqlStatement>),
}

/// An operation of a third-party store, recorded as that store says it: its verb, the
/// operation in words, and which users' team it reads or writes (what the "why" of a trace
/// needs to find the read a later write made stale).
///
/// ```
/// use joincheck_models::domain::UserId;
/// use joincheck_models::operation::CustomOperation;
///
/// let sue = UserId(0);
/// let read = CustomOperation::new("read", format!("read {sue}'s document")).reads(sue);
/// assert_eq!(read.to_string(), "read sue's document");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CustomOperation {
    /// The protocol-level verb: `read`, `write`, `cas`, `lock`, …
    pub verb: String,
    /// The operation in words, as a trace prints it.
    pub description: String,
    /// The users whose team the operation reads.
    pub reads: Vec<UserId>,
    /// The users whose team the operation may change: whose membership, what the invariants
    /// judge. A trace shows their teams after a step that changed them. Data that is not the
    /// membership (a user's document that only records a request, a cache, a counter) is not
    /// written in this sense, even when the operation changes it: say so in the description.
    pub writes: Vec<UserId>,
    /// The data it reads and writes, as declared ([`CustomOperation::footprint`]).
    pub data: Footprint,
}

impl CustomOperation {
    /// An operation named `verb`, described as `description`, that reads and writes no user's
    /// team until [`CustomOperation::reads`] and [`CustomOperation::writes`] say it does.
    pub fn new(verb: impl Into<String>, description: impl Into<String>) -> Self {
        CustomOperation {
            verb: verb.into(),
            description: description.into(),
            reads: Vec::new(),
            writes: Vec::new(),
            data: Footprint::default(),
        }
    }

    /// The operation reads `datum`: with [`CustomOperation::writes_datum`], its footprint, which
    /// tells the DPOR engine which operations of other servers it commutes with.
    pub fn reads_datum(mut self, datum: Datum) -> Self {
        self.data.add(Access::Read, datum);
        self
    }

    /// The operation may change `datum`.
    pub fn writes_datum(mut self, datum: Datum) -> Self {
        self.data.add(Access::Write, datum);
        self
    }

    /// The operation also reads `user`'s team.
    pub fn reads(mut self, user: UserId) -> Self {
        self.reads.push(user);
        self
    }

    /// The operation may also change `user`'s team (its membership; a write of other data
    /// about the user is not one, see [`CustomOperation::writes`](#structfield.writes)).
    pub fn writes(mut self, user: UserId) -> Self {
        self.writes.push(user);
        self
    }
}

impl From<SqlStatement> for Operation {
    fn from(statement: SqlStatement) -> Self {
        Operation::Sql(Box::new(statement))
    }
}

impl From<SqlAnswer> for OpResult {
    fn from(answer: SqlAnswer) -> Self {
        OpResult::Sql(Box::new(answer))
    }
}

impl From<CustomOperation> for Operation {
    fn from(custom: CustomOperation) -> Self {
        Operation::Custom(Box::new(custom))
    }
}

impl fmt::Display for CustomOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

/// What an operation returned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OpResult {
    /// findOne's answer: the team listing the user, if any.
    Found(Option<TeamId>),
    /// $push done.
    Pushed,
    /// $pull done; `false` when the user was not a member.
    Pulled(bool),
    /// The stream's version and events at the time of the read.
    Read {
        /// The stream's version: how many events it holds.
        version: u64,
        /// The stream's events, in order.
        events: Vec<Event>,
    },
    /// Every event, each team's stream after the other in team order, and the version of each
    /// team stream that exists (a team with no stream yet is at version 0).
    ReadAll {
        /// The events of every team stream, in team order.
        events: Vec<Event>,
        /// `(team, version)` for each team stream with an event, in team order.
        versions: Vec<(TeamId, u64)>,
    },
    /// The append took effect; the stream is now at `version`.
    Appended {
        /// The stream's version after the append.
        version: u64,
    },
    /// The append was refused: the stream had moved on to `actual`.
    Conflict {
        /// The stream's version, which the append did not expect.
        actual: u64,
    },
    /// The insert took effect.
    Inserted,
    /// The unique index refused the insert: this membership is already there.
    DuplicateKey {
        /// The user of the membership already there.
        user: UserId,
        /// Its team.
        team: TeamId,
    },
    /// How many documents an update or a delete changed (0 or 1).
    Changed {
        /// Documents changed.
        rows: u64,
    },
    /// The lock is this server's, under a lease; with a fencing token when the lock service
    /// hands them out.
    Acquired {
        /// The lease's fencing token, if any.
        token: Option<u64>,
    },
    /// The release freed the lock (`true`), or did nothing because this server's lease had
    /// expired (`false`).
    Released(bool),
    /// The lease expired: the lock is free.
    Expired,
    /// A fenced operation was rejected: the store had seen the newer token `newest`.
    Stale {
        /// The newest token the store had seen for the lock.
        newest: u64,
    },
    /// What an operation of a third-party store returned, in that store's words. Empty
    /// ([`OpResult::teams_only`]): it answered nothing worth printing, and the trace shows the
    /// teams of the user it writes alone.
    Custom(String),
    /// What an SQL database answered to a statement.
    Sql(Box<SqlAnswer>),
}

impl OpResult {
    /// The answer of a third-party store's operation that says nothing beyond what it wrote:
    /// the trace shows only the written user's teams after it (`sue ∈ {team-A}`), where another
    /// answer comes first (`ok, sue ∈ {team-A}`). It is `OpResult::Custom` of an empty string.
    ///
    /// ```
    /// use joincheck_models::operation::OpResult;
    ///
    /// assert_eq!(OpResult::teams_only(), OpResult::Custom(String::new()));
    /// ```
    pub fn teams_only() -> OpResult {
        OpResult::Custom(String::new())
    }
}

/// One recorded operation: who did what, what it returned, and membership right after.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// The server that performed the operation.
    pub server: ServerId,
    /// The operation.
    pub operation: Operation,
    /// What it returned.
    pub result: OpResult,
    /// Team membership right after the operation, as sorted `(team, user)` pairs.
    pub membership_after: Vec<(TeamId, UserId)>,
}

impl Step {
    /// This step as the protocol's model records it: an SQL statement that performs a model
    /// operation is that operation, with the database's answer in the model's terms; every other
    /// step is itself. Conformance compares histories of SQL services with a model this way.
    pub fn in_model_terms(&self) -> Step {
        let (Operation::Sql(statement), OpResult::Sql(answer)) = (&self.operation, &self.result)
        else {
            return self.clone();
        };
        match (&statement.model, &answer.model) {
            (Some(operation), Some(result)) => Step {
                operation: operation.clone(),
                result: result.clone(),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }
}

impl Operation {
    /// The protocol-level name of the operation: check, act, read, append, …
    pub fn verb(&self) -> &str {
        match self {
            Operation::FindTeamOf { .. } => "check",
            Operation::PushMember { .. } => "act",
            Operation::PullMember { .. } => "pull",
            Operation::Read { .. } => "read",
            Operation::ReadAll => "read",
            Operation::Append { .. } => "append",
            Operation::InsertMembership { .. } => "insert",
            Operation::DeleteMembership { .. } => "delete",
            Operation::UpdateTeam { .. } => "update",
            Operation::Acquire { .. } => "acquire",
            Operation::Release { .. } => "release",
            Operation::Expire { .. } => "lease",
            Operation::Fenced { operation, .. } => operation.verb(),
            Operation::Custom(custom) => &custom.verb,
            Operation::Sql(statement) => &statement.verb,
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::FindTeamOf { user } => write!(f, "is {user} on a team?"),
            Operation::PushMember { team, user } => write!(f, "push {user} → {team}"),
            Operation::PullMember { team, user } => write!(f, "pull {user} ← {team}"),
            Operation::Read { stream } => write!(f, "read {stream}"),
            Operation::ReadAll => write!(f, "read every team's stream"),
            Operation::Append {
                stream,
                events,
                expected,
            } => {
                let events: Vec<String> = events.iter().map(ToString::to_string).collect();
                write!(f, "append {}", events.join(", "))?;
                // A team's stream is named: which version guards the append is the point.
                if let StreamKey::Team(_) = stream {
                    write!(f, " to {stream}")?;
                }
                write!(f, " expecting v{expected}")
            }
            Operation::InsertMembership { user, team } => {
                write!(f, "insert membership {{{user}, {team}}}")
            }
            Operation::DeleteMembership { user, team } => {
                write!(f, "delete membership {{{user}, {team}}}")
            }
            Operation::UpdateTeam {
                user,
                team,
                where_team,
            } => write!(
                f,
                "update {user}'s document set team = {} where team is {}",
                team_or_none(*team),
                team_or_none(*where_team)
            ),
            Operation::Acquire { user } => write!(f, "acquire {user}'s lock"),
            Operation::Release { user } => write!(f, "release {user}'s lock"),
            Operation::Expire { user } => write!(f, "{user}'s lease expires"),
            Operation::Fenced { token, operation } => write!(f, "{operation} with token {token}"),
            Operation::Custom(custom) => write!(f, "{custom}"),
            Operation::Sql(statement) => write!(f, "{statement}"),
        }
    }
}

impl fmt::Display for OpResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpResult::Found(None) => write!(f, "no"),
            OpResult::Found(Some(team)) => write!(f, "yes, {team}"),
            OpResult::Pushed => write!(f, "ok"),
            OpResult::Pulled(true) => write!(f, "ok"),
            OpResult::Pulled(false) => write!(f, "not a member"),
            OpResult::Read { version, events } => {
                let count = events.len();
                write!(
                    f,
                    "v{version}, {count} event{}",
                    if count == 1 { "" } else { "s" }
                )
            }
            OpResult::ReadAll { events, versions } => {
                let count = events.len();
                write!(f, "{count} event{}", if count == 1 { "" } else { "s" })?;
                let versions: Vec<String> = versions
                    .iter()
                    .map(|(team, version)| format!("{team} at v{version}"))
                    .collect();
                match versions.is_empty() {
                    true => Ok(()),
                    false => write!(f, "; {}", versions.join(", ")),
                }
            }
            OpResult::Appended { version } => write!(f, "ok (now v{version})"),
            OpResult::Conflict { actual } => write!(f, "Conflict (now v{actual})"),
            OpResult::Inserted => write!(f, "ok"),
            OpResult::DuplicateKey { user, team } => {
                write!(f, "duplicate key ({user} is on {team})")
            }
            OpResult::Changed { rows: 1 } => write!(f, "1 row"),
            OpResult::Changed { rows } => write!(f, "{rows} rows"),
            OpResult::Acquired { token: None } => write!(f, "ok"),
            OpResult::Acquired { token: Some(token) } => write!(f, "ok, token {token}"),
            OpResult::Released(true) => write!(f, "ok"),
            OpResult::Released(false) => write!(f, "not held: the lease had expired"),
            OpResult::Expired => write!(f, "lock free, holder not told"),
            OpResult::Stale { newest } => write!(f, "rejected: token {newest} seen"),
            OpResult::Custom(result) => f.write_str(result),
            OpResult::Sql(answer) => write!(f, "{answer}"),
        }
    }
}

/// A document's team in words: the team, or `none`.
pub fn team_or_none(team: Option<TeamId>) -> String {
    team.map_or_else(|| "none".to_string(), |team| team.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store's own operation reads in its own words, in a trace as on its own.
    #[test]
    fn a_custom_operation_reads_in_the_stores_words() {
        let sue = UserId(0);
        let cas = CustomOperation::new("cas", "set sue's team to team-A if unset").writes(sue);
        assert_eq!(cas.to_string(), "set sue's team to team-A if unset");
        let operation = Operation::from(cas);
        assert_eq!(operation.to_string(), "set sue's team to team-A if unset");
        assert_eq!(operation.verb(), "cas");
    }
}
