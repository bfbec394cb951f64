//! The state of a model: each server's request in progress and the shared database.
//!
//! A state holds exactly what DESIGN.md's reference semantics name and nothing else (no step
//! counter, no history), so its reachable count is comparable with any other faithful model:
//! per server `(requests done, phase, user, team, version seen)`, and the shared state — the
//! member set of each team (naive) or the event log as an ordered sequence (event sourcing).
//!
//! A private layout packs a state into one `u128` (or `u64` when it fits), which is what the
//! checker stores and hashes.

use crate::domain::{Event, OnSeveralTeams, ServerId, TeamId, UserId};
use crate::sizes::{Sizes, MAX_DIMENSION};
use crate::Protocol;
use std::fmt;

/// The most servers, users or teams a state has room for.
pub(crate) const MAX: usize = MAX_DIMENSION as usize;

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
}

impl Phase {
    const ALL: [Phase; 4] = [Phase::Idle, Phase::Checked, Phase::Pending, Phase::Retrying];
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
    /// The stream version the server read and expects to append at (0 when idle or naive).
    pub version: u8,
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
        }
    }
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
    /// Event-sourced: the `Joined(user, team)` events in log order. The per-user protocol keeps
    /// them grouped by user (its streams, concatenated in user order): it has no global order.
    pub(crate) log: [(UserId, TeamId); MAX],
    pub(crate) log_len: u8,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let request = format!("{} → {}", self.user, self.team);
        match self.phase {
            Phase::Idle => write!(f, "idle"),
            Phase::Checked => write!(f, "checked {request}, push next"),
            Phase::Pending => write!(f, "read v{} for {request}, append next", self.version),
            Phase::Retrying => write!(f, "conflict on {request}, reread next"),
        }?;
        write!(f, ", {} done", self.done)
    }
}

/// `server-1: idle, 0 done` … up to the last server that is not idle at 0 done (the records past
/// the configured servers are such), `members: sue ∈ team-A`, and the log.
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
        if used < MAX {
            out.field("other servers", &format_args!("idle, 0 done"));
        }
        let members: Vec<String> = self
            .membership()
            .iter()
            .map(|(team, user)| format!("{user} ∈ {team}"))
            .collect();
        out.field("members", &format_args!("{{{}}}", members.join(", ")));
        let log: Vec<String> = self.events().iter().map(ToString::to_string).collect();
        out.field("log", &format_args!("[{}]", log.join(", ")));
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
            log: [(UserId(0), TeamId(0)); MAX],
            log_len: 0,
        }
    }

    /// The records of the first `count` servers.
    pub fn servers(&self, sizes: Sizes) -> &[Server] {
        &self.servers[..usize::from(sizes.servers)]
    }

    /// The event log (event-sourced protocols; empty for naive), in log order — for the
    /// per-user protocol, its streams one after another in user order.
    pub fn events(&self) -> Vec<Event> {
        self.log_entries()
            .iter()
            .map(|&(user, team)| Event::Joined { user, team })
            .collect()
    }

    pub(crate) fn log_entries(&self) -> &[(UserId, TeamId)] {
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

    /// Each team's members as a bit set of users, whichever protocol the state belongs to.
    fn member_masks(&self) -> [u8; MAX] {
        let mut masks = self.members;
        for &(user, team) in self.log_entries() {
            masks[usize::from(team.0)] |= 1 << user.0;
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

    /// True when every one of the `sizes.servers` servers has completed all its requests.
    pub fn all_requests_done(&self, sizes: Sizes) -> bool {
        self.servers(sizes)
            .iter()
            .all(|server| server.done == sizes.requests && server.phase == Phase::Idle)
    }
}

/// Bits needed to write the numbers `0..=max`.
fn bits_for(max: u32) -> u32 {
    u32::BITS - max.leading_zeros()
}

/// How a state of one protocol and sizes packs into a `u128`: the server records in the low bits
/// (server 0 lowest), the shared state above them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    servers: u32,
    users: u32,
    teams: u32,
    done_bits: u32,
    user_bits: u32,
    team_bits: u32,
    version_bits: u32,
    /// Event-sourced: the most events the log can hold (each user joins at most once, and there
    /// are `servers × requests` requests in all). 0 for naive.
    max_log: u32,
    log_len_bits: u32,
}

const PHASE_BITS: u32 = 2;

impl Layout {
    /// The layout for `protocol` at `sizes`.
    pub(crate) fn new(protocol: Protocol, sizes: Sizes) -> Layout {
        let servers = u32::from(sizes.servers);
        let users = u32::from(sizes.users);
        let teams = u32::from(sizes.teams);
        let max_log = match protocol {
            Protocol::Naive => 0,
            Protocol::EventSourced | Protocol::EventSourcedPerUser => {
                users.min(servers * u32::from(sizes.requests))
            }
        };
        let max_version = match protocol {
            Protocol::Naive => 0,
            Protocol::EventSourced => max_log,
            Protocol::EventSourcedPerUser => 1,
        };
        Layout {
            servers,
            users,
            teams,
            done_bits: bits_for(u32::from(sizes.requests)),
            user_bits: bits_for(users - 1),
            team_bits: bits_for(teams - 1),
            version_bits: bits_for(max_version),
            max_log,
            log_len_bits: bits_for(max_log),
        }
    }

    fn server_bits(&self) -> u32 {
        self.done_bits + PHASE_BITS + self.user_bits + self.team_bits + self.version_bits
    }

    fn shared_bits(&self) -> u32 {
        if self.max_log == 0 {
            self.users * self.teams
        } else {
            self.log_len_bits + self.max_log * (self.user_bits + self.team_bits)
        }
    }

    /// Bits one packed state needs.
    pub(crate) fn bits(&self) -> u32 {
        self.servers * self.server_bits() + self.shared_bits()
    }

    /// One server record, packed.
    pub(crate) fn pack_server(&self, server: &Server) -> u32 {
        let mut word = u32::from(server.done);
        word = (word << PHASE_BITS) | server.phase as u32;
        word = (word << self.user_bits) | u32::from(server.user.0);
        word = (word << self.team_bits) | u32::from(server.team.0);
        (word << self.version_bits) | u32::from(server.version)
    }

    fn unpack_server(&self, mut word: u32) -> Server {
        let mut take = |bits: u32| {
            let value = word & ((1 << bits) - 1);
            word >>= bits;
            value as u8
        };
        let version = take(self.version_bits);
        let team = TeamId(take(self.team_bits));
        let user = UserId(take(self.user_bits));
        let phase = Phase::ALL[usize::from(take(PHASE_BITS))];
        let done = take(self.done_bits);
        Server {
            done,
            phase,
            user,
            team,
            version,
        }
    }

    /// The shared state, packed.
    pub(crate) fn pack_shared(&self, state: &State) -> u128 {
        let mut word: u128 = 0;
        if self.max_log == 0 {
            for team in (0..self.teams as usize).rev() {
                word = (word << self.users) | u128::from(state.members[team]);
            }
        } else {
            for &(user, team) in state.log_entries().iter().rev() {
                word = (word << self.user_bits) | u128::from(user.0);
                word = (word << self.team_bits) | u128::from(team.0);
            }
            word = (word << self.log_len_bits) | u128::from(state.log_len);
        }
        word
    }

    /// Packs a state whose server records are already packed (in the order they go in).
    pub(crate) fn pack_with(&self, shared: u128, servers: &[u32]) -> u128 {
        let mut word = shared;
        for packed in servers.iter().rev() {
            word = (word << self.server_bits()) | u128::from(*packed);
        }
        word
    }

    /// `packed` with server `index`'s record replaced by `server`: cheaper than packing the whole
    /// successor when one action changes one server.
    pub(crate) fn with_server(&self, packed: u128, index: usize, server: &Server) -> u128 {
        let shift = index as u32 * self.server_bits();
        let mask = ((1u128 << self.server_bits()) - 1) << shift;
        (packed & !mask) | (u128::from(self.pack_server(server)) << shift)
    }

    /// `packed` with the shared state replaced by `state`'s.
    pub(crate) fn with_shared(&self, packed: u128, state: &State) -> u128 {
        let servers_bits = self.servers * self.server_bits();
        let servers = packed & ((1u128 << servers_bits) - 1);
        (self.pack_shared(state) << servers_bits) | servers
    }

    /// Packs a state.
    pub(crate) fn pack(&self, state: &State) -> u128 {
        let mut servers = [0u32; MAX];
        let count = self.servers as usize;
        for (packed, server) in servers.iter_mut().zip(&state.servers[..count]) {
            *packed = self.pack_server(server);
        }
        self.pack_with(self.pack_shared(state), &servers[..count])
    }

    /// Unpacks what [`Layout::pack`] packed.
    pub(crate) fn unpack(&self, mut word: u128) -> State {
        let mut state = State::initial();
        let server_mask = (1u128 << self.server_bits()) - 1;
        for server in &mut state.servers[..self.servers as usize] {
            *server = self.unpack_server((word & server_mask) as u32);
            word >>= self.server_bits();
        }
        if self.max_log == 0 {
            for team in 0..self.teams as usize {
                state.members[team] = (word & ((1 << self.users) - 1)) as u8;
                word >>= self.users;
            }
        } else {
            state.log_len = (word & ((1 << self.log_len_bits) - 1)) as u8;
            word >>= self.log_len_bits;
            for entry in &mut state.log[..usize::from(state.log_len)] {
                let team = (word & ((1 << self.team_bits) - 1)) as u8;
                word >>= self.team_bits;
                let user = (word & ((1 << self.user_bits) - 1)) as u8;
                word >>= self.user_bits;
                *entry = (UserId(user), TeamId(team));
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProtocolModel;
    use crate::reference::{reachable, small_grid};

    #[test]
    fn packing_round_trips_every_reachable_state() {
        for protocol in Protocol::ALL {
            for sizes in small_grid() {
                let layout = Layout::new(protocol, sizes);
                let states = reachable(protocol, sizes);
                let mut packed: Vec<u128> = states.iter().map(|s| layout.pack(s)).collect();
                for (state, word) in states.iter().zip(&packed) {
                    assert_eq!(layout.unpack(*word), *state, "{protocol} {sizes}");
                    assert!(*word < 1 << layout.bits(), "{protocol} {sizes}");
                }
                packed.sort_unstable();
                packed.dedup();
                assert_eq!(packed.len(), states.len(), "packing is injective");
            }
        }
    }

    #[test]
    fn repacking_one_server_equals_packing_the_successor() {
        for protocol in Protocol::ALL {
            let sizes = Sizes::new(2, 2, 2, 2).unwrap();
            let model = ProtocolModel::new(protocol, sizes);
            let layout = Layout::new(protocol, sizes);
            for state in reachable(protocol, sizes) {
                for (action, _, next) in model.successors(&state) {
                    let index = usize::from(action.server().0);
                    let quick =
                        layout.with_server(layout.pack(&state), index, &next.servers[index]);
                    assert_eq!(layout.with_shared(quick, &next), layout.pack(&next));
                }
            }
        }
    }

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
        state.log[..3].copy_from_slice(&[
            (UserId(1), TeamId(0)),
            (UserId(0), TeamId(2)),
            (UserId(1), TeamId(3)),
        ]);
        state.log_len = 3;
        assert!(state.breaks_invariant());
        assert_eq!(
            state.violation().unwrap().to_string(),
            "john ∈ {team-A, team-D}"
        );
        let folded = crate::domain::fold_membership(&state.events());
        assert_eq!(folded, state.membership());
    }
}
