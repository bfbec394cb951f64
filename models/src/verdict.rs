//! What a check concluded, and never more than was checked.
//!
//! Every engine (model, loom, shuttle, proptest) returns a [`Verdict`]. A run that stopped early,
//! for a time, state, depth or iteration limit, is [`Verdict::Inconclusive`], never a proof.

use crate::domain::OnSeveralTeams;
use crate::operation::Step;
use std::fmt;

/// The engine that produced a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Exhaustive state-space exploration of a protocol model.
    Model,
    /// loom: every interleaving of the real code (optionally preemption-bounded).
    Loom,
    /// shuttle: randomized or PCT schedules of the real code. Evidence, not proof.
    Shuttle,
    /// proptest workloads, each run under shuttle. Evidence, not proof.
    Proptest,
    /// Real std threads under a stress workload. Evidence, not proof.
    Stress,
    /// Dynamic partial-order reduction: one interleaving of the real code per class of
    /// equivalent ones.
    Dpor,
}

impl Engine {
    /// The engine's lower-case name, as the CLI takes it.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Model => "model",
            Engine::Loom => "loom",
            Engine::Shuttle => "shuttle",
            Engine::Proptest => "proptest",
            Engine::Stress => "stress",
            Engine::Dpor => "dpor",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Figures about a run. Fields an engine does not measure are `None`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Distinct states reached (model engine).
    pub unique_states: Option<u64>,
    /// States generated, duplicates included (model engine).
    pub generated_states: Option<u64>,
    /// Longest path explored, in steps.
    pub max_depth: Option<u64>,
    /// Executions or schedules run (loom, shuttle, proptest, stress).
    pub iterations: Option<u64>,
    /// Wall time.
    pub seconds: f64,
}

/// How one step sequence breaks the invariant, in a form every renderer understands.
#[derive(Clone, Debug, PartialEq)]
pub struct Counterexample {
    /// The protocol checked (`naive`, `event-sourced`, …).
    pub protocol: String,
    /// The configuration, in words: "2 servers, 1 user, 2 teams, 1 request each".
    pub parameters: String,
    /// The engine that found it.
    pub engine: Engine,
    /// The steps, in the order they took effect.
    pub steps: Vec<Step>,
    /// The broken invariant after the last step.
    pub violation: Violation,
    /// Everything needed to reproduce the run.
    pub replay: Replay,
}

/// The invariant every check judges: the one the article is about.
pub const AT_MOST_ONE_TEAM: &str = "a user is on at most one team";

/// Which invariant a counterexample breaks, and how, right after its last step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A user is on several teams: [`AT_MOST_ONE_TEAM`] is broken.
    OnSeveralTeams(OnSeveralTeams),
    /// An invariant the user added to a check is broken.
    Invariant {
        /// The invariant's name, as the verdict and the trace print it.
        name: String,
        /// What is wrong, in the invariant's words: `team-A has 3 members`.
        detail: String,
    },
}

impl Violation {
    /// The broken invariant's name.
    pub fn invariant(&self) -> &str {
        match self {
            Violation::OnSeveralTeams(_) => AT_MOST_ONE_TEAM,
            Violation::Invariant { name, .. } => name,
        }
    }
}

impl From<OnSeveralTeams> for Violation {
    fn from(violation: OnSeveralTeams) -> Self {
        Violation::OnSeveralTeams(violation)
    }
}

/// What is wrong: `sue ∈ {team-A, team-B}`, or an added invariant's own words.
impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::OnSeveralTeams(violation) => write!(f, "{violation}"),
            Violation::Invariant { detail, .. } => f.write_str(detail),
        }
    }
}

/// What reproduces a counterexample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replay {
    /// A path of model actions from the initial state, by their display names.
    ModelPath {
        /// The servers, users, teams and requests of the model.
        sizes: [u8; 4],
        /// The action at each step.
        actions: Vec<String>,
    },
    /// A shuttle schedule of the real implementation.
    ShuttleSchedule {
        /// shuttle's encoded schedule.
        schedule: String,
        /// The scheduler and seed that found it, in words.
        found_by: String,
    },
    /// A loom execution; loom cannot print its interleaving, but the history is exact.
    LoomExecution {
        /// The iteration at which it failed.
        iteration: u64,
    },
    /// A DPOR execution of the real implementation: the thread that ran each event.
    DporSchedule {
        /// The threads by number (`1 2 2 1`: the servers from 1, then the environment).
        schedule: String,
    },
    /// A run on real threads: the OS chose the interleaving, so only the history replays it.
    StressRun {
        /// Which run of the stress test it was.
        run: u64,
    },
}

/// The outcome of a check.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Everything in `scope` was explored and the invariant held throughout.
    Holds {
        /// The engine that checked.
        engine: Engine,
        /// Exactly what was covered, e.g. "all interleavings of 3 servers × 3 users × …".
        scope: String,
        /// The run's figures.
        stats: Stats,
    },
    /// The invariant broke; here is how.
    Violated {
        /// The engine that found it.
        engine: Engine,
        /// The steps that break it.
        counterexample: Box<Counterexample>,
        /// The run's figures.
        stats: Stats,
    },
    /// The check stopped before covering its scope; nothing is proved.
    Inconclusive {
        /// The engine that stopped.
        engine: Engine,
        /// Why it stopped, and what was covered until then.
        reason: String,
        /// The run's figures until it stopped.
        stats: Stats,
    },
}

impl Verdict {
    /// `holds`, `violated` or `inconclusive`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Holds { .. } => "holds",
            Verdict::Violated { .. } => "violated",
            Verdict::Inconclusive { .. } => "inconclusive",
        }
    }

    /// The engine that produced the verdict.
    pub fn engine(&self) -> Engine {
        match self {
            Verdict::Holds { engine, .. }
            | Verdict::Violated { engine, .. }
            | Verdict::Inconclusive { engine, .. } => *engine,
        }
    }

    /// The run's figures.
    pub fn stats(&self) -> &Stats {
        match self {
            Verdict::Holds { stats, .. }
            | Verdict::Violated { stats, .. }
            | Verdict::Inconclusive { stats, .. } => stats,
        }
    }

    /// The counterexample, when violated.
    pub fn counterexample(&self) -> Option<&Counterexample> {
        match self {
            Verdict::Violated { counterexample, .. } => Some(counterexample),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{check, CheckOptions};
    use crate::domain::{TeamId, UserId};
    use crate::reference::sizes;
    use crate::Protocol;

    /// Engines print as the CLI takes them, and a violation names the invariant it breaks and
    /// says what is wrong: the article's invariant or one a user added.
    #[test]
    fn verdicts_name_their_engine_and_their_invariant() {
        let engines = [
            Engine::Model,
            Engine::Loom,
            Engine::Shuttle,
            Engine::Proptest,
            Engine::Stress,
        ];
        let names: Vec<String> = engines.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["model", "loom", "shuttle", "proptest", "stress"]);
        let twice = Violation::from(OnSeveralTeams {
            user: UserId(0),
            teams: vec![TeamId(0), TeamId(1)],
        });
        assert_eq!(twice.invariant(), AT_MOST_ONE_TEAM);
        assert_eq!(twice.to_string(), "sue ∈ {team-A, team-B}");
        let added = Violation::Invariant {
            name: "at most two members".to_string(),
            detail: "team-A has 3 members".to_string(),
        };
        assert_eq!(added.invariant(), "at most two members");
        assert_eq!(added.to_string(), "team-A has 3 members");
        let options = CheckOptions::default();
        let broken = check(Protocol::Naive, sizes(2, 1, 2, 1), &options);
        assert_eq!(
            (broken.kind(), broken.engine()),
            ("violated", Engine::Model)
        );
        assert_eq!(broken.counterexample().unwrap().violation, twice);
        let safe = check(Protocol::Naive, sizes(1, 1, 2, 1), &options);
        assert_eq!((safe.kind(), safe.engine()), ("holds", Engine::Model));
        assert_eq!(safe.counterexample(), None);
    }
}
