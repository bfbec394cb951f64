//! The state of a model: each server's request in progress and the shared database.
//!
//! A state holds exactly what the reference semantics of `docs/ARCHITECTURE.md` name and nothing
//! else (no step counter, no history), so its reachable count is comparable with any other
//! faithful model: per server `(requests done, phase, user, team, version seen)` (with leaves,
//! and whether the request is a leave), and the shared state — the member set of each team
//! (naive) or the event log as an ordered sequence of `Joined` (and with leaves `Left`) events
//! (event sourcing).
//!
//! The private `layout` module packs a state into one `u128` (or `u64` when it fits), which is
//! what the checker stores and hashes.

use crate::domain::{Event, OnSeveralTeams, ServerId, TeamId, UserId};
use crate::renaming::Renaming;
use crate::sizes::{Sizes, MAX_DIMENSION};
use std::fmt;

/// The most servers, users or teams a state has room for, and the most events its log holds.
pub(crate) const MAX: usize = MAX_DIMENSION as usize;

/// What an unused slot of the log holds: unused slots stay the same, so that equal states
/// compare and hash equal.
const NO_EVENT: Event = Event::Joined {
    user: UserId(0),
    team: TeamId(0),
};

/// Where a server is in its current request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Between requests (or done with all of them): it keeps nothing of its last request.
    Idle,
    /// Naive: the check found the user on no team; the push comes next.
    Checked,
    /// Event-sourced: read the stream at `version` without the user; the append comes next.
    Pending,
    /// Event-sourced: the append hit a conflict; a reread comes next. The server keeps its
    /// request (user, team) but not the version it expected (reset to 0), which is the
    /// reference semantics' count: 1,799,380 states at 3,3,3,2.
    Retrying,
    /// Lease lock: acquired the user's lock; the check comes next. (A lease lock's server whose
    /// check found the user on no team is [`Phase::Checked`]: the push comes next.)
    Acquired,
    /// Lease lock: the request is over (pushed, refused or rejected); the release comes next.
    Releasing,
}

impl Phase {
    pub(crate) const ALL: [Phase; 6] = [
        Phase::Idle,
        Phase::Checked,
        Phase::Pending,
        Phase::Retrying,
        Phase::Acquired,
        Phase::Releasing,
    ];
}

/// One server's record. `Debug` prints it in words: `read v1 for sue → team-A, append next`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Server {
    /// Requests this server has completed.
    pub done: u8,
    /// Where it is in the current request.
    pub phase: Phase,
    /// The user of the current request (`UserId(0)` when idle).
    pub user: UserId,
    /// The team of the current request (`TeamId(0)` when idle).
    pub team: TeamId,
    /// The stream version the server read and expects to append at (0 when idle or naive);
    /// for a fenced lease lock, the fencing token its lease came with.
    pub version: u8,
    /// Lease lock: the lock service counts this server as the holder of its user's lease. An
    /// expiry clears it behind the server's back: its phase goes on as before.
    pub lease: bool,
    /// The current request is a leave of `user` from `team`, not a join (only in a model with
    /// leaves). Cleared once the rest of the leave is the rest of a join (a lease lock's
    /// release), so that the two reach the same states.
    pub leaving: bool,
}

impl Server {
    /// A server between requests.
    pub(crate) fn idle(done: u8) -> Server {
        Server {
            done,
            phase: Phase::Idle,
            user: UserId(0),
            team: TeamId(0),
            version: 0,
            lease: false,
            leaving: false,
        }
    }
}

/// Fenced lease lock: the fencing tokens of one user's lock. Tokens count up from 1; 0 is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Tokens {
    /// The newest token the lock service handed out with a lease.
    pub(crate) issued: u8,
    /// The newest token the store has seen on a fenced operation.
    pub(crate) seen: u8,
}

/// A whole model state: every server's record and the shared database.
///
/// Only the first `servers` records (and, for the log, the first `log_len` events) are used; the
/// rest stay zero so that equal states compare and hash equal. `Debug` prints it in the trace's
/// words, for stateright's Explorer.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct State {
    pub(crate) servers: [Server; MAX],
    /// Naive: bit `u` of `members[t]` is set when user `u` is a member of team `t`.
    pub(crate) members: [u8; MAX],
    /// Event-sourced: the events in log order (`Left` ones only in a model with leaves). The
    /// per-user protocol keeps them grouped by user (its streams, concatenated in user order):
    /// it has no global order. The per-team protocol groups them by team in the same way.
    pub(crate) log: [Event; MAX],
    pub(crate) log_len: u8,
    /// Fenced lease lock: each user's lock's fencing tokens.
    pub(crate) tokens: [Tokens; MAX],
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let request = match self.leaving {
            true => format!("{} ← {}", self.user, self.team),
            false => format!("{} → {}", self.user, self.team),
        };
        match self.phase {
            Phase::Idle => write!(f, "idle"),
            Phase::Checked => write!(f, "checked {request}, push next"),
            Phase::Pending => write!(f, "read v{} for {request}, append next", self.version),
            Phase::Retrying => write!(f, "conflict on {request}, reread next"),
            Phase::Acquired if self.leaving => {
                write!(f, "acquired the lock for {request}, pull next")
            }
            Phase::Acquired => write!(f, "acquired the lock for {request}, check next"),
            Phase::Releasing => write!(f, "done with {request}, release next"),
        }?;
        if self.version != 0 && self.phase != Phase::Pending {
            write!(f, " (token {})", self.version)?;
        }
        if self.lease {
            write!(f, ", holds the lease")?;
        }
        write!(f, ", {} done", self.done)
    }
}

/// `server-1: idle, 0 done` … up to the last server that is not idle at 0 done, `members: sue ∈
/// team-A`, and the log when it has an event (naive and the one-step fixes keep none, and an
/// empty `log: []` on their states reads as if they did), as the tokens when one is handed out.
/// A server not listed is idle with 0 done: the state does not know how
/// many servers are configured (the records past them are idle at 0 too), so it names none it
/// cannot vouch for.
impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = self
            .servers
            .iter()
            .rposition(|server| *server != Server::idle(0))
            .map_or(0, |last| last + 1);
        let mut out = f.debug_struct("State");
        for (index, server) in self.servers[..used].iter().enumerate() {
            out.field(&ServerId(index as u8).to_string(), server);
        }
        let members: Vec<String> = self
            .membership()
            .iter()
            .map(|(team, user)| format!("{user} ∈ {team}"))
            .collect();
        out.field("members", &format_args!("{{{}}}", members.join(", ")));
        let log: Vec<String> = self.events().iter().map(ToString::to_string).collect();
        if !log.is_empty() {
            out.field("log", &format_args!("[{}]", log.join(", ")));
        }
        if self
            .tokens
            .iter()
            .any(|tokens| *tokens != Tokens::default())
        {
            let tokens: Vec<String> = (0..MAX)
                .filter(|&user| self.tokens[user] != Tokens::default())
                .map(|user| {
                    let Tokens { issued, seen } = self.tokens[user];
                    format!("{}: issued {issued}, seen {seen}", UserId(user as u8))
                })
                .collect();
            out.field("tokens", &format_args!("{{{}}}", tokens.join(", ")));
        }
        out.finish()
    }
}

impl State {
    /// The state where every server is idle with all its requests ahead and the database is
    /// empty.
    pub(crate) fn initial() -> State {
        State {
            servers: [Server::idle(0); MAX],
            members: [0; MAX],
            log: [NO_EVENT; MAX],
            log_len: 0,
            tokens: [Tokens::default(); MAX],
        }
    }

    /// The records of the first `count` servers.
    pub fn servers(&self, sizes: Sizes) -> &[Server] {
        &self.servers[..usize::from(sizes.servers)]
    }

    /// The event log (event-sourced protocols; empty for naive), in log order — for the
    /// per-user protocol, its streams one after another in user order, and for the per-team
    /// protocol in team order.
    pub fn events(&self) -> Vec<Event> {
        self.log_entries().to_vec()
    }

    pub(crate) fn log_entries(&self) -> &[Event] {
        &self.log[..usize::from(self.log_len)]
    }

    /// Team membership as sorted `(team, user)` pairs: the member sets (naive) or the fold of the
    /// log (event sourcing).
    pub fn membership(&self) -> Vec<(TeamId, UserId)> {
        let mut pairs: Vec<(TeamId, UserId)> = Vec::new();
        for (team, mask) in self.member_masks().iter().enumerate() {
            for user in 0..MAX {
                if mask & (1 << user) != 0 {
                    pairs.push((TeamId(team as u8), UserId(user as u8)));
                }
            }
        }
        pairs
    }

    /// Each team's members as a bit set of users, whichever protocol the state belongs to: for
    /// a log, its fold in log order (each stream keeps the order of the events about one user
    /// and team, which is all the fold needs).
    fn member_masks(&self) -> [u8; MAX] {
        let mut masks = self.members;
        for event in self.log_entries() {
            match *event {
                Event::Joined { user, team } => masks[usize::from(team.0)] |= 1 << user.0,
                Event::Left { user, team } => masks[usize::from(team.0)] &= !(1 << user.0),
            }
        }
        masks
    }

    /// The team that lists `user` first in team order, if any: what `findOne` returns.
    pub(crate) fn team_of(&self, user: UserId) -> Option<TeamId> {
        self.member_masks()
            .iter()
            .position(|mask| mask & (1 << user.0) != 0)
            .map(|team| TeamId(team as u8))
    }

    /// True when some user is on more than one team. A bit check, as fast as the search needs;
    /// [`State::violation`] names who.
    pub fn breaks_invariant(&self) -> bool {
        let (mut seen, mut twice) = (0u8, 0u8);
        for mask in self.member_masks() {
            twice |= seen & mask;
            seen |= mask;
        }
        twice != 0
    }

    /// True when some user is on a team (the `sometimes` property "a user joined a team").
    pub fn someone_joined(&self) -> bool {
        self.member_masks().iter().any(|mask| *mask != 0)
    }

    /// The user on several teams, if the invariant is broken.
    pub fn violation(&self) -> Option<OnSeveralTeams> {
        let membership = self.membership();
        crate::domain::user_on_several_teams(
            membership
                .iter()
                .map(|(team, user)| (*team, std::iter::once(user))),
        )
    }

    /// Renames the users and teams of the member sets: a member-set protocol's part of
    /// [`JoinProtocol::rename_database`](crate::JoinProtocol::rename_database).
    pub(crate) fn rename_members(&mut self, sizes: Sizes, renaming: &Renaming) {
        let members = self.members;
        self.members = [0; MAX];
        for (team, mask) in members[..usize::from(sizes.teams)].iter().enumerate() {
            let mut renamed = 0u8;
            for user in 0..sizes.users {
                if mask & (1 << user) != 0 {
                    renamed |= 1 << renaming.user(UserId(user)).0;
                }
            }
            self.members[usize::from(renaming.team(TeamId(team as u8)).0)] = renamed;
        }
    }

    /// True when every one of the `sizes.servers` servers has completed all its requests.
    pub fn all_requests_done(&self, sizes: Sizes) -> bool {
        self.servers(sizes)
            .iter()
            .all(|server| server.done == sizes.requests && server.phase == Phase::Idle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{reachable, small_grid};
    use crate::Protocol;

    /// The fast bit check agrees with the domain's definition of the invariant on every reachable
    /// state (naive reaches plenty of broken ones) and on hand-made logs.
    #[test]
    fn bit_check_agrees_with_the_domain_invariant() {
        let mut broken = 0;
        for protocol in Protocol::ALL {
            for sizes in small_grid() {
                for state in reachable(protocol, sizes) {
                    assert_eq!(state.breaks_invariant(), state.violation().is_some());
                    assert_eq!(state.someone_joined(), !state.membership().is_empty());
                    broken += usize::from(state.breaks_invariant());
                }
            }
        }
        assert!(broken > 0, "the grid must include broken states");
        let mut state = State::initial();
        let joined = |user, team| Event::Joined {
            user: UserId(user),
            team: TeamId(team),
        };
        let left = |user, team| Event::Left {
            user: UserId(user),
            team: TeamId(team),
        };
        state.log[..3].copy_from_slice(&[joined(1, 0), joined(0, 2), joined(1, 3)]);
        state.log_len = 3;
        assert!(state.breaks_invariant());
        assert_eq!(
            state.violation().unwrap().to_string(),
            "john ∈ {team-A, team-D}"
        );
        let folded = crate::domain::fold_membership(&state.events());
        assert_eq!(folded, state.membership());
        state.log[3..6].copy_from_slice(&[left(1, 0), left(0, 1), joined(1, 0)]);
        state.log_len = 6;
        assert!(state.breaks_invariant());
        state.log[6] = left(1, 3);
        state.log_len = 7;
        assert!(!state.breaks_invariant());
        let folded = crate::domain::fold_membership(&state.events());
        assert_eq!(folded, state.membership());
        assert_eq!(state.team_of(UserId(1)), Some(TeamId(0)));
    }
}
