//! joincheck's own explicit-state model checker: breadth-first, level by level, over states
//! packed into one `u64` each (one `u128` when a state needs more than 63 bits).
//!
//! Why not stateright's checker alone: it hashes and stores full states with their paths and is
//! several times slower on these models (see the benchmark); its BFS may also return a
//! counterexample that is not the shortest, and its limits end a run as if it were complete.
//! This checker:
//!
//! - explores level by level, so the first level holding a violation gives the shortest
//!   counterexample's length; the path itself is then rebuilt deterministically as the first
//!   path of that length in action order ([`ProtocolModel::actions`]), the same on every run and
//!   for any number of threads;
//! - stores packed states in open-addressing hash sets, parts of the whole each owning the
//!   states whose hash falls in it (eight parts a thread with several threads); each round,
//!   whichever thread is free expands the next slice of the frontier, and then stores the next
//!   part's successors, so a thread the system pauses holds the others up by little;
//! - reports a run stopped by a state limit, a timeout or a stop request as
//!   [`Verdict::Inconclusive`], saying how far it got.
//!
//! **Properties.** `always` "a user is on at most one team" is checked on every state;
//! `sometimes` "a user joined a team" must be met by some state; `eventually` "every request
//! completes" is checked as "no reachable state has requests left and no action enabled". That
//! is a complete check of `eventually` here because every model is acyclic, with leaves too: the
//! pair (events in the log, Σ over servers of progress) strictly increases, lexicographically,
//! with every step, where a server's progress is `8·done` plus 0 when idle, 1 when pending at a
//! stale version, 2 when retrying, 3 when pending at the current version; for the lease lock, 1,
//! 3 or 5 when it has acquired, checked or is releasing, plus 1 once its lease has expired
//! (naive's checked server counts as one whose lease has expired: 4). (A read moves an idle
//! server up, an append either grows the log or moves a server up, a conflict moves a stale
//! pending server to retrying, a reread moves it to pending at the current version; an act,
//! acquire, check, pull or release moves its server up, an insert, update, delete or naive pull
//! ends its request, and an expiry, which only clears a lease that only an acquire sets, moves the
//! holder up by one.) Member sets are no part of the measure, so a leave that empties one does not
//! undo progress, and a `Left` event grows the log like a `Joined`. Requests are finite (each
//! server handles N), so leaves make no cycle, and no fairness is needed. So every path ends, and
//! it ends in a state with no action enabled.

mod bfs;
mod insert;
mod path;
mod progress;
mod state_set;

pub use progress::Progress;

use crate::action::Action;
use crate::model::{requests_in_words, ProtocolModel, ReplayError};
use crate::operation::Step;
use crate::protocol::JoinProtocol;
use crate::protocols::{Protocol, WithProtocol};
use crate::sizes::Sizes;
use crate::state::State;
use crate::verdict::{Engine, Stats, Verdict};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How to run a check: `CheckOptions::default()` and the builder methods below, so that fields
/// can be added without breaking callers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Store one representative per orbit under permutations of servers, users and teams. The
    /// verdict is the same, the state count much smaller.
    pub symmetry: bool,
    /// Worker threads: 1 or more (0 counts as 1).
    pub threads: usize,
    /// Stop, inconclusive, once this many distinct states are stored.
    pub max_states: Option<u64>,
    /// Stop, inconclusive, after this much wall time.
    pub timeout: Option<Duration>,
    /// Stop, inconclusive, once this becomes true (wire it to Ctrl-C).
    pub stop: Option<Arc<AtomicBool>>,
    /// Counters the checker keeps up to date while it runs.
    pub progress: Option<Arc<Progress>>,
    /// Let each request be a join or a leave, instead of a join
    /// ([`ProtocolModel::with_leaves`]).
    pub leaves: bool,
}

impl Default for CheckOptions {
    /// No symmetry, one thread, no limits, joins only.
    fn default() -> CheckOptions {
        CheckOptions {
            symmetry: false,
            threads: 1,
            max_states: None,
            timeout: None,
            stop: None,
            progress: None,
            leaves: false,
        }
    }
}

impl CheckOptions {
    /// Stores one representative per orbit under permutations of servers, users and teams.
    pub fn symmetry(mut self, symmetry: bool) -> Self {
        self.symmetry = symmetry;
        self
    }

    /// Runs `threads` worker threads.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Stops, inconclusive, once `states` distinct states are stored.
    pub fn max_states(mut self, states: u64) -> Self {
        self.max_states = Some(states);
        self
    }

    /// Stops, inconclusive, after `timeout` of wall time.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Stops, inconclusive, once `stop` becomes true.
    pub fn stop(mut self, stop: Arc<AtomicBool>) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Keeps `progress` up to date while the check runs.
    pub fn progress(mut self, progress: Arc<Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Lets each request be a join or a leave.
    pub fn leaves(mut self, leaves: bool) -> Self {
        self.leaves = leaves;
        self
    }
}

/// Everything a check found, per property.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `always` "a user is on at most one team".
    pub verdict: Verdict,
    /// `sometimes` "a user joined a team": true when some explored state has a member.
    pub someone_joined: bool,
    /// `eventually` "every request completes": the first shortest path (as action names) to a
    /// state where requests are left but no action is enabled, if one was found.
    pub stuck: Option<Vec<String>>,
}

/// Checks `protocol` at `sizes`: holds, violated (with the shortest counterexample) or
/// inconclusive.
///
/// The verdict is about "a user is on at most one team". If the exploration was complete and the
/// invariant held, but "every request completes" or "a user joined a team" failed, the verdict is
/// [`Verdict::Inconclusive`] and says so: the proof would be vacuous or the model broken.
pub fn check(protocol: Protocol, sizes: Sizes, options: &CheckOptions) -> Verdict {
    verdict_of(check_report(protocol, sizes, options))
}

/// The verdict [`check`] gives for `report`: a proof that is vacuous, or whose model leaves
/// requests stuck, is inconclusive.
fn verdict_of(report: Report) -> Verdict {
    match report.verdict {
        Verdict::Holds { engine, stats, .. }
            if report.stuck.is_some() || !report.someone_joined =>
        {
            let reason = match &report.stuck {
                Some(path) => format!(
                    "the invariant held in every state, but \"every request completes\" fails: \
                     after {} no action is enabled and requests are left",
                    path.join(", ")
                ),
                None => "the invariant held in every state, but no user ever joined a team: \
                         the check is vacuous"
                    .to_string(),
            };
            Verdict::Inconclusive {
                engine,
                reason,
                stats,
            }
        }
        verdict => verdict,
    }
}

/// Like [`check`], with the outcome of every property.
///
/// Sizes built field by field and invalid, or at which a state of `protocol` is too wide to pack
/// ([`ProtocolModel::checkable`]), give an inconclusive verdict that says why.
pub fn check_report(protocol: Protocol, sizes: Sizes, options: &CheckOptions) -> Report {
    /// The check, compiled for the protocol's own type.
    struct Checking<'a> {
        sizes: Sizes,
        options: &'a CheckOptions,
    }
    impl WithProtocol for Checking<'_> {
        type Output = Report;
        fn run<P: JoinProtocol>(self, protocol: &'static P) -> Report {
            let started = Instant::now();
            let model = match ProtocolModel::of(protocol, self.sizes) {
                Ok(model) if self.options.leaves => model.with_leaves(),
                built => built,
            };
            let model = match model {
                Ok(model) => model,
                Err(error) => return nothing_checked(&error),
            };
            if let Err(error) = model.checkable() {
                return nothing_checked(&error);
            }
            report(&model, self.options, started)
        }
    }
    protocol.with(Checking { sizes, options })
}

/// The report of a check that could not start, and why.
fn nothing_checked(why: &dyn std::fmt::Display) -> Report {
    Report {
        verdict: Verdict::Inconclusive {
            engine: Engine::Model,
            reason: format!("nothing was checked: {why}"),
            stats: Stats::default(),
        },
        someone_joined: false,
        stuck: None,
    }
}

/// Explores `model`, which fits the packing, and turns what the search found into a report.
fn report<P: JoinProtocol + ?Sized>(
    model: &ProtocolModel<P>,
    options: &CheckOptions,
    started: Instant,
) -> Report {
    let found = bfs::search(model, options, started);
    let stats = Stats {
        unique_states: Some(found.unique),
        generated_states: Some(found.generated),
        max_depth: Some(found.depth),
        iterations: None,
        seconds: started.elapsed().as_secs_f64(),
    };
    let engine = Engine::Model;
    let stuck = found.stuck_depth.map(|depth| {
        let path = path::first_path(model, options.symmetry, depth, |state| {
            path::state_is_stuck(model, state)
        });
        path.unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    });
    let verdict = if let Some(depth) = found.violation_depth {
        let path = path::first_path(model, options.symmetry, depth, State::breaks_invariant);
        match path.and_then(|path| path::counterexample(model, &path)) {
            Some(counterexample) => Verdict::Violated {
                engine,
                counterexample: Box::new(counterexample),
                stats,
            },
            // The search and the path search walk the same transitions; this is a bug if seen.
            None => Verdict::Inconclusive {
                engine,
                reason: format!(
                    "the invariant breaks {depth} steps in, but no path of that length could be \
                     rebuilt: a bug in joincheck's checker, please report it"
                ),
                stats,
            },
        }
    } else if let Some(limit) = found.stopped_by {
        Verdict::Inconclusive {
            engine,
            reason: format!(
                "stopped by {limit} after {} distinct state{} ({} generated); every state up to \
                 {} step{} deep was found, deeper ones were not",
                thousands(found.unique),
                if found.unique == 1 { "" } else { "s" },
                thousands(found.generated),
                found.depth,
                if found.depth == 1 { "" } else { "s" }
            ),
            stats,
        }
    } else {
        let mut scope = format!(
            "all interleavings of {}{}",
            model.sizes().scope(),
            requests_in_words(model.leaves())
        );
        if options.symmetry {
            scope.push_str(" up to symmetry of servers, users and teams");
        }
        Verdict::Holds {
            engine,
            scope,
            stats,
        }
    };
    Report {
        verdict,
        someone_joined: found.someone_joined,
        stuck,
    }
}

/// Re-executes a [`Replay::ModelPath`](crate::verdict::Replay::ModelPath)'s actions on
/// `protocol` at `sizes`, returning the steps. A path that starts a leave is replayed on the
/// model with leaves, which takes a path of joins exactly as the model without them does.
pub fn replay(
    protocol: Protocol,
    sizes: Sizes,
    actions: &[String],
) -> Result<Vec<Step>, ReplayError> {
    let model = ProtocolModel::try_new(protocol, sizes).map_err(ReplayError::InvalidSizes)?;
    let leaves = actions
        .iter()
        .filter_map(|text| Action::parse(text))
        .any(Action::starts_leave);
    match leaves {
        true => model.with_leaves().map_err(ReplayError::InvalidSizes)?,
        false => model,
    }
    .replay(actions)
}

/// `1234567` as `1,234,567`: how every report writes large figures.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod first_path_tests;

#[cfg(test)]
mod stuck_tests;

#[cfg(test)]
mod wide_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::reachable;
    use crate::reference::sizes;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_proof_states_its_scope_and_figures() {
        let verdict = check(
            Protocol::EventSourced,
            sizes(3, 3, 3, 1),
            &CheckOptions::default(),
        );
        let Verdict::Holds { scope, stats, .. } = &verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(
            scope,
            "all interleavings of 3 servers × 3 users × 3 teams × 1 request each"
        );
        let all = reachable(Protocol::EventSourced, sizes(3, 3, 3, 1)).len() as u64;
        assert_eq!(stats.unique_states, Some(all));
        assert!(stats.generated_states > stats.unique_states);
        let reduced = CheckOptions {
            symmetry: true,
            ..CheckOptions::default()
        };
        let Verdict::Holds { scope, .. } =
            check(Protocol::EventSourced, sizes(2, 1, 1, 2), &reduced)
        else {
            panic!("event sourcing holds")
        };
        assert_eq!(
            scope,
            "all interleavings of 2 servers × 1 user × 1 team × 2 requests each up to symmetry \
             of servers, users and teams"
        );
    }

    #[test]
    fn every_property_is_reported() {
        for protocol in Protocol::ALL {
            for leaves in [false, true] {
                let options = CheckOptions {
                    leaves,
                    ..CheckOptions::default()
                };
                let report = check_report(protocol, sizes(2, 2, 2, 2), &options);
                assert!(report.someone_joined, "{protocol}");
                assert_eq!(report.stuck, None, "{protocol}");
            }
        }
    }

    #[test]
    fn replay_refuses_unknown_or_disabled_actions() {
        let sizes = sizes(2, 1, 2, 1);
        let unknown = replay(Protocol::Naive, sizes, &["server-1 dance".to_string()]).unwrap_err();
        assert!(unknown
            .to_string()
            .starts_with("step 1: `server-1 dance` is not an action"));
        let disabled = replay(
            Protocol::EventSourced,
            sizes,
            &["server-1 append".to_string()],
        )
        .unwrap_err();
        assert_eq!(
            disabled.to_string(),
            "step 1: `server-1 append` is not enabled here; enabled: server-1 read sue → team-A, \
             server-1 read sue → team-B, server-2 read sue → team-A, server-2 read sue → team-B"
        );
        let wrong_protocol = replay(
            Protocol::EventSourced,
            sizes,
            &["server-1 check sue → team-A".to_string()],
        );
        assert!(matches!(
            wrong_protocol,
            Err(ReplayError::NotEnabled { index: 0, .. })
        ));
        let no_such_server = replay(
            Protocol::Naive,
            sizes,
            &["server-3 check sue → team-A".to_string()],
        );
        assert!(no_such_server.is_err());
    }

    #[test]
    fn invalid_hand_made_sizes_are_errors_not_panics() {
        let sizes = Sizes {
            servers: 9,
            users: 1,
            teams: 1,
            requests: 1,
        };
        let verdict = check(Protocol::Naive, sizes, &CheckOptions::default());
        let Verdict::Inconclusive { reason, .. } = verdict else {
            panic!("nothing can be checked")
        };
        assert_eq!(
            reason,
            "nothing was checked: servers = 9 is above the limit of 8"
        );
        let error = replay(Protocol::Naive, sizes, &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot replay: servers = 9 is above the limit of 8"
        );
    }

    /// Packing is per protocol: at 8,8,4,2 the global log's state is too wide, naive's is not.
    #[test]
    fn a_model_too_wide_to_pack_is_not_checked() {
        let verdict = check(
            Protocol::EventSourced,
            sizes(8, 8, 4, 2),
            &CheckOptions::default(),
        );
        let Verdict::Inconclusive { reason, stats, .. } = verdict else {
            panic!("nothing can be checked")
        };
        assert_eq!(
            reason,
            "nothing was checked: one state of the event-sourced protocol at these sizes needs \
             148 bits, more than the 127 a packed state holds; use fewer servers, users, teams or \
             requests"
        );
        assert_eq!(stats, Stats::default());
        let options = CheckOptions {
            max_states: Some(1_000),
            ..CheckOptions::default()
        };
        let naive = check(Protocol::Naive, sizes(8, 8, 4, 2), &options);
        let Verdict::Inconclusive { reason, .. } = naive else {
            panic!("the search stops at the state limit")
        };
        assert!(
            reason.starts_with("stopped by the state limit (1,000) after "),
            "{reason}"
        );
    }

    /// Each builder method sets the option it names: the same checks as the struct's fields.
    #[test]
    fn the_builder_sets_each_option() {
        let at = sizes(2, 2, 2, 2);
        let reason = |options: CheckOptions| match check(Protocol::EventSourced, at, &options) {
            Verdict::Inconclusive { reason, .. } => reason,
            verdict => panic!("{verdict:?}"),
        };
        assert_eq!(
            reason(CheckOptions::default().max_states(10)),
            "stopped by the state limit (10) after 10 distinct states (49 generated); every \
             state up to 1 step deep was found, deeper ones were not"
        );
        let timeout = reason(CheckOptions::default().timeout(Duration::ZERO));
        assert!(timeout.starts_with("stopped by the timeout (0.0 s) after 1 distinct state"));
        let stop = Arc::new(AtomicBool::new(true));
        let stopped = reason(CheckOptions::default().stop(stop));
        assert!(stopped.starts_with("stopped by the stop request after 1 distinct state"));
        let progress = Arc::new(Progress::new());
        let options = CheckOptions::default()
            .progress(progress.clone())
            .threads(2)
            .symmetry(true)
            .leaves(true);
        let verdict = check(Protocol::EventSourced, at, &options);
        let Verdict::Holds { scope, stats, .. } = &verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(
            scope,
            "all interleavings of 2 servers × 2 users × 2 teams × 2 requests each (joins and \
             leaves) up to symmetry of servers, users and teams"
        );
        assert_eq!(stats.unique_states, Some(477));
        assert_eq!(Some(progress.unique_states()), stats.unique_states);
    }

    #[test]
    fn figures_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_799_380), "1,799,380");
    }
}
