//! Conformance reports pinned exactly: the path a history matches, what the model allowed where a
//! history diverges (each step once) and how that reads, the figures a run adds up, and why a
//! model path did not replay, in words.

use joincheck::check::conform::{
    self, builtin_model, match_history, replay_on_implementation, NotModelled, ReplayMismatch,
};
use joincheck::check::proptest::ProptestOptions;
use joincheck::check::shuttle::ShuttleOptions;
use joincheck::check::{Limits, Scenario};
use joincheck::runtime::Runtime;
use joincheck::service::{EventSourced, JoinService, Naive, UniqueMembership};
use joincheck::store::Recording;
use joincheck_models::domain::{Request, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::verdict::Replay;
use joincheck_models::{CheckOptions, Protocol, ProtocolModel, Sizes};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// The naive model of the article's race, and its shortest counterexample's path and steps.
fn naive_race() -> (ProtocolModel, Vec<String>, Vec<Step>) {
    let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    let verdict = joincheck_models::check(Protocol::Naive, sizes, &CheckOptions::default());
    let found = verdict.counterexample().expect("naive breaks");
    let Replay::ModelPath { actions, .. } = &found.replay else {
        panic!("a model counterexample replays from its path");
    };
    let model = ProtocolModel::new(Protocol::Naive, sizes);
    (model, actions.clone(), found.steps.clone())
}

#[test]
fn a_history_of_the_model_matches_the_path_that_records_it() {
    let (model, actions, steps) = naive_race();
    assert_eq!(match_history(&model, &steps, "the race"), Ok(actions));
    assert_eq!(match_history(&model, &[], "nothing"), Ok(Vec::new()));
}

fn check_step(server: u8) -> Step {
    Step {
        server: ServerId(server),
        operation: Operation::FindTeamOf { user: SUE },
        result: OpResult::Found(None),
        membership_after: Vec::new(),
    }
}

fn push_step(server: u8, team: TeamId, after: &[(TeamId, UserId)]) -> Step {
    Step {
        server: ServerId(server),
        operation: Operation::PushMember { team, user: SUE },
        result: OpResult::Pushed,
        membership_after: after.to_vec(),
    }
}

/// After server-1's check the model does not know which team it will push to: both states are
/// kept, and where the history leaves the model, each allowed step is listed once.
#[test]
fn a_divergence_lists_each_allowed_step_once_and_marks_the_step_taken() {
    let (model, _, _) = naive_race();
    let history = [check_step(0), push_step(1, B, &[(B, SUE)])];
    let divergence = match_history(&model, &history, "by hand").unwrap_err();
    assert_eq!(divergence.index, 1);
    assert_eq!(divergence.history, history);
    assert_eq!(divergence.origin, "by hand");
    // server-2's checks for team-A and team-B record the same step: it is listed once.
    assert_eq!(
        divergence.to_string(),
        "NOT CONFORMING  the model cannot take step 2 (by hand)\n\
        \x20  1  server-1  is sue on a team?  →  no\n\
        \x20  2  server-2  push sue → team-B  →  ok   ✗\n\
         the model allowed instead:\n\
        \x20 server-1 act  (push sue → team-A → ok)\n\
        \x20 server-2 check sue → team-A  (is sue on a team? → no)\n\
        \x20 server-1 act  (push sue → team-B → ok)\n"
    );
    assert_eq!(
        divergence.allowed[1],
        ("server-2 check sue → team-A".to_string(), check_step(1))
    );
}

/// A step after every modelled request is done: the model allows nothing.
#[test]
fn a_step_after_the_last_request_is_allowed_nothing() {
    let (model, _, mut steps) = naive_race();
    steps.push(push_step(0, A, &[(A, SUE), (B, SUE)]));
    let divergence = match_history(&model, &steps, "one push too many").unwrap_err();
    assert_eq!(divergence.index, 4);
    assert_eq!(divergence.allowed, []);
    assert!(
        divergence
            .to_string()
            .ends_with("the model allowed instead:\n  nothing: every modelled request is done\n"),
        "{divergence}"
    );
}

#[test]
fn the_builtin_models_refuse_members_at_the_start_and_leaves() {
    let join = Request::Join { user: SUE, team: A };
    let leave = Request::Leave { user: SUE, team: A };
    let members = Scenario::new(2, 2, vec![vec![join]], vec![(B, UserId(1))]).unwrap();
    let refused = builtin_model(Protocol::Naive, &members).unwrap_err();
    assert_eq!(refused, NotModelled("it starts with members".to_string()));
    assert_eq!(
        refused.to_string(),
        "the built-in models cannot follow this scenario: it starts with members"
    );
    let leaves = Scenario::new(1, 1, vec![vec![join, leave]], Vec::new()).unwrap();
    assert_eq!(
        builtin_model(Protocol::Naive, &leaves).unwrap_err(),
        NotModelled("it has leave requests".to_string())
    );
    let model = builtin_model(Protocol::Naive, &Scenario::contended(3, 2, 2).unwrap()).unwrap();
    assert_eq!(model.sizes(), Sizes::new(3, 2, 2, 2).unwrap());
}

/// The figures of a conformance run add up over histories and workloads.
#[test]
fn a_conformance_run_counts_histories_steps_and_violations() {
    let scenario = Scenario::article();
    let options = ShuttleOptions::default().iterations(40);
    let model = builtin_model(Protocol::Naive, &scenario).unwrap();
    let report = conform::shuttle(Naive, model, &scenario, &options);
    assert_eq!((report.divergence, report.incomplete), (None, None));
    assert_eq!(
        (report.histories, report.steps, report.violations),
        (40, 135, 15)
    );
    let options = ProptestOptions::default().cases(6);
    let report = conform::workloads(Naive, Protocol::Naive, &options);
    assert_eq!(
        (report.histories, report.steps, report.violations),
        (300, 2377, 33)
    );
}

#[test]
fn a_stopped_conformance_run_says_how_far_it_got() {
    let scenario = Scenario::article();
    let stop = Limits::default().stop(Arc::new(AtomicBool::new(true)));
    let options = ShuttleOptions::default()
        .iterations(100)
        .limits(stop.clone());
    let model = builtin_model(Protocol::Naive, &scenario).unwrap();
    let report = conform::shuttle(Naive, model, &scenario, &options);
    assert_eq!(
        report.incomplete.as_deref(),
        Some("stopped by the stop request after 0 of 100 shuttle schedules (PCT depth 3, seed 42)")
    );
    assert_eq!(report.histories, 0);
    let model = builtin_model(Protocol::Naive, &scenario).unwrap();
    let report = conform::stress(&Naive, &model, &scenario, 10, &stop);
    assert_eq!(
        report.incomplete.as_deref(),
        Some("stopped by the stop request after 0 of 10 runs on real threads")
    );
    let options = ProptestOptions::default().cases(4).limits(stop);
    let report = conform::workloads(Naive, Protocol::Naive, &options);
    assert_eq!(
        report.incomplete.as_deref(),
        Some("stopped by the stop request after 0 of 4 generated workloads")
    );
}

/// Why a model path did not replay, in words.
#[test]
fn a_path_that_does_not_replay_says_why() {
    let (model, _, _) = naive_race();
    // The unique index does one operation per request: server-2 waits for server-1's push,
    // which never comes.
    let path = [
        "server-1 check sue → team-A",
        "server-1 act",
        "server-2 check sue → team-B",
    ]
    .map(String::from);
    let mismatch = replay_on_implementation(&UniqueMembership, &model, &path).unwrap_err();
    assert_eq!(
        mismatch.to_string(),
        "the order was not followed: operation 2 was to be server-1's, but server-1 had no \
         operation left"
    );
    let es = ProtocolModel::new(Protocol::EventSourced, Sizes::new(2, 1, 2, 1).unwrap());
    let path = ["server-1 read sue → team-A", "server-1 append"].map(String::from);
    let mismatch = replay_on_implementation(&Naive, &es, &path).unwrap_err();
    assert_eq!(
        mismatch.to_string(),
        "step 1: the model records server-1 read the log → v0, 0 events, the implementation \
         server-1 is sue on a team? → no"
    );
    let mismatch = replay_on_implementation(&Naive, &model, &["nonsense".to_string()]).unwrap_err();
    assert_eq!(
        mismatch.to_string(),
        "not a path of the model: step 1: `nonsense` is not an action (expected e.g. `server-1 \
         check sue → team-A` or `server-2 append`)"
    );
    let mismatch = replay_on_implementation(&Naive, &model, &[]).unwrap_err();
    assert_eq!(*mismatch, ReplayMismatch::Empty);
    assert_eq!(mismatch.to_string(), "the path starts no request");
    // A path that stops half-way replays: the implementation finishes its request after it.
    let half = replay_on_implementation(&EventSourced::GLOBAL, &es, &path[..1]).unwrap();
    assert_eq!(half.history[..1], es.replay(&path[..1]).unwrap());
    assert_eq!(half.history.len(), 2);
    assert_eq!(half.membership, [(A, SUE)]);
}

/// A history that leaves the model half-way counts the steps it matched before it diverged.
#[test]
fn a_diverging_run_counts_the_steps_matched_before_it() {
    let join = |team| Request::Join { user: SUE, team };
    let one_request = Scenario::new(1, 2, vec![vec![join(A)]], Vec::new()).unwrap();
    let two_requests = Scenario::new(1, 2, vec![vec![join(A), join(B)]], Vec::new()).unwrap();
    let model = builtin_model(Protocol::Naive, &one_request).unwrap();
    let options = ShuttleOptions::default().iterations(10);
    let report = conform::shuttle(Naive, model, &two_requests, &options);
    let divergence = report
        .divergence
        .expect("the model has one request, the run two");
    // check, push, then the second request's check: the model has nothing left to do.
    assert_eq!((divergence.index, divergence.allowed.len()), (2, 0));
    assert_eq!(
        (report.histories, report.steps, report.violations),
        (1, 2, 0)
    );
    let model = builtin_model(Protocol::Naive, &one_request).unwrap();
    let report = conform::stress(&Naive, &model, &two_requests, 10, &Limits::default());
    assert_eq!((report.histories, report.steps), (1, 2));
}

/// Naive, with a stop requested as soon as a run opens its database: the stop comes while a
/// schedule runs, after the harness last looked.
#[derive(Clone)]
struct StopsWhenRun(Arc<AtomicBool>);

impl<R: Runtime> JoinService<R> for StopsWhenRun {
    type Database = <Naive as JoinService<R>>::Database;
    type Server = <Naive as JoinService<R>>::Server;

    fn name(&self) -> String {
        "naive".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        self.0.store(true, Ordering::Relaxed);
        JoinService::<R>::open_database(&Naive, initial, recording)
    }

    fn start_server(&self, database: &Arc<Self::Database>, id: ServerId) -> Self::Server {
        JoinService::<R>::start_server(&Naive, database, id)
    }
}

/// A stop that comes once every schedule asked for has run, or once a divergence has ended the
/// run, takes nothing away: the report is complete.
#[test]
fn a_stop_after_the_work_is_done_leaves_the_report_complete() {
    let stop = Arc::new(AtomicBool::new(false));
    let options = ShuttleOptions::default()
        .iterations(1)
        .limits(Limits::default().stop(stop.clone()));
    let article = Scenario::article();
    let model = builtin_model(Protocol::Naive, &article).unwrap();
    let report = conform::shuttle(StopsWhenRun(stop.clone()), model, &article, &options);
    assert_eq!((report.histories, report.incomplete), (1, None));

    let join = |team| Request::Join { user: SUE, team };
    let one_request = Scenario::new(1, 2, vec![vec![join(A)]], Vec::new()).unwrap();
    let two_requests = Scenario::new(1, 2, vec![vec![join(A), join(B)]], Vec::new()).unwrap();
    let model = builtin_model(Protocol::Naive, &one_request).unwrap();
    stop.store(false, Ordering::Relaxed);
    let options = options.iterations(10);
    let report = conform::shuttle(StopsWhenRun(stop), model, &two_requests, &options);
    assert_eq!(report.divergence.map(|d| d.index), Some(2));
    assert_eq!((report.histories, report.incomplete), (1, None));
}
