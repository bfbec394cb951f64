//! `event-sourced-per-team`, the plausible mistake: the read covers the whole log, the append
//! only its team's stream. Every engine refutes the real service with the article's race, its
//! histories are paths of the model, and the command says so and exits 0.

use joincheck::check::conform::{self, builtin_model, replay_on_implementation};
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::Scenario;
use joincheck::runtime::Std;
use joincheck::service::EventSourced;
use joincheck::store::{Conflict, Database, EventStore, Recording};
use joincheck_models::domain::{Event, JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step, StreamKey};
use joincheck_models::verdict::{Counterexample, Replay, Verdict};
use joincheck_models::{CheckOptions, Protocol, ProtocolModel, Sizes};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// Both servers read sue on no team; `first` then appends to its team's stream at v0, and the
/// other server to the other team's stream at v0: neither moved the other's version.
fn race(first: ServerId) -> Vec<Step> {
    let team_of = |server: ServerId| TeamId(server.0);
    let second = ServerId(1 - first.0);
    let read = |server| Step {
        server,
        operation: Operation::ReadAll,
        result: OpResult::ReadAll {
            events: vec![],
            versions: vec![],
        },
        membership_after: vec![],
    };
    let append = |server| Step {
        server,
        operation: Operation::Append {
            stream: StreamKey::Team(team_of(server)),
            expected: 0,
            events: vec![Event::Joined {
                user: SUE,
                team: team_of(server),
            }],
        },
        result: OpResult::Appended { version: 1 },
        membership_after: vec![(team_of(server), SUE)],
    };
    let mut last = append(second);
    last.membership_after = vec![(A, SUE), (B, SUE)];
    vec![read(ServerId(0)), read(ServerId(1)), append(first), last]
}

/// The store keeps no order across team streams: a read returns them in team order, each with
/// its version, and an append conflicts only with its own team's stream, saying at which version.
#[test]
fn team_streams_are_read_in_team_order_and_guard_only_their_team() {
    let store = Arc::new(EventStore::<Std>::with_members(&[], Recording::On));
    let (one, two) = (store.connect(ServerId(0)), store.connect(ServerId(1)));
    let joined = |user, team| vec![Event::Joined { user, team }];
    let john = UserId(1);
    assert_eq!(one.read_all(), (vec![], vec![]));
    assert_eq!(one.append(StreamKey::Team(B), 0, joined(SUE, B)), Ok(1));
    assert_eq!(two.append(StreamKey::Team(A), 0, joined(john, A)), Ok(1));
    let refused = two.append(StreamKey::Team(A), 0, joined(SUE, A));
    assert_eq!(
        refused,
        Err(Conflict {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(
        refused.map_err(|conflict| conflict.to_string()),
        Err("expected v0, stream is at v1".to_string())
    );
    let all = [joined(john, A), joined(SUE, B)].concat();
    assert_eq!(one.read_all(), (all, vec![(A, 1), (B, 1)]));
    assert_eq!(
        store.history()[4].result.to_string(),
        "2 events; team-A at v1, team-B at v1"
    );
}

fn violated(verdict: Verdict) -> Counterexample {
    match verdict {
        Verdict::Violated { counterexample, .. } => *counterexample,
        other => panic!("expected a violation, got {other:?}"),
    }
}

/// loom explores every interleaving of the article's race; the shortest it saw is execution 4,
/// where server-2 appends first.
#[test]
fn loom_refutes_the_article_race_in_four_steps() {
    let verdict = loom::check(
        EventSourced::PER_TEAM,
        &Scenario::article(),
        &LoomOptions::default(),
    )
    .unwrap();
    assert_eq!(verdict.stats().iterations, Some(30));
    let found = violated(verdict);
    assert_eq!(found.steps, race(ServerId(1)));
    assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
    assert_eq!(found.replay, Replay::LoomExecution { iteration: 4 });
}

#[test]
fn shuttle_and_proptest_refute_it_by_default() {
    let found = violated(shuttle::check(
        EventSourced::PER_TEAM,
        &Scenario::article(),
        &ShuttleOptions::default(),
    ));
    assert_eq!(found.steps, race(ServerId(0)));
    let found = violated(proptest::check(
        EventSourced::PER_TEAM,
        &ProptestOptions::default(),
    ));
    assert_eq!(
        found.parameters,
        "server-1: join sue → team-A; server-2: join sue → team-B"
    );
    assert_eq!(found.steps, race(ServerId(1)));
}

/// Every shuttle history (random and PCT) is a path of the model, including the broken ones;
/// so are the histories of generated join workloads.
#[test]
fn the_real_service_conforms_to_its_model() {
    let scenarios = [Scenario::article(), Scenario::contended(3, 2, 2).unwrap()];
    for scenario in &scenarios {
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let options = ShuttleOptions::default()
                .strategy(strategy)
                .seed(7)
                .iterations(100);
            let model = builtin_model(Protocol::EventSourcedPerTeam, scenario).unwrap();
            let report = conform::shuttle(EventSourced::PER_TEAM, model, scenario, &options);
            assert_eq!(report.divergence, None, "{scenario}");
            assert_eq!(report.incomplete, None, "{scenario}");
            assert_eq!(report.histories, 100);
            assert!(report.violations > 0, "{scenario}: no broken history");
        }
    }
    let options = ProptestOptions::default().cases(16);
    let report = conform::workloads(
        EventSourced::PER_TEAM,
        Protocol::EventSourcedPerTeam,
        &options,
    );
    assert_eq!(report.divergence, None);
    assert_eq!(report.histories, 16 * 50);
    assert!(report.violations > 0);
}

/// The model's shortest counterexample, run on the real service in the model's order, is the
/// same history, and a server that reads after a join refuses.
#[test]
fn the_models_counterexample_breaks_the_real_service() {
    let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    let verdict = joincheck_models::check(
        Protocol::EventSourcedPerTeam,
        sizes,
        &CheckOptions::default(),
    );
    let found = violated(verdict);
    assert_eq!(found.steps, race(ServerId(0)));
    let Replay::ModelPath { actions, .. } = &found.replay else {
        panic!("not a model path: {:?}", found.replay);
    };
    let model = ProtocolModel::new(Protocol::EventSourcedPerTeam, sizes);
    let execution = replay_on_implementation(&EventSourced::PER_TEAM, &model, actions).unwrap();
    assert_eq!(execution.history, found.steps);
    let path: Vec<String> = [
        "server-1 read sue → team-A",
        "server-1 append",
        "server-2 read sue → team-B",
    ]
    .map(String::from)
    .to_vec();
    let execution = replay_on_implementation(&EventSourced::PER_TEAM, &model, &path).unwrap();
    assert_eq!(
        execution.history[2].result.to_string(),
        "1 event; team-A at v1"
    );
    assert_eq!(
        execution.answers[1],
        vec![Err(JoinError::AlreadyOnTeam { team: A })]
    );
}

fn joincheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_joincheck"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("SHUTTLE_RANDOM_SEED")
        .output()
        .expect("joincheck runs")
}

/// The trace `docs/catalogue.md` shows.
const MODEL_TRACE: &str = "\
event-sourced-per-team · exhaustive model check · 2 servers, 1 user, 2 teams, 1 request each
VIOLATED  a user is on at most one team — shortest counterexample, 4 steps
   1  server-1  read    read every team's stream                                     0 events
   2  server-2  read    read every team's stream                                     0 events
   3  server-1  append  append Joined(sue, team-A) to team-A's stream expecting v0   ok (now v1), sue ∈ {team-A}
   4  server-2  append  append Joined(sue, team-B) to team-B's stream expecting v0   ok (now v1), sue ∈ {team-A, team-B}   ✗
broken: sue ∈ {team-A, team-B}
why: server-2 acted at step 4 on what it read at step 2; step 3 made that read stale.
";

/// `check --protocol event-sourced-per-team` runs every engine, each finds the violation it
/// expects, and the command exits 0.
#[test]
fn the_command_expects_the_violation_and_exits_0() {
    let args = [
        "check",
        "--protocol",
        "event-sourced-per-team",
        "--database",
        "memory",
    ];
    let output = joincheck(&args);
    let out = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{out}");
    for (database, engine) in [
        ("-", "model"),
        ("memory", "loom"),
        ("memory", "dpor"),
        ("memory", "shuttle"),
        ("memory", "proptest"),
    ] {
        let row =
            format!("event-sourced-per-team  {database:8}  {engine:8}  violated      violated");
        assert!(out.contains(&row), "{row}\n{out}");
    }
    assert!(out.contains(MODEL_TRACE), "{out}");
    assert!(out.contains(
        "all 5 verdicts as expected (event-sourced-per-team is event sourcing whose expected \
         version does not cover the user: its violation is expected)"
    ));
}

/// The saved model counterexample replays to the same trace.
#[test]
fn its_counterexample_file_replays() {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "joincheck-catalogue-per-team-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().unwrap();
    let args = ["check", "--protocol", "event-sourced-per-team"];
    let output = joincheck(&[&args[..], &["--engine", "model", "--out", dir_arg]].concat());
    assert_eq!(output.status.code(), Some(0));
    let file = dir.join("event-sourced-per-team-model.json");
    let saved = std::fs::read_to_string(dir.join("event-sourced-per-team-model.txt")).unwrap();
    assert!(saved.starts_with(MODEL_TRACE), "{saved}");
    let replayed = joincheck(&["replay", file.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&replayed.stdout);
    assert_eq!(replayed.status.code(), Some(0), "{out}");
    assert_eq!(out, saved);
    let _ = std::fs::remove_dir_all(&dir);
}
