//! A teams collection with a lock service beside it: one lock per user, held under a lease that
//! the database's clock may expire at any moment, and, when the lock service hands them out,
//! fencing tokens that the teams collection checks.
//!
//! Both live in one database, one critical section per operation, so that the history orders
//! lock and team operations together, as an observer of both would. A lease expiring is recorded
//! too, as a step of the server that held it: nobody tells that server, but the trace must.

use super::teams::Teams;
use super::{Database, Guarded, Membership, Performed, Recording, StepLog};
use crate::runtime::Runtime;
use joincheck_models::domain::{JoinError, ServerId, TeamId, UserId};
use joincheck_models::footprint::{Datum, Footprint};
use joincheck_models::operation::{OpResult, Operation, Step};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The clock's turns in an enforced order: its expiries take effect when a replayed path says,
/// not when their holders' own operations do.
const CLOCK: ServerId = ServerId(u8::MAX);

/// Whether the lock service hands out fencing tokens with its leases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockTokens {
    /// Leases come without tokens: nothing can be fenced.
    None,
    /// Each lease comes with the lock's next token, a counter that only grows.
    Fencing,
}

/// A lease on a user's lock, as [`LeasedTeamsConnection::acquire`] hands it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The user whose lock it is.
    pub user: UserId,
    /// Its fencing token, when the lock service hands them out.
    pub token: Option<u64>,
}

/// A fenced operation was rejected: the store had seen a newer token for the user's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaleToken {
    /// The token the operation carried.
    pub token: u64,
    /// The newest token the store had seen for that lock.
    pub newest: u64,
}

impl fmt::Display for StaleToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token {} is older than token {}",
            self.token, self.newest
        )
    }
}

impl std::error::Error for StaleToken {}

impl From<StaleToken> for JoinError {
    fn from(stale: StaleToken) -> JoinError {
        JoinError::StaleToken {
            token: stale.token,
            newest: stale.newest,
        }
    }
}

/// One user's lock.
#[derive(Default)]
struct Lock {
    /// The server holding the lease, until it expires or is released.
    holder: Option<ServerId>,
    /// The newest token handed out.
    issued: u64,
    /// The newest token a fenced operation carried.
    seen: u64,
}

/// The database's state: the teams, the locks, and the clock's ticks still due.
struct Leased {
    teams: Teams,
    locks: BTreeMap<UserId, Lock>,
    tokens: LockTokens,
    /// Under an enforced order, the expiries it still holds: the clock ticks once for each.
    expiries_due: usize,
}

impl Membership for Leased {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.teams.membership()
    }
}

impl Leased {
    /// Lets an operation fenced with `token` on `user`'s lock through, remembering the token,
    /// or rejects it when a newer one was seen. `None` is an unfenced operation.
    fn fence(&mut self, user: UserId, token: Option<u64>) -> Result<(), StaleToken> {
        let Some(token) = token else {
            return Ok(());
        };
        let lock = self.locks.entry(user).or_default();
        if token < lock.seen {
            return Err(StaleToken {
                token,
                newest: lock.seen,
            });
        }
        lock.seen = token;
        Ok(())
    }
}

/// The operation as recorded: fenced ones carry their token.
fn fenced(token: Option<u64>, operation: Operation) -> Operation {
    match token {
        Some(token) => Operation::Fenced {
            token,
            operation: Box::new(operation),
        },
        None => operation,
    }
}

/// The teams collection and its lock service. Each method is one database call.
pub struct LeasedTeams<R: Runtime> {
    database: Guarded<R, Leased>,
}

impl<R: Runtime> fmt::Debug for LeasedTeams<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeasedTeams").finish_non_exhaustive()
    }
}

impl<R: Runtime> LeasedTeams<R> {
    /// A database holding the given `(team, user)` memberships, every lock free; seeding is not
    /// recorded.
    pub fn with_members(
        initial: &[(TeamId, UserId)],
        recording: Recording,
        tokens: LockTokens,
    ) -> Self {
        let leased = Leased {
            teams: Teams::with_members(initial),
            locks: BTreeMap::new(),
            tokens,
            expiries_due: 0,
        };
        LeasedTeams {
            database: Guarded::new(leased, recording),
        }
    }

    /// A connection for `server`: the history attributes its operations to that server.
    pub fn connect(self: &Arc<Self>, server: ServerId) -> LeasedTeamsConnection<R> {
        LeasedTeamsConnection {
            database: Arc::clone(self),
            server,
        }
    }

    /// One tick of the database's clock: the lease held at this moment, if any, expires (the
    /// first in user order when several are), and its holder is not told. Returns whether the
    /// clock has more ticks to make: only under an enforced order, one per expiry it holds.
    pub fn tick(&self) -> bool {
        self.database.perform(
            CLOCK,
            |_| true,
            |leased| {
                // It looks at every lease to find the one held.
                R::touch(|| Footprint::read(Datum::Lease(None)));
                leased.expiries_due = leased.expiries_due.saturating_sub(1);
                let held = leased
                    .locks
                    .iter_mut()
                    .find_map(|(user, lock)| Some((*user, lock.holder.take()?)));
                Performed {
                    answer: leased.expiries_due > 0,
                    wakes: held.is_some(),
                    step: held.map(|(user, holder)| {
                        (holder, Operation::Expire { user }, OpResult::Expired)
                    }),
                }
            },
        )
    }
}

impl<R: Runtime> Database for LeasedTeams<R> {
    /// Opens it with a lock service that hands out fencing tokens.
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.database.membership()
    }

    fn history(&self) -> Vec<Step> {
        self.database.history()
    }

    fn enforce_order(&self, order: Vec<ServerId>) -> bool {
        self.database.enforce_order(order)
    }

    /// An expiry takes the clock's turn, not its holder's.
    fn enforce_steps(&self, steps: &[Step]) -> bool {
        let expiry = |step: &Step| matches!(step.operation, Operation::Expire { .. });
        let due = steps.iter().filter(|s| expiry(s)).count();
        self.database.set_up(|state| state.expiries_due = due);
        let order = steps.iter().map(|step| match expiry(step) {
            true => CLOCK,
            false => step.server,
        });
        self.database.enforce_order(order.collect())
    }

    fn server_finished(&self, server: ServerId) {
        self.database.server_finished(server)
    }

    fn order_diverged(&self) -> Option<String> {
        self.database.order_diverged()
    }
}

impl<R: Runtime> StepLog for LeasedTeams<R> {
    fn record(&self, server: ServerId, operation: Operation, result: OpResult) {
        self.database.record(server, operation, result);
    }
}

/// One server's connection to the teams and their locks.
pub struct LeasedTeamsConnection<R: Runtime> {
    database: Arc<LeasedTeams<R>>,
    server: ServerId,
}

impl<R: Runtime> fmt::Debug for LeasedTeamsConnection<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeasedTeamsConnection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> LeasedTeamsConnection<R> {
    /// The server this connection is, as its operations are recorded: what a service's own
    /// recorded lock names too ([`Mutex::lock_recorded`](crate::runtime::Mutex::lock_recorded)),
    /// so that a server needs to keep no id of its own.
    pub fn server(&self) -> ServerId {
        self.server
    }

    /// The database, as a history a service can write its own steps into (a recorded lock).
    pub fn log(&self) -> &dyn StepLog {
        self.database.as_ref()
    }

    /// Takes `user`'s lock, waiting while another server holds an unexpired lease on it.
    pub fn acquire(&self, user: UserId) -> Lease {
        let server = self.server;
        let free = |leased: &Leased| {
            R::touch(|| Footprint::read(Datum::Lease(Some(user))));
            leased
                .locks
                .get(&user)
                .is_none_or(|lock| lock.holder.is_none())
        };
        self.database.database.perform(server, free, |leased| {
            let tokens = leased.tokens;
            let lock = leased.locks.entry(user).or_default();
            lock.holder = Some(server);
            let token = (tokens == LockTokens::Fencing).then(|| {
                lock.issued += 1;
                lock.issued
            });
            let result = OpResult::Acquired { token };
            Performed {
                answer: Lease { user, token },
                step: Some((server, Operation::Acquire { user }, result)),
                wakes: false,
            }
        })
    }

    /// Releases `lease`'s lock, if this server still holds it; `false` when its lease had
    /// expired (the lock may be another server's by now, and stays so).
    pub fn release(&self, lease: Lease) -> bool {
        let (server, user) = (self.server, lease.user);
        self.database.database.perform(
            server,
            |_| true,
            |leased| {
                let lock = leased.locks.entry(user).or_default();
                let freed = lock.holder == Some(server);
                if freed {
                    lock.holder = None;
                }
                let operation = Operation::Release { user };
                Performed {
                    answer: freed,
                    step: Some((server, operation, OpResult::Released(freed))),
                    wakes: freed,
                }
            },
        )
    }

    /// findOne by member: the first team (in team order) that lists `user`; fenced with
    /// `token` on `user`'s lock when given.
    pub fn find_team_of(
        &self,
        user: UserId,
        token: Option<u64>,
    ) -> Result<Option<TeamId>, StaleToken> {
        let operation = fenced(token, Operation::FindTeamOf { user });
        self.operate(operation, |leased| {
            leased.fence(user, token)?;
            let team = leased.teams.team_of(user);
            Ok((team, OpResult::Found(team)))
        })
    }

    /// `$push`: appends `user` to `team`'s members; fenced with `token` on `user`'s lock when
    /// given.
    pub fn push_member(
        &self,
        team: TeamId,
        user: UserId,
        token: Option<u64>,
    ) -> Result<(), StaleToken> {
        let operation = fenced(token, Operation::PushMember { team, user });
        self.operate(operation, |leased| {
            leased.fence(user, token)?;
            leased.teams.push(team, user);
            Ok(((), OpResult::Pushed))
        })
    }

    /// `$pull`: removes `user` from `team`, `false` when they were not a member; fenced with
    /// `token` on `user`'s lock when given.
    pub fn pull_member(
        &self,
        team: TeamId,
        user: UserId,
        token: Option<u64>,
    ) -> Result<bool, StaleToken> {
        let operation = fenced(token, Operation::PullMember { team, user });
        self.operate(operation, |leased| {
            leased.fence(user, token)?;
            let pulled = leased.teams.pull(team, user);
            Ok((pulled, OpResult::Pulled(pulled)))
        })
    }

    /// One teams operation, recorded with its answer or, when rejected, the newest token seen.
    fn operate<T>(
        &self,
        operation: Operation,
        apply: impl FnOnce(&mut Leased) -> Result<(T, OpResult), StaleToken>,
    ) -> Result<T, StaleToken> {
        let server = self.server;
        self.database.database.perform(
            server,
            |_| true,
            |leased| {
                let (answer, result) = match apply(leased) {
                    Ok((answer, result)) => (Ok(answer), result),
                    Err(stale) => (
                        Err(stale),
                        OpResult::Stale {
                            newest: stale.newest,
                        },
                    ),
                };
                Performed {
                    answer,
                    step: Some((server, operation, result)),
                    wakes: false,
                }
            },
        )
    }
}
