//! The database operations servers perform, and what each returned.
//!
//! One operation is one atomic step: the granularity of one SQL statement or one Mongo call. The
//! real store records these in its history and the models take exactly these as their actions,
//! so a model path and an implementation history are the same kind of thing and one renderer
//! serves both.

use crate::domain::{Event, ServerId, TeamId, UserId};
use std::fmt;

/// Which event stream an append guards with its expected version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StreamKey {
    /// One stream for every event: any concurrent append conflicts.
    Global,
    /// One stream per user: only appends about the same user conflict.
    User(UserId),
}

impl fmt::Display for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamKey::Global => write!(f, "the log"),
            StreamKey::User(user) => write!(f, "{user}'s stream"),
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
    /// Append `events` to `stream` if it is still at version `expected`.
    Append {
        /// The stream appended to.
        stream: StreamKey,
        /// The version the stream must still be at: the one read.
        expected: u64,
        /// The events appended.
        events: Vec<Event>,
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

impl Operation {
    /// The protocol-level name of the operation: check, act, read, append, …
    pub fn verb(&self) -> &'static str {
        match self {
            Operation::FindTeamOf { .. } => "check",
            Operation::PushMember { .. } => "act",
            Operation::PullMember { .. } => "pull",
            Operation::Read { .. } => "read",
            Operation::Append { .. } => "append",
            Operation::Acquire { .. } => "acquire",
            Operation::Release { .. } => "release",
            Operation::Expire { .. } => "lease",
            Operation::Fenced { operation, .. } => operation.verb(),
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
            Operation::Append {
                events, expected, ..
            } => {
                let events: Vec<String> = events.iter().map(ToString::to_string).collect();
                write!(f, "append {} expecting v{expected}", events.join(", "))
            }
            Operation::Acquire { user } => write!(f, "acquire {user}'s lock"),
            Operation::Release { user } => write!(f, "release {user}'s lock"),
            Operation::Expire { user } => write!(f, "{user}'s lease expires"),
            Operation::Fenced { token, operation } => write!(f, "{operation} with token {token}"),
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
            OpResult::Read { version, events } => write!(f, "v{version}, {} events", events.len()),
            OpResult::Appended { version } => write!(f, "ok (now v{version})"),
            OpResult::Conflict { actual } => write!(f, "Conflict (now v{actual})"),
            OpResult::Acquired { token: None } => write!(f, "ok"),
            OpResult::Acquired { token: Some(token) } => write!(f, "ok, token {token}"),
            OpResult::Released(true) => write!(f, "ok"),
            OpResult::Released(false) => write!(f, "not held: the lease had expired"),
            OpResult::Expired => write!(f, "lock free, holder not told"),
            OpResult::Stale { newest } => write!(f, "rejected: token {newest} seen"),
        }
    }
}
