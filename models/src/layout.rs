//! Packing a state into as few bits as its protocol and sizes need: the checker stores and hashes
//! states as one `u64` or `u128` each, so this width decides whether a model can be checked.

use crate::domain::{Event, TeamId, UserId};
use crate::protocol::{Database, JoinProtocol};
use crate::sizes::Sizes;
use crate::state::{Phase, Server, State, MAX};
use std::fmt;

/// The number of bits a packed state may use: one bit of the 128 marks an occupied slot in the
/// checker's hash set.
pub const STATE_BITS: u32 = 127;

/// Why a model cannot be checked: one of its states needs more bits than a packed state holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateTooWide {
    /// The protocol modelled.
    pub protocol: &'static str,
    /// Bits one state needs at the sizes asked for.
    pub bits: u32,
}

impl fmt::Display for StateTooWide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "one state of the {} protocol at these sizes needs {} bits, more than the \
             {STATE_BITS} a packed state holds; use fewer servers, users, teams or requests",
            self.protocol, self.bits
        )
    }
}

impl std::error::Error for StateTooWide {}

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
    /// The most events the log can hold; 0 when the database is member sets instead.
    max_log: u32,
    log_len_bits: u32,
    /// 2 for the first four phases; 3 when the lease lock's phases are used too.
    phase_bits: u32,
    /// 1 when a server's record says whether it holds its user's lease, else 0.
    lease_bits: u32,
    /// 1 when a server's record says whether its request is a leave (a model with leaves).
    leaving_bits: u32,
    /// 1 when an event says whether it is `Joined` or `Left` (a log with leaves).
    kind_bits: u32,
    /// Bits of one fencing token; the per-user tokens are packed only when this is not 0.
    token_bits: u32,
}

impl Layout {
    /// The layout for `protocol` at `sizes`, with leaves or joins only.
    pub(crate) fn new<P: JoinProtocol + ?Sized>(
        protocol: &P,
        sizes: Sizes,
        leaves: bool,
    ) -> Layout {
        let servers = u32::from(sizes.servers);
        let users = u32::from(sizes.users);
        let teams = u32::from(sizes.teams);
        let (max_log, max_version) = match protocol.database(sizes, leaves) {
            Database::MemberSets => (0, 0),
            Database::EventLog {
                capacity,
                max_version,
            } => (u32::from(capacity), u32::from(max_version)),
            // A server keeps its lease's token where the event-sourced ones keep the version.
            Database::LeasedMemberSets { max_token } => (0, u32::from(max_token)),
        };
        let leases = matches!(
            protocol.database(sizes, leaves),
            Database::LeasedMemberSets { .. }
        );
        let leaves = u32::from(leaves);
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
            phase_bits: if leases { 3 } else { 2 },
            lease_bits: u32::from(leases),
            leaving_bits: leaves,
            kind_bits: if max_log > 0 { leaves } else { 0 },
            token_bits: if leases { bits_for(max_version) } else { 0 },
        }
    }

    fn server_bits(&self) -> u32 {
        self.done_bits
            + self.phase_bits
            + self.user_bits
            + self.team_bits
            + self.version_bits
            + self.lease_bits
            + self.leaving_bits
    }

    fn shared_bits(&self) -> u32 {
        if self.max_log == 0 {
            self.users * self.teams + self.users * 2 * self.token_bits
        } else {
            self.log_len_bits + self.max_log * (self.user_bits + self.team_bits + self.kind_bits)
        }
    }

    /// Bits one packed state needs.
    pub(crate) fn bits(&self) -> u32 {
        self.servers * self.server_bits() + self.shared_bits()
    }

    /// Whether a state fits in [`STATE_BITS`]; `protocol` names the protocol in the error.
    pub(crate) fn fits(&self, protocol: &'static str) -> Result<(), StateTooWide> {
        match self.bits() {
            bits if bits > STATE_BITS => Err(StateTooWide { protocol, bits }),
            _ => Ok(()),
        }
    }

    /// One server record, packed.
    pub(crate) fn pack_server(&self, server: &Server) -> u32 {
        let mut word = u32::from(server.done);
        word = (word << self.phase_bits) | server.phase as u32;
        word = (word << self.user_bits) | u32::from(server.user.0);
        word = (word << self.team_bits) | u32::from(server.team.0);
        word = (word << self.version_bits) | u32::from(server.version);
        word = (word << self.lease_bits) | u32::from(server.lease);
        (word << self.leaving_bits) | u32::from(server.leaving)
    }

    fn unpack_server(&self, mut word: u32) -> Server {
        let mut take = |bits: u32| {
            let value = word & ((1 << bits) - 1);
            word >>= bits;
            value as u8
        };
        let leaving = take(self.leaving_bits) == 1;
        let lease = take(self.lease_bits) == 1;
        let version = take(self.version_bits);
        let team = TeamId(take(self.team_bits));
        let user = UserId(take(self.user_bits));
        let phase = Phase::ALL[usize::from(take(self.phase_bits))];
        let done = take(self.done_bits);
        Server {
            done,
            phase,
            user,
            team,
            version,
            lease,
            leaving,
        }
    }

    /// The shared state, packed.
    pub(crate) fn pack_shared(&self, state: &State) -> u128 {
        let mut word: u128 = 0;
        if self.max_log == 0 {
            if self.token_bits > 0 {
                for tokens in state.tokens[..self.users as usize].iter().rev() {
                    word = (word << self.token_bits) | u128::from(tokens.issued);
                    word = (word << self.token_bits) | u128::from(tokens.seen);
                }
            }
            for team in (0..self.teams as usize).rev() {
                word = (word << self.users) | u128::from(state.members[team]);
            }
        } else {
            for event in state.log_entries().iter().rev() {
                let left = matches!(event, Event::Left { .. });
                word = (word << self.user_bits) | u128::from(event.user().0);
                word = (word << self.team_bits) | u128::from(event.team().0);
                word = (word << self.kind_bits) | u128::from(left);
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
            if self.token_bits > 0 {
                let mask = (1 << self.token_bits) - 1;
                for tokens in state.tokens[..self.users as usize].iter_mut() {
                    tokens.seen = (word & mask) as u8;
                    word >>= self.token_bits;
                    tokens.issued = (word & mask) as u8;
                    word >>= self.token_bits;
                }
            }
        } else {
            state.log_len = (word & ((1 << self.log_len_bits) - 1)) as u8;
            word >>= self.log_len_bits;
            for entry in &mut state.log[..usize::from(state.log_len)] {
                let left = word & ((1 << self.kind_bits) - 1) == 1;
                word >>= self.kind_bits;
                let team = TeamId((word & ((1 << self.team_bits) - 1)) as u8);
                word >>= self.team_bits;
                let user = UserId((word & ((1 << self.user_bits) - 1)) as u8);
                word >>= self.user_bits;
                *entry = match left {
                    true => Event::Left { user, team },
                    false => Event::Joined { user, team },
                };
            }
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{every_model, model, reachable_in};
    use crate::Protocol;

    /// Only its own protocol's width decides whether a model can be packed: at 8,8,4,2 naive,
    /// per-user streams, the one-step fixes and the plain lease lock fit, the global log,
    /// per-team streams and fencing tokens do not. The lease lock's servers take a third phase bit
    /// and a lease bit; its fenced variants add tokens: 3 bits per server and 2 × 3 per user at
    /// 3,3,3,2.
    #[test]
    fn each_protocol_packs_to_its_own_width() {
        let widths = |[s, u, t, n]: [u8; 4]| {
            let sizes = Sizes::new(s, u, t, n).unwrap();
            Protocol::ALL.map(|protocol| Layout::new(protocol.spec(), sizes, false).bits())
        };
        assert_eq!(widths([2, 1, 2, 1]), [10, 12, 12, 14, 10, 10, 14, 22, 22]);
        assert_eq!(
            widths([8, 8, 4, 2]),
            [104, 148, 124, 189, 104, 104, 120, 240, 240]
        );
        assert_eq!(
            widths([8, 8, 8, 15]),
            [160, 180, 156, 519, 160, 160, 176, 344, 344]
        );
        assert_eq!(widths([3, 3, 3, 2]), [33, 44, 41, 57, 33, 33, 39, 66, 66]);
    }

    /// With leaves every server's record says whether its request is a leave (one bit), and a
    /// log's events whether they are `Joined` or `Left` (one bit each); a log then holds one
    /// event per request, and a stream as many. At 2,1,2,1 the global log's server grows from 5
    /// bits to 7 (the leave bit, and versions up to 2), its log from one event of 1 bit to two
    /// of 2 (one per request; sue joins at most once without leaves).
    #[test]
    fn leaves_widen_the_servers_and_the_log() {
        let widths = |[s, u, t, n]: [u8; 4]| {
            let sizes = Sizes::new(s, u, t, n).unwrap();
            Protocol::ALL.map(|protocol| Layout::new(protocol.spec(), sizes, true).bits())
        };
        assert_eq!(widths([2, 1, 2, 1]), [12, 20, 20, 20, 12, 12, 16, 24, 24]);
        assert_eq!(widths([3, 3, 3, 2]), [36, 69, 69, 69, 36, 36, 42, 69, 69]);
        assert_eq!(widths([4, 3, 3, 2]), [45, 96, 96, 96, 45, 45, 53, 93, 93]);
    }

    /// A state of exactly [`STATE_BITS`] bits is checkable and one of a bit more is not: the
    /// limit is the last bit a packed state holds, below the occupied bit of the state set.
    #[test]
    fn a_state_of_exactly_state_bits_is_checkable_and_one_bit_more_is_not() {
        let mut verdicts = std::collections::BTreeMap::new();
        for (s, u, t, n) in (1..=8).flat_map(|s| {
            (1..=8)
                .flat_map(move |u| (1..=8).flat_map(move |t| (1..=15).map(move |n| (s, u, t, n))))
        }) {
            let Ok(sizes) = Sizes::new(s, u, t, n) else {
                continue;
            };
            for protocol in Protocol::ALL {
                let Ok(model) = crate::ProtocolModel::try_new(protocol, sizes) else {
                    continue;
                };
                let bits = model.layout().bits();
                if bits == STATE_BITS || bits == STATE_BITS + 1 {
                    verdicts.insert(bits, model.checkable().map_err(|e| e.to_string()));
                }
            }
        }
        assert_eq!(verdicts[&STATE_BITS], Ok(()));
        assert!(verdicts[&(STATE_BITS + 1)]
            .as_ref()
            .is_err_and(|e| e.contains("needs 128 bits, more than the 127")));
    }

    #[test]
    fn packing_round_trips_every_reachable_state() {
        for (protocol, sizes, leaves) in every_model() {
            let model = model(protocol, sizes, leaves);
            let layout = model.layout();
            let states = reachable_in(&model);
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

    #[test]
    fn repacking_one_server_equals_packing_the_successor() {
        for (protocol, leaves) in Protocol::ALL
            .into_iter()
            .flat_map(|p| [(p, false), (p, true)])
        {
            let model = model(protocol, Sizes::new(2, 2, 2, 2).unwrap(), leaves);
            let layout = model.layout();
            for state in reachable_in(&model) {
                for (action, _, next) in model.successors(&state) {
                    let index = usize::from(action.server().0);
                    let quick =
                        layout.with_server(layout.pack(&state), index, &next.servers[index]);
                    assert_eq!(layout.with_shared(quick, &next), layout.pack(&next));
                }
            }
        }
    }
}
