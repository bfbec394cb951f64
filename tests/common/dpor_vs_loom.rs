//! The DPOR engine against loom on one service and workload: the same verdict, never more
//! executions, the same final memberships reached and, for a violation, a counterexample as
//! short. Shared by the test files that compare them (`#[path]`-included).

use joincheck::check::dpor::{self, DporOptions, Next};
use joincheck::check::loom::{self as loom_engine, LoomOptions};
use joincheck::check::{run_once, Scenario};
use joincheck::runtime::{Dpor, Loom};
use joincheck::service::JoinService;
use joincheck::store::Recording;
use joincheck_models::domain::{TeamId, UserId};
use joincheck_models::verdict::Verdict;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

type Memberships = BTreeSet<Vec<(TeamId, UserId)>>;

/// Whether the verdict holds, is violated or is inconclusive, in one word.
pub fn outcome(verdict: &Verdict) -> &'static str {
    match verdict {
        Verdict::Holds { .. } => "holds",
        Verdict::Violated { .. } => "violated",
        Verdict::Inconclusive { .. } => "inconclusive",
    }
}

/// Runs both engines on `service` and `scenario`, asserts that they agree (`at` names the case
/// in a failure) and returns DPOR's executions.
#[track_caller]
pub fn agree<S>(service: S, scenario: &Scenario, at: &str) -> u64
where
    S: JoinService<Loom> + JoinService<Dpor> + Clone + Send + Sync + 'static,
{
    let dpor = dpor::check(service.clone(), scenario, &DporOptions::default()).unwrap();
    let loom = loom_engine::check(service.clone(), scenario, &LoomOptions::default()).unwrap();
    let mut dpor_ends = Memberships::new();
    let explored = dpor::explore(&service, scenario, &DporOptions::default(), |run, _| {
        dpor_ends.insert(run.membership.clone());
        Next::Continue
    });
    assert_eq!(explored.stopped, None, "{at}");
    let loom_ends = Arc::new(Mutex::new(Memberships::new()));
    let ends = Arc::clone(&loom_ends);
    let on = scenario.clone();
    loom::model(move || {
        let run = run_once::<Loom, S>(&service, &on, Recording::On);
        ends.lock().unwrap().insert(run.membership);
    });
    let loom_ends = loom_ends.lock().unwrap().clone();
    assert_eq!(outcome(&dpor), outcome(&loom), "{at}");
    assert_ne!(outcome(&dpor), "inconclusive", "{at}");
    let executions = |verdict: &Verdict| verdict.stats().iterations.unwrap();
    let (dpor_runs, loom_runs) = (executions(&dpor), executions(&loom));
    assert!(
        dpor_runs <= loom_runs,
        "{at}: {dpor_runs} DPOR executions, {loom_runs} loom's"
    );
    assert_eq!(dpor_ends, loom_ends, "{at}");
    if let (Some(d), Some(l)) = (dpor.counterexample(), loom.counterexample()) {
        assert_eq!(
            d.steps.len(),
            l.steps.len(),
            "{at}: the shortest counterexample"
        );
    }
    dpor_runs
}
