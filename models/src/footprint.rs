//! What one database operation reads and writes: its footprint.
//!
//! Two operations of different servers commute (either order leaves every later operation the
//! same answers) when no datum one writes is touched by the other. An engine that knows this
//! need try only one order of them: the partial-order reduction of `joincheck::check::dpor`.
//! A footprint may say more than the operation touches (that costs only orders tried), never
//! less (that would hide orders that differ).

use crate::domain::{TeamId, UserId};
use crate::operation::{CustomOperation, OpResult, Operation, StreamKey};
use std::fmt;

/// One piece of a database's data, as far as ordering operations goes. `None` in a field stands
/// for every value: `Events { user: None, team: Some(t) }` is team `t`'s whole stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Datum {
    /// The teams `user` is on, whatever a store keeps them in (`None`: every user's): what the
    /// invariants judge. Every operation that changes a user's teams writes it; a member-set
    /// query reads it.
    TeamsOf(Option<UserId>),
    /// A user's document (its `team` field).
    Document(UserId),
    /// The events of an event log about `user` and `team`: a stream is the events it selects,
    /// so reading it reads every cell it covers and appending to it writes the cells appended.
    Events {
        /// The events' user, or every user.
        user: Option<UserId>,
        /// The events' team, or every team.
        team: Option<TeamId>,
    },
    /// The lease on a user's lock (its holder, and the tokens handed out), or every lease.
    Lease(Option<UserId>),
    /// The newest fencing token the store has seen for a user's lock.
    Token(UserId),
    /// A service's own lock, by the runtime's number for it.
    Lock(u64),
    /// A piece of a third-party store's data, by its name.
    Named(String),
    /// An SQL table, by its name: what a statement that runs on its own (outside a transaction)
    /// reads or writes.
    Table(String),
    /// The whole database: what an operation that declares nothing is taken to write.
    Database,
}

impl Datum {
    /// Whether the two may be the same data: equal, or one covers the other.
    pub fn overlaps(&self, other: &Datum) -> bool {
        let covers = |a: Option<u8>, b: Option<u8>| a.is_none() || b.is_none() || a == b;
        match (self, other) {
            (Datum::Database, _) | (_, Datum::Database) => true,
            (
                Datum::Events { user, team },
                Datum::Events {
                    user: other_user,
                    team: other_team,
                },
            ) => {
                covers(user.map(|u| u.0), other_user.map(|u| u.0))
                    && covers(team.map(|t| t.0), other_team.map(|t| t.0))
            }
            (Datum::Lease(a), Datum::Lease(b)) | (Datum::TeamsOf(a), Datum::TeamsOf(b)) => {
                covers(a.map(|u| u.0), b.map(|u| u.0))
            }
            (a, b) => a == b,
        }
    }

    /// The events a stream selects.
    pub fn stream(stream: StreamKey) -> Datum {
        match stream {
            StreamKey::Global => Datum::Events {
                user: None,
                team: None,
            },
            StreamKey::User(user) => Datum::Events {
                user: Some(user),
                team: None,
            },
            StreamKey::Team(team) => Datum::Events {
                user: None,
                team: Some(team),
            },
        }
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datum::TeamsOf(Some(user)) => write!(f, "{user}'s teams"),
            Datum::TeamsOf(None) => write!(f, "every user's teams"),
            Datum::Document(user) => write!(f, "{user}'s document"),
            Datum::Events { user, team } => match (user, team) {
                (None, None) => write!(f, "every event"),
                (Some(user), None) => write!(f, "{user}'s events"),
                (None, Some(team)) => write!(f, "{team}'s events"),
                (Some(user), Some(team)) => write!(f, "{user}'s events on {team}"),
            },
            Datum::Lease(Some(user)) => write!(f, "{user}'s lease"),
            Datum::Lease(None) => write!(f, "every lease"),
            Datum::Token(user) => write!(f, "{user}'s newest token"),
            Datum::Lock(number) => write!(f, "lock {number}"),
            Datum::Named(name) => f.write_str(name),
            Datum::Table(name) => write!(f, "the {name} table"),
            Datum::Database => write!(f, "the database"),
        }
    }
}

/// Whether an operation reads a datum or may change it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    /// Reads it only.
    Read,
    /// May change it (and may read it).
    Write,
}

/// Everything one step reads and writes.
///
/// ```
/// use joincheck_models::domain::{TeamId, UserId};
/// use joincheck_models::footprint::{Datum, Footprint};
/// use joincheck_models::operation::{OpResult, Operation};
///
/// let (sue, bob, a) = (UserId(0), UserId(1), TeamId(0));
/// let find = Operation::FindTeamOf { user: sue }.footprint(&OpResult::Found(None));
/// let push_sue = Operation::PushMember { team: a, user: sue }.footprint(&OpResult::Pushed);
/// let push_bob = Operation::PushMember { team: a, user: bob }.footprint(&OpResult::Pushed);
/// assert!(find.conflicts(&push_sue));
/// assert!(!find.conflicts(&push_bob));
/// assert_eq!(Footprint::read(Datum::TeamsOf(Some(sue))), find);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Footprint(Vec<(Access, Datum)>);

impl Footprint {
    /// Reads `datum`.
    pub fn read(datum: Datum) -> Footprint {
        Footprint(vec![(Access::Read, datum)])
    }

    /// Writes `datum`.
    pub fn write(datum: Datum) -> Footprint {
        Footprint(vec![(Access::Write, datum)])
    }

    /// This footprint and `access` of `datum`.
    pub fn and(mut self, access: Access, datum: Datum) -> Footprint {
        self.add(access, datum);
        self
    }

    /// Adds `access` of `datum`.
    pub fn add(&mut self, access: Access, datum: Datum) {
        if !self.0.contains(&(access, datum.clone())) {
            self.0.push((access, datum));
        }
    }

    /// Adds everything `other` touches.
    pub fn extend(&mut self, other: &Footprint) {
        for (access, datum) in &other.0 {
            self.add(*access, datum.clone());
        }
    }

    /// Whether it touches nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each datum touched, with how.
    pub fn accesses(&self) -> &[(Access, Datum)] {
        &self.0
    }

    /// Whether the two steps may not commute: they touch overlapping data, one of them writing.
    pub fn conflicts(&self, other: &Footprint) -> bool {
        self.0.iter().any(|(access, datum)| {
            other.0.iter().any(|(other_access, other_datum)| {
                (*access == Access::Write || *other_access == Access::Write)
                    && datum.overlaps(other_datum)
            })
        })
    }

    /// Whether some datum it writes overlaps one `other` reads or writes.
    pub fn writes_into(&self, other: &Footprint) -> bool {
        self.0.iter().any(|(access, datum)| {
            *access == Access::Write && other.0.iter().any(|(_, theirs)| datum.overlaps(theirs))
        })
    }
}

impl fmt::Display for Footprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words: Vec<String> = self
            .0
            .iter()
            .map(|(access, datum)| match access {
                Access::Read => format!("reads {datum}"),
                Access::Write => format!("writes {datum}"),
            })
            .collect();
        f.write_str(&words.join(", "))
    }
}

impl Operation {
    /// What this operation read and wrote, given what it returned: a refused conditional write
    /// (a conflict, a duplicate key, no row changed, a stale token) only read.
    pub fn footprint(&self, result: &OpResult) -> Footprint {
        let written = |datum: Datum, changed: bool| match changed {
            true => Footprint::write(datum),
            false => Footprint::read(datum),
        };
        match self {
            Operation::FindTeamOf { user } => Footprint::read(Datum::TeamsOf(Some(*user))),
            Operation::PushMember { user, .. } => Footprint::write(Datum::TeamsOf(Some(*user))),
            Operation::PullMember { user, .. } => written(
                Datum::TeamsOf(Some(*user)),
                !matches!(result, OpResult::Pulled(false)),
            ),
            Operation::Read { stream } => Footprint::read(Datum::stream(*stream)),
            Operation::ReadAll => Footprint::read(Datum::stream(StreamKey::Global)),
            Operation::Append { stream, events, .. } => {
                let mut footprint = Footprint::read(Datum::stream(*stream));
                if !matches!(result, OpResult::Conflict { .. }) {
                    for event in events {
                        let cell = Datum::Events {
                            user: Some(event.user()),
                            team: Some(event.team()),
                        };
                        footprint.add(Access::Write, cell);
                    }
                }
                footprint
            }
            Operation::InsertMembership { user, .. } => written(
                Datum::TeamsOf(Some(*user)),
                !matches!(result, OpResult::DuplicateKey { .. }),
            ),
            Operation::DeleteMembership { user, .. } | Operation::UpdateTeam { user, .. } => {
                let datum = match self {
                    Operation::UpdateTeam { .. } => Datum::Document(*user),
                    _ => Datum::TeamsOf(Some(*user)),
                };
                written(datum, !matches!(result, OpResult::Changed { rows: 0 }))
            }
            Operation::Acquire { user } | Operation::Expire { user } => {
                Footprint::write(Datum::Lease(Some(*user)))
            }
            Operation::Release { user } => written(
                Datum::Lease(Some(*user)),
                !matches!(result, OpResult::Released(false)),
            ),
            Operation::Fenced { operation, .. } => {
                let mut footprint = operation.footprint(result);
                if let Some(user) = operation.user() {
                    let stale = matches!(result, OpResult::Stale { .. });
                    footprint.extend(&written(Datum::Token(user), !stale));
                }
                footprint
            }
            Operation::Custom(custom) => custom.footprint(),
            // Statements are not yet split by table: each is taken to write the database.
            Operation::Sql(_) => Footprint::write(Datum::Database),
        }
    }

    /// The user a built-in operation on one user's data is about.
    fn user(&self) -> Option<UserId> {
        match self {
            Operation::FindTeamOf { user }
            | Operation::PushMember { user, .. }
            | Operation::PullMember { user, .. } => Some(*user),
            _ => None,
        }
    }
}

impl CustomOperation {
    /// What the operation declared it reads and writes ([`CustomOperation::reads_datum`],
    /// [`CustomOperation::writes_datum`]); when it declared nothing, the whole database, written.
    /// The users of [`CustomOperation::reads`] and [`CustomOperation::writes`] say what a
    /// trace's `why:` line looks for, not all the data read, so they are no footprint.
    pub fn footprint(&self) -> Footprint {
        match self.data.is_empty() {
            true => Footprint::write(Datum::Database),
            false => self.data.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Event;

    #[test]
    fn appends_to_different_team_streams_commute_but_not_with_a_read_of_every_stream() {
        let (sue, a, b) = (UserId(0), TeamId(0), TeamId(1));
        let append = |team: TeamId, result: OpResult| {
            Operation::Append {
                stream: StreamKey::Team(team),
                expected: 0,
                events: vec![Event::Joined { user: sue, team }],
            }
            .footprint(&result)
        };
        let (on_a, on_b) = (
            append(a, OpResult::Appended { version: 1 }),
            append(b, OpResult::Appended { version: 1 }),
        );
        assert!(!on_a.conflicts(&on_b));
        assert!(on_a.conflicts(&append(a, OpResult::Appended { version: 1 })));
        let read_all = Operation::ReadAll.footprint(&OpResult::Custom(String::new()));
        assert!(read_all.conflicts(&on_a) && read_all.conflicts(&on_b));
        // A refused append only read its stream: two refusals commute.
        let refused = append(a, OpResult::Conflict { actual: 1 });
        assert!(!refused.conflicts(&refused.clone()));
        assert_eq!(refused.to_string(), "reads team-A's events");
    }

    #[test]
    fn the_clock_reading_every_lease_conflicts_with_each_acquire() {
        let sue = UserId(0);
        let acquire =
            Operation::Acquire { user: sue }.footprint(&OpResult::Acquired { token: None });
        assert!(Footprint::read(Datum::Lease(None)).conflicts(&acquire));
        assert!(!Footprint::read(Datum::Lease(None))
            .conflicts(&Footprint::read(Datum::Lease(Some(sue)))));
        let undeclared = CustomOperation::new("read", "read sue's document").reads(sue);
        assert_eq!(undeclared.footprint(), Footprint::write(Datum::Database));
        assert!(undeclared.footprint().conflicts(&acquire));
    }
}
