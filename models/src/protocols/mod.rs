//! The built-in protocols, one file each, and [`Protocol`], which lists them by name.

mod conditional_write;
mod event_sourced;
mod lease_lock;
mod naive;

use crate::protocol::JoinProtocol;
use conditional_write::ConditionalWrite;
use event_sourced::EventSourced;
use lease_lock::LeaseLock;
pub(crate) use naive::Naive;
use std::fmt;

pub use event_sourced::Streams;

/// Declares the built-in protocols, one entry each: the variant of [`Protocol`] (with its doc),
/// and the definition its work runs with. `Protocol::ALL` and `Protocol::with` follow from the
/// list, so a protocol cannot be listed in one and forgotten in the other.
macro_rules! protocols {
    ($($(#[$doc:meta])* $variant:ident => $definition:expr,)*) => {
        /// A built-in join protocol: how a server turns "add user to team" into database
        /// operations.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Protocol {
            $($(#[$doc])* $variant,)*
        }

        impl Protocol {
            /// Every protocol, in the order the CLI lists them.
            pub const ALL: [Protocol; [$(stringify!($variant)),*].len()] =
                [$(Protocol::$variant),*];

            /// Does `work` with this protocol's definition.
            pub(crate) fn with<W: WithProtocol>(self, work: W) -> W::Output {
                match self {
                    $(Protocol::$variant => work.run(&$definition),)*
                }
            }
        }
    };
}

protocols! {
    /// Check-then-act: read "is the user on a team?", then push the user into the team.
    /// Broken once two servers run it: both checks can pass before either push.
    Naive => Naive,
    /// Event sourcing over one global stream: read the log's version, append `Joined` expecting
    /// that version, reread and retry on conflict. Any concurrent append conflicts.
    EventSourced => EventSourced::GLOBAL,
    /// Event sourcing with one stream per user: only appends about the same user conflict.
    EventSourcedPerUser => EventSourced::PER_USER,
    /// Event sourcing with one stream per team: the read sees the whole log, but the append
    /// expects only its team's version, so joins of one user to two teams do not conflict.
    /// Broken once two servers and two teams run it.
    EventSourcedPerTeam => EventSourced::PER_TEAM,
    /// Insert `{user, team}` into memberships with a unique index on the user: a duplicate key
    /// means "already on a team". One step.
    UniqueMembership => ConditionalWrite::UNIQUE_MEMBERSHIP,
    /// Update the user's document `set team = t where team is none`: 0 rows changed means
    /// "already on a team". One step.
    UserDocument => ConditionalWrite::USER_DOCUMENT,
    /// Take the user's lock (a lease), check, push, release. Broken: a lease may expire under a
    /// server that goes on to push, while another server takes the lock.
    LeaseLock => LeaseLock::PLAIN,
    /// The lease lock with fencing tokens on the push. Still broken: the check made under an
    /// expired lease is not fenced.
    LeaseLockFenced => LeaseLock::FENCED,
    /// The lease lock with fencing tokens on the check and the push.
    LeaseLockFencedReads => LeaseLock::FENCED_READS,
}

/// Work done with one built-in protocol as its own type, so that it is compiled for that
/// protocol: the checker's hot loop then calls its transitions directly, not through a vtable.
pub(crate) trait WithProtocol {
    /// What the work returns.
    type Output;
    /// Does the work with `protocol`.
    fn run<P: JoinProtocol>(self, protocol: &'static P) -> Self::Output;
}

impl Protocol {
    /// The protocol's definition: its transitions, database and expected verdict.
    pub fn spec(self) -> &'static dyn JoinProtocol {
        struct Spec;
        impl WithProtocol for Spec {
            type Output = &'static dyn JoinProtocol;
            fn run<P: JoinProtocol>(self, protocol: &'static P) -> Self::Output {
                protocol
            }
        }
        self.with(Spec)
    }

    /// The protocol's name as the CLI takes it and traces print it.
    pub fn name(self) -> &'static str {
        self.spec().name()
    }

    /// The protocol named `name` (as [`Protocol::name`] prints it), if any.
    pub fn parse(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{check, CheckOptions};
    use crate::reference::{every_model, model, reachable_in, small_grid};
    use crate::state::{Phase, State};
    use crate::Sizes;

    #[test]
    fn names_parse_back() {
        let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(
            names,
            [
                "naive",
                "event-sourced",
                "event-sourced-per-user",
                "event-sourced-per-team",
                "unique-membership",
                "user-document",
                "lease-lock",
                "lease-lock-fenced",
                "lease-lock-fenced-reads",
            ]
        );
        for protocol in Protocol::ALL {
            assert_eq!(Protocol::parse(protocol.name()), Some(protocol));
            assert_eq!(protocol.to_string(), protocol.name());
        }
        assert_eq!(Protocol::parse("Naive"), None);
    }

    /// The expected verdict is computed, so it must be the checker's on every size it covers,
    /// with leaves too: one team cannot hold anyone twice, one server has no race, and event
    /// sourcing breaks only per team, where check-then-act does, and the lease lock with fenced
    /// checks never breaks. A leave only takes a user off a team, so it changes no verdict.
    #[test]
    fn the_expected_verdict_is_the_checkers() {
        let more = [[2, 1, 1, 2], [1, 2, 3, 2], [3, 1, 1, 1], [2, 2, 1, 1]];
        let grid = small_grid()
            .into_iter()
            .chain(more.map(|[s, u, t, n]| Sizes::new(s, u, t, n).unwrap()));
        // By leaves: joins only, then joins and leaves.
        let mut broken = [Vec::new(), Vec::new()];
        for sizes in grid {
            for protocol in Protocol::ALL {
                for leaves in [false, true] {
                    let options = CheckOptions {
                        leaves,
                        ..CheckOptions::default()
                    };
                    let verdict = check(protocol, sizes, &options);
                    let expected = if protocol.spec().breaks_at(sizes) {
                        let at = format!("{protocol} {:?}", sizes.as_array());
                        broken[usize::from(leaves)].push(at);
                        "violated"
                    } else {
                        "holds"
                    };
                    assert_eq!(verdict.kind(), expected, "{protocol} {sizes} {leaves}");
                }
            }
        }
        assert_eq!(broken[0], broken[1]);
        assert_eq!(
            broken[0],
            [
                "naive [2, 1, 2, 1]",
                "event-sourced-per-team [2, 1, 2, 1]",
                "lease-lock [2, 1, 2, 1]",
                "lease-lock-fenced [2, 1, 2, 1]",
                "naive [2, 2, 2, 1]",
                "event-sourced-per-team [2, 2, 2, 1]",
                "lease-lock [2, 2, 2, 1]",
                "lease-lock-fenced [2, 2, 2, 1]",
                "naive [2, 2, 2, 2]",
                "event-sourced-per-team [2, 2, 2, 2]",
                "lease-lock [2, 2, 2, 2]",
                "lease-lock-fenced [2, 2, 2, 2]",
                "naive [3, 2, 2, 1]",
                "event-sourced-per-team [3, 2, 2, 1]",
                "lease-lock [3, 2, 2, 1]",
                "lease-lock-fenced [3, 2, 2, 1]",
                "naive [2, 3, 2, 1]",
                "event-sourced-per-team [2, 3, 2, 1]",
                "lease-lock [2, 3, 2, 1]",
                "lease-lock-fenced [2, 3, 2, 1]",
                "naive [2, 2, 3, 1]",
                "event-sourced-per-team [2, 2, 3, 1]",
                "lease-lock [2, 2, 3, 1]",
                "lease-lock-fenced [2, 2, 3, 1]",
            ]
        );
    }

    /// The progress measure of [`crate::checker`]'s docs: the events in the log, then the sum
    /// of the servers' progress. Members are no part of it: a leave takes one away, and every
    /// step on the member sets moves its server forward anyway.
    fn measure(protocol: Protocol, sizes: Sizes, state: &State) -> (u8, u32) {
        let progress = state
            .servers(sizes)
            .iter()
            .map(|server| {
                let current = match protocol {
                    Protocol::EventSourcedPerUser => state
                        .log_entries()
                        .iter()
                        .filter(|event| event.user() == server.user)
                        .count() as u8,
                    Protocol::EventSourcedPerTeam => state
                        .log_entries()
                        .iter()
                        .filter(|event| event.team() == server.team)
                        .count() as u8,
                    _ => state.log_len,
                };
                // An expiry moves a lease-lock server up by one within its phase.
                let expired = u32::from(!server.lease);
                let phase = match server.phase {
                    Phase::Idle => 0,
                    Phase::Pending if server.version != current => 1,
                    Phase::Retrying => 2,
                    Phase::Pending => 3,
                    Phase::Acquired => 1 + expired,
                    Phase::Checked => 3 + expired,
                    Phase::Releasing => 5 + expired,
                };
                8 * u32::from(server.done) + phase
            })
            .sum();
        (state.log_len, progress)
    }

    /// Why `eventually` is sound here, with leaves too: every step strictly increases the
    /// measure, so there are no cycles, and every maximal path ends in a state with all requests
    /// done.
    #[test]
    fn every_step_strictly_increases_the_progress_measure() {
        for (protocol, sizes, leaves) in every_model() {
            let model = model(protocol, sizes, leaves);
            for state in reachable_in(&model) {
                let successors = model.successors(&state);
                if successors.is_empty() {
                    assert!(state.all_requests_done(sizes), "{protocol} {sizes}: stuck");
                }
                for (action, _, next) in successors {
                    assert!(
                        measure(protocol, sizes, &next) > measure(protocol, sizes, &state),
                        "{protocol} {sizes} (leaves: {leaves}): {action} does not progress"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "leaves_tests.rs"]
mod leaves_tests;

#[cfg(test)]
#[path = "enabled_tests.rs"]
mod enabled_tests;
