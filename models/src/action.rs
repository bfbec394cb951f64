//! The model's actions: one atomic database operation of one server.
//!
//! An action names everything the server decides on its own (which request arrives, for the
//! first operation of a request); what the database answers is in the resulting [`Step`](crate::operation::Step).
//! Actions print and parse as words, e.g. `server-1 check sue → team-A`, which is how a
//! [`Replay::ModelPath`](crate::verdict::Replay::ModelPath) stores them. The first action of a
//! leave points the other way: `server-1 read sue ← team-A`.

use crate::domain::{Request, ServerId, TeamId, UserId};
use std::fmt;

/// One atomic database operation of one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Naive: a request "join `user` → `team`" arrives at an idle server, which checks whether
    /// the user is on a team (findOne).
    Check {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to join.
        user: UserId,
        /// The team asked for.
        team: TeamId,
    },
    /// Naive: a checked server pushes its user into its team ($push).
    Act {
        /// The server acting on its check.
        server: ServerId,
    },
    /// Event-sourced: a request "join `user` → `team`" arrives at an idle server, which reads the
    /// stream: its version and whether the user has joined.
    Read {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to join.
        user: UserId,
        /// The team asked for.
        team: TeamId,
    },
    /// Event-sourced: append `Joined(user, team)` expecting the version read; the store answers
    /// ok or conflict.
    Append {
        /// The server appending.
        server: ServerId,
    },
    /// Event-sourced: after a conflict, read the stream again for the same request.
    Reread {
        /// The server retrying.
        server: ServerId,
    },
    /// Unique membership: a request "join `user` → `team`" arrives at an idle server, which
    /// inserts `{user, team}`; the unique index on `user` answers ok or duplicate key.
    Insert {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to join.
        user: UserId,
        /// The team asked for.
        team: TeamId,
    },
    /// User document: a request "join `user` → `team`" arrives at an idle server, which updates
    /// the user's document `set team = team where team is none`; one row or none changes.
    Update {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to join.
        user: UserId,
        /// The team asked for.
        team: TeamId,
    },
    /// Lease lock: a request "join `user` → `team`" arrives at an idle server, which acquires
    /// the user's lock; enabled only while no server holds an unexpired lease on it.
    Acquire {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to join.
        user: UserId,
        /// The team asked for.
        team: TeamId,
    },
    /// Lease lock: a server that acquired the lock checks whether its user is on a team.
    CheckLocked {
        /// The server checking.
        server: ServerId,
    },
    /// Lease lock: a server done with its request releases the lock.
    Release {
        /// The server releasing.
        server: ServerId,
    },
    /// Lease lock: the lease this server holds expires; the server is not told.
    Expire {
        /// The holder of the lease.
        server: ServerId,
    },
    /// Naive, with leaves: a request "leave `user` ← `team`" arrives at an idle server, which
    /// pulls the user from the team ($pull).
    Pull {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to leave.
        user: UserId,
        /// The team to leave.
        team: TeamId,
    },
    /// Unique membership, with leaves: a request "leave `user` ← `team`" arrives at an idle
    /// server, which deletes the membership `{user, team}`; one document or none goes.
    Delete {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to leave.
        user: UserId,
        /// The team to leave.
        team: TeamId,
    },
    /// User document, with leaves: a request "leave `user` ← `team`" arrives at an idle server,
    /// which updates the user's document `set team = none where team is team`.
    UpdateLeave {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to leave.
        user: UserId,
        /// The team to leave.
        team: TeamId,
    },
    /// Event-sourced, with leaves: a request "leave `user` ← `team`" arrives at an idle server,
    /// which reads the stream: its version and whether the user is on that team.
    ReadLeave {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to leave.
        user: UserId,
        /// The team to leave.
        team: TeamId,
    },
    /// Lease lock, with leaves: a request "leave `user` ← `team`" arrives at an idle server,
    /// which acquires the user's lock; enabled only while no server holds an unexpired lease on
    /// it.
    AcquireLeave {
        /// The server handling the request.
        server: ServerId,
        /// The user asking to leave.
        user: UserId,
        /// The team to leave.
        team: TeamId,
    },
    /// Lease lock, with leaves: a server that acquired the lock for a leave pulls its user from
    /// its team ($pull).
    PullLocked {
        /// The server pulling.
        server: ServerId,
    },
}

impl Action {
    /// The server performing the action.
    pub fn server(self) -> ServerId {
        match self {
            Action::Check { server, .. }
            | Action::Act { server }
            | Action::Read { server, .. }
            | Action::Append { server }
            | Action::Reread { server }
            | Action::Insert { server, .. }
            | Action::Update { server, .. } => server,
            Action::Acquire { server, .. }
            | Action::CheckLocked { server }
            | Action::Release { server }
            | Action::Expire { server } => server,
            Action::Pull { server, .. }
            | Action::Delete { server, .. }
            | Action::UpdateLeave { server, .. }
            | Action::ReadLeave { server, .. }
            | Action::AcquireLeave { server, .. }
            | Action::PullLocked { server } => server,
        }
    }

    /// The request this action starts, when it is the first operation of one: what a server
    /// of the real code is given to replay a model path.
    pub fn request(self) -> Option<Request> {
        match self {
            Action::Check { user, team, .. }
            | Action::Read { user, team, .. }
            | Action::Insert { user, team, .. }
            | Action::Update { user, team, .. }
            | Action::Acquire { user, team, .. } => Some(Request::Join { user, team }),
            Action::Pull { user, team, .. }
            | Action::Delete { user, team, .. }
            | Action::UpdateLeave { user, team, .. }
            | Action::ReadLeave { user, team, .. }
            | Action::AcquireLeave { user, team, .. } => Some(Request::Leave { user, team }),
            Action::Act { .. }
            | Action::Append { .. }
            | Action::Reread { .. }
            | Action::CheckLocked { .. }
            | Action::Release { .. }
            | Action::Expire { .. }
            | Action::PullLocked { .. } => None,
        }
    }

    /// True when this action starts a leave: enabled only in a model with leaves.
    pub fn starts_leave(self) -> bool {
        matches!(self.request(), Some(Request::Leave { .. }))
    }

    /// The protocol-level verb: check, act, read, append, reread, insert, update.
    pub fn verb(self) -> &'static str {
        match self {
            Action::Check { .. } => "check",
            Action::Act { .. } => "act",
            Action::Read { .. } => "read",
            Action::Append { .. } => "append",
            Action::Reread { .. } => "reread",
            Action::Insert { .. } => "insert",
            Action::Update { .. } => "update",
            Action::Acquire { .. } => "acquire",
            Action::CheckLocked { .. } => "check",
            Action::Release { .. } => "release",
            Action::Expire { .. } => "expire",
            Action::Pull { .. } | Action::PullLocked { .. } => "pull",
            Action::Delete { .. } => "delete",
            Action::UpdateLeave { .. } => "update",
            Action::ReadLeave { .. } => "read",
            Action::AcquireLeave { .. } => "acquire",
        }
    }

    /// Parses what [`Action`]'s `Display` prints, e.g. `server-2 read sue → team-B`,
    /// `server-2 read sue ← team-B` or `server-1 append`.
    pub fn parse(text: &str) -> Option<Action> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let server = ServerId::parse(words.first()?)?;
        match words[1..] {
            [verb, user, "→", team] => {
                let user = UserId::parse(user)?;
                let team = TeamId::parse(team)?;
                match verb {
                    "check" => Some(Action::Check { server, user, team }),
                    "read" => Some(Action::Read { server, user, team }),
                    "insert" => Some(Action::Insert { server, user, team }),
                    "update" => Some(Action::Update { server, user, team }),
                    "acquire" => Some(Action::Acquire { server, user, team }),
                    _ => None,
                }
            }
            [verb, user, "←", team] => {
                let user = UserId::parse(user)?;
                let team = TeamId::parse(team)?;
                match verb {
                    "pull" => Some(Action::Pull { server, user, team }),
                    "delete" => Some(Action::Delete { server, user, team }),
                    "update" => Some(Action::UpdateLeave { server, user, team }),
                    "read" => Some(Action::ReadLeave { server, user, team }),
                    "acquire" => Some(Action::AcquireLeave { server, user, team }),
                    _ => None,
                }
            }
            ["act"] => Some(Action::Act { server }),
            ["pull"] => Some(Action::PullLocked { server }),
            ["append"] => Some(Action::Append { server }),
            ["reread"] => Some(Action::Reread { server }),
            ["check"] => Some(Action::CheckLocked { server }),
            ["release"] => Some(Action::Release { server }),
            ["lease", "expires"] => Some(Action::Expire { server }),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Check { server, user, team } | Action::Read { server, user, team } => {
                write!(f, "{server} {} {user} → {team}", self.verb())
            }
            Action::Act { server } | Action::Append { server } | Action::Reread { server } => {
                write!(f, "{server} {}", self.verb())
            }
            Action::Insert { server, user, team } | Action::Update { server, user, team } => {
                write!(f, "{server} {} {user} → {team}", self.verb())
            }
            Action::Acquire { server, user, team } => {
                write!(f, "{server} {} {user} → {team}", self.verb())
            }
            Action::CheckLocked { server } | Action::Release { server } => {
                write!(f, "{server} {}", self.verb())
            }
            Action::Expire { server } => write!(f, "{server} lease expires"),
            Action::Pull { server, user, team }
            | Action::Delete { server, user, team }
            | Action::UpdateLeave { server, user, team }
            | Action::ReadLeave { server, user, team }
            | Action::AcquireLeave { server, user, team } => {
                write!(f, "{server} {} {user} ← {team}", self.verb())
            }
            Action::PullLocked { server } => write!(f, "{server} {}", self.verb()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_print_as_words_and_parse_back() {
        let (s1, s2) = (ServerId(0), ServerId(1));
        let (sue, b) = (UserId(0), TeamId(1));
        let actions = [
            (
                Action::Check {
                    server: s1,
                    user: sue,
                    team: b,
                },
                "server-1 check sue → team-B",
            ),
            (Action::Act { server: s2 }, "server-2 act"),
            (
                Action::Read {
                    server: s2,
                    user: sue,
                    team: b,
                },
                "server-2 read sue → team-B",
            ),
            (Action::Append { server: s1 }, "server-1 append"),
            (Action::Reread { server: s1 }, "server-1 reread"),
            (
                Action::Insert {
                    server: s1,
                    user: sue,
                    team: b,
                },
                "server-1 insert sue → team-B",
            ),
            (
                Action::Update {
                    server: s2,
                    user: sue,
                    team: b,
                },
                "server-2 update sue → team-B",
            ),
            (
                Action::Acquire {
                    server: s2,
                    user: sue,
                    team: b,
                },
                "server-2 acquire sue → team-B",
            ),
            (Action::CheckLocked { server: s1 }, "server-1 check"),
            (Action::Release { server: s2 }, "server-2 release"),
            (Action::Expire { server: s1 }, "server-1 lease expires"),
            (
                Action::Pull {
                    server: s1,
                    user: sue,
                    team: b,
                },
                "server-1 pull sue ← team-B",
            ),
            (
                Action::Delete {
                    server: s2,
                    user: sue,
                    team: b,
                },
                "server-2 delete sue ← team-B",
            ),
            (
                Action::UpdateLeave {
                    server: s1,
                    user: sue,
                    team: b,
                },
                "server-1 update sue ← team-B",
            ),
            (
                Action::ReadLeave {
                    server: s2,
                    user: sue,
                    team: b,
                },
                "server-2 read sue ← team-B",
            ),
            (
                Action::AcquireLeave {
                    server: s1,
                    user: sue,
                    team: b,
                },
                "server-1 acquire sue ← team-B",
            ),
            (Action::PullLocked { server: s2 }, "server-2 pull"),
        ];
        for (action, text) in actions {
            assert_eq!(action.to_string(), text);
            assert_eq!(Action::parse(text), Some(action));
        }
        for bad in [
            "",
            "server-1",
            "server-1 jump",
            "server-0 act",
            "server-1 read sue",
            "server-1 insert",
            "server-1 check sue ← team-A",
            "server-1 pull sue → team-A",
            "x act",
        ] {
            assert_eq!(Action::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_first_action_of_a_request_names_it() {
        let action = |text| Action::parse(text).unwrap();
        let join = action("server-2 read sue → team-B");
        let leave = action("server-2 read sue ← team-B");
        assert_eq!(join.request().unwrap().to_string(), "join sue → team-B");
        assert_eq!(leave.request().unwrap().to_string(), "leave sue ← team-B");
        assert!(leave.starts_leave() && !join.starts_leave());
        assert_eq!(action("server-1 append").request(), None);
        assert_eq!(action("server-1 pull").request(), None);
    }
}
