//! The one-step fixes of the catalogue, `unique-membership` and `user-document`, on the real
//! code: their stores record what the models' steps record, and every engine finds that they
//! hold, loom with exact execution counts.

use joincheck::check::conform::{self, builtin_model, replay_on_implementation};
use joincheck::check::loom::{self, LoomOptions};
use joincheck::check::proptest::{self, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions, Strategy};
use joincheck::check::Scenario;
use joincheck::runtime::Std;
use joincheck::service::{JoinService, Server, UniqueMembership, UserDocument};
use joincheck::store::{Database, MembershipsCollection, Recording, UserDocuments};
use joincheck::trace::{self, CounterexampleFile};
use joincheck_models::domain::{JoinError, OnSeveralTeams, Request, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::verdict::{Counterexample, Engine, Replay, Verdict};
use joincheck_models::{Protocol, ProtocolModel, Sizes};
use std::process::Command;
use std::sync::Arc;

const SUE: UserId = UserId(0);
const JOHN: UserId = UserId(1);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);
const S1: ServerId = ServerId(0);
const S2: ServerId = ServerId(1);

/// Holds, with the exact number of loom executions: fewer would mean part of the scope was
/// skipped.
fn assert_holds(verdict: &Verdict, executions: u64, scope_starts: &str) {
    let Verdict::Holds { scope, stats, .. } = verdict else {
        panic!("expected holds, got {verdict:?}");
    };
    assert!(scope.starts_with(scope_starts), "{scope}");
    assert_eq!(stats.iterations, Some(executions), "{scope}");
}

#[test]
fn loom_proves_both_on_the_articles_race_and_on_three_servers() {
    let article = Scenario::article();
    let three = Scenario::contended(3, 1, 2).unwrap();
    let options = LoomOptions::default();
    let scope = "all interleavings of server-1: join sue → team-A; server-2: join sue → team-B";
    assert_holds(
        &loom::check(UniqueMembership, &article, &options).unwrap(),
        9,
        scope,
    );
    assert_holds(
        &loom::check(UserDocument, &article, &options).unwrap(),
        9,
        scope,
    );
    let scope = "all interleavings of server-1: join sue → team-A; server-2: join sue → team-B; \
                 server-3: join sue → team-A";
    assert_holds(
        &loom::check(UniqueMembership, &three, &options).unwrap(),
        414,
        scope,
    );
    assert_holds(
        &loom::check(UserDocument, &three, &options).unwrap(),
        414,
        scope,
    );
}

/// Every scenario of two servers with one request each (joins and leaves over two users and two
/// teams, from an empty database or with sue on team-A), every interleaving.
#[test]
fn loom_proves_both_on_every_two_server_scenario_with_leaves() {
    let mut requests = Vec::new();
    for user in [SUE, JOHN] {
        for team in [A, B] {
            requests.push(Request::Join { user, team });
            requests.push(Request::Leave { user, team });
        }
    }
    let mut scenarios = 0;
    for first in &requests {
        for second in &requests {
            for initial in [vec![], vec![(A, SUE)]] {
                let servers = vec![vec![*first], vec![*second]];
                let scenario = Scenario::new(2, 2, servers, initial).unwrap();
                let options = LoomOptions::default();
                for verdict in [
                    loom::check(UniqueMembership, &scenario, &options).unwrap(),
                    loom::check(UserDocument, &scenario, &options).unwrap(),
                ] {
                    assert_eq!(verdict.kind(), "holds", "{scenario}: {verdict:?}");
                }
                scenarios += 1;
            }
        }
    }
    assert_eq!(scenarios, 128);
}

#[test]
fn shuttle_finds_no_violation_among_eight_servers_and_says_it_is_evidence() {
    let scenario = Scenario::contended(8, 3, 3).unwrap();
    for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
        let options = ShuttleOptions::default()
            .strategy(strategy)
            .seed(7)
            .iterations(300);
        for verdict in [
            shuttle::check(UniqueMembership, &scenario, &options),
            shuttle::check(UserDocument, &scenario, &options),
        ] {
            let Verdict::Holds { scope, stats, .. } = &verdict else {
                panic!("expected holds, got {verdict:?}");
            };
            assert!(
                scope.starts_with("no violation in 300 schedules"),
                "{scope}"
            );
            assert!(scope.ends_with("evidence, not proof"), "{scope}");
            assert_eq!(stats.iterations, Some(300));
        }
    }
}

#[test]
fn proptest_default_workloads_pass() {
    for verdict in [
        proptest::check(UniqueMembership, &ProptestOptions::default()),
        proptest::check(UserDocument, &ProptestOptions::default()),
    ] {
        let Verdict::Holds { scope, stats, .. } = &verdict else {
            panic!("expected holds, got {verdict:?}");
        };
        assert_eq!(
            scope,
            "no violation in 256 generated workloads (seed 42, 2 to 4 servers × 1 to 3 requests \
             each over 2 users and 2 teams: joins, leaves and switches, some users on a team at \
             the start), each under 50 shuttle schedules (random, seed 42) and 50 (PCT depth 3, \
             seed 42): evidence, not proof"
        );
        assert_eq!(stats.iterations, Some(256));
    }
}

/// Every shuttle history of the real services is a path of the built-in model.
#[test]
fn every_history_is_a_path_of_the_model() {
    let scenarios = [Scenario::article(), Scenario::contended(3, 2, 2).unwrap()];
    for scenario in &scenarios {
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let options = ShuttleOptions::default()
                .strategy(strategy)
                .seed(3)
                .iterations(100);
            let model = |protocol| builtin_model(protocol, scenario).unwrap();
            let reports = [
                conform::shuttle(
                    UniqueMembership,
                    model(Protocol::UniqueMembership),
                    scenario,
                    &options,
                ),
                conform::shuttle(
                    UserDocument,
                    model(Protocol::UserDocument),
                    scenario,
                    &options,
                ),
            ];
            let requests = scenario.servers().iter().map(Vec::len).sum::<usize>() as u64;
            for report in reports {
                assert_eq!(report.divergence, None);
                assert_eq!(report.incomplete, None);
                assert_eq!(report.violations, 0);
                // One step per request: the histories hold exactly the requests.
                assert_eq!((report.histories, report.steps), (100, 100 * requests));
            }
        }
    }
}

/// The model's race, replayed on the real services in the model's order, records the model's
/// steps exactly.
#[test]
fn the_models_race_replays_on_the_real_services() {
    let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    let path = |verb: &str| {
        vec![
            format!("server-2 {verb} sue → team-B"),
            format!("server-1 {verb} sue → team-A"),
        ]
    };
    let model = ProtocolModel::new(Protocol::UniqueMembership, sizes);
    let steps = model.replay(&path("insert")).unwrap();
    let execution = replay_on_implementation(&UniqueMembership, &model, &path("insert")).unwrap();
    assert_eq!(execution.history, steps);
    assert_eq!(
        execution.answers,
        [
            vec![Err(JoinError::AlreadyOnTeam { team: B })],
            vec![Ok(())]
        ]
    );
    let model = ProtocolModel::new(Protocol::UserDocument, sizes);
    let steps = model.replay(&path("update")).unwrap();
    let execution = replay_on_implementation(&UserDocument, &model, &path("update")).unwrap();
    assert_eq!(execution.history, steps);
    assert_eq!(
        execution.answers,
        [vec![Err(JoinError::AlreadyOnSomeTeam)], vec![Ok(())]]
    );
}

#[test]
fn the_memberships_collection_records_inserts_and_deletes() {
    let collection = Arc::new(MembershipsCollection::<Std>::with_members(
        &[(B, JOHN)],
        Recording::On,
    ));
    let (one, two) = (collection.connect(S1), collection.connect(S2));
    assert_eq!(one.insert(SUE, A), Ok(()));
    let duplicate = two.insert(SUE, B).unwrap_err();
    assert_eq!(
        duplicate.to_string(),
        "duplicate key: sue already has a membership, on team-A"
    );
    assert_eq!(two.delete(SUE, B), 0);
    assert_eq!(two.delete(SUE, A), 1);
    let step = |server, operation, result, membership_after| Step {
        server,
        operation,
        result,
        membership_after,
    };
    assert_eq!(
        collection.history(),
        [
            step(
                S1,
                Operation::InsertMembership { user: SUE, team: A },
                OpResult::Inserted,
                vec![(A, SUE), (B, JOHN)]
            ),
            step(
                S2,
                Operation::InsertMembership { user: SUE, team: B },
                OpResult::DuplicateKey { user: SUE, team: A },
                vec![(A, SUE), (B, JOHN)]
            ),
            step(
                S2,
                Operation::DeleteMembership { user: SUE, team: B },
                OpResult::Changed { rows: 0 },
                vec![(A, SUE), (B, JOHN)]
            ),
            step(
                S2,
                Operation::DeleteMembership { user: SUE, team: A },
                OpResult::Changed { rows: 1 },
                vec![(B, JOHN)]
            ),
        ]
    );
}

#[test]
fn user_documents_record_conditional_updates() {
    let documents = Arc::new(UserDocuments::<Std>::with_members(
        &[(B, JOHN)],
        Recording::On,
    ));
    let (one, two) = (documents.connect(S1), documents.connect(S2));
    assert_eq!(one.update_team(SUE, Some(A), None), 1);
    assert_eq!(two.update_team(SUE, Some(B), None), 0);
    assert_eq!(two.update_team(JOHN, None, Some(A)), 0);
    assert_eq!(two.update_team(JOHN, None, Some(B)), 1);
    let history = documents.history();
    let lines: Vec<String> = history
        .iter()
        .map(|step| format!("{} {} → {}", step.server, step.operation, step.result))
        .collect();
    assert_eq!(
        lines,
        [
            "server-1 update sue's document set team = team-A where team is none → 1 row",
            "server-2 update sue's document set team = team-B where team is none → 0 rows",
            "server-2 update john's document set team = none where team is team-A → 0 rows",
            "server-2 update john's document set team = none where team is team-B → 1 row",
        ]
    );
    assert_eq!(history[1].membership_after, [(A, SUE), (B, JOHN)]);
    assert_eq!(history[3].membership_after, [(A, SUE)]);
    assert_eq!(documents.membership(), [(A, SUE)]);
}

#[test]
#[should_panic(expected = "the unique index on user cannot hold sue on team-A and team-B")]
fn the_unique_index_refuses_a_seed_with_a_user_twice() {
    MembershipsCollection::<Std>::with_members(&[(A, SUE), (B, SUE)], Recording::Off);
}

/// On one server, a request at a time, both services do what the specification says: join
/// only a user on no team, leave only the team one is on.
#[test]
fn on_one_server_both_follow_the_sequential_specification() {
    fn answers<S: JoinService<Std>>(service: S, requests: &[Request]) -> Vec<String> {
        let database = service.open_database(&[(B, JOHN)], Recording::On);
        let mut server = service.start_server(&database, S1);
        let mut out: Vec<String> = requests
            .iter()
            .map(|request| match server.handle(*request) {
                Ok(()) => "ok".to_string(),
                Err(error) => error.to_string(),
            })
            .collect();
        out.push(format!("{:?}", database.membership()));
        out
    }
    let requests = [
        Request::Join { user: SUE, team: A },
        Request::Join { user: SUE, team: B },
        Request::Join {
            user: JOHN,
            team: A,
        },
        Request::Leave { user: SUE, team: B },
        Request::Leave { user: SUE, team: A },
        Request::Join { user: SUE, team: B },
        Request::Leave {
            user: JOHN,
            team: B,
        },
    ];
    let membership = format!("{:?}", [(B, SUE)]);
    assert_eq!(
        answers(UniqueMembership, &requests),
        [
            "ok",
            "already on a team (team-A)",
            "already on a team (team-B)",
            "not on that team",
            "ok",
            "ok",
            "ok",
            &membership,
        ]
    );
    assert_eq!(
        answers(UserDocument, &requests),
        [
            "ok",
            "already on a team",
            "already on a team",
            "not on that team",
            "ok",
            "ok",
            "ok",
            &membership,
        ]
    );
}

/// A made-up counterexample whose steps use every new operation: what the renderers print for
/// them, and a replay file holding them reads back as written.
#[test]
fn traces_and_replay_files_show_the_new_operations() {
    let steps = vec![
        Step {
            server: S1,
            operation: Operation::InsertMembership { user: SUE, team: A },
            result: OpResult::Inserted,
            membership_after: vec![(A, SUE)],
        },
        Step {
            server: S2,
            operation: Operation::InsertMembership { user: SUE, team: B },
            result: OpResult::DuplicateKey { user: SUE, team: A },
            membership_after: vec![(A, SUE)],
        },
        Step {
            server: S2,
            operation: Operation::DeleteMembership { user: SUE, team: A },
            result: OpResult::Changed { rows: 1 },
            membership_after: vec![],
        },
        Step {
            server: S1,
            operation: Operation::UpdateTeam {
                user: SUE,
                team: Some(B),
                where_team: None,
            },
            result: OpResult::Changed { rows: 1 },
            membership_after: vec![(B, SUE)],
        },
        Step {
            server: S2,
            operation: Operation::UpdateTeam {
                user: SUE,
                team: None,
                where_team: Some(A),
            },
            result: OpResult::Changed { rows: 0 },
            membership_after: vec![(A, SUE), (B, SUE)],
        },
    ];
    let found = Counterexample {
        protocol: "made-up".to_string(),
        parameters: "2 servers, 1 user, 2 teams, 3 requests each".to_string(),
        engine: Engine::Model,
        steps,
        violation: OnSeveralTeams {
            user: SUE,
            teams: vec![A, B],
        }
        .into(),
        replay: Replay::ModelPath {
            sizes: [2, 1, 2, 3],
            actions: Vec::new(),
        },
    };
    let text = trace::text(&found, None);
    let lines: Vec<&str> = text.lines().skip(2).take(5).collect();
    assert_eq!(
        lines,
        [
            "   1  server-1  insert  insert membership {sue, team-A}                              sue ∈ {team-A}",
            "   2  server-2  insert  insert membership {sue, team-B}                              duplicate key (sue is on team-A)",
            "   3  server-2  delete  delete membership {sue, team-A}                              1 row, sue ∈ {}",
            "   4  server-1  update  update sue's document set team = team-B where team is none   1 row, sue ∈ {team-B}",
            "   5  server-2  update  update sue's document set team = none where team is team-A   0 rows, sue ∈ {team-A, team-B}   ✗",
        ]
    );
    let mermaid = trace::mermaid(&found);
    assert!(
        mermaid.contains("    S2->>DB: 2. insert membership {sue, team-B}\n    DB-->>S2: duplicate key (sue is on team-A)\n"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("    S1->>DB: 4. update sue's document set team = team-B where team is none\n    DB-->>S1: 1 row, sue ∈ {team-B}\n"),
        "{mermaid}"
    );
    let file = CounterexampleFile::new(&found, None, None);
    let json = file.to_json();
    assert_eq!(
        json["steps"][1],
        serde_json::json!({
            "server": "server-2",
            "operation": "insert",
            "detail": "insert membership {sue, team-B}",
            "arguments": {"user": "sue", "team": "team-B"},
            "result": "duplicate key (sue is on team-A)",
            "conflict": false,
            "membership_after": [{"team": "team-A", "user": "sue"}],
        })
    );
    assert_eq!(
        json["steps"][4]["arguments"],
        serde_json::json!({"user": "sue", "condition": "team is team-A"})
    );
    assert_eq!(
        json["steps"][3]["arguments"],
        serde_json::json!({"user": "sue", "team": "team-B", "condition": "team is none"})
    );
    assert_eq!(CounterexampleFile::from_json(&json.to_string()), Ok(file));
}

/// The command a user runs, with every engine, in memory and on SQLite: exit 0, every verdict
/// as expected.
#[test]
fn the_command_checks_each_with_every_engine_and_exits_0() {
    for protocol in ["unique-membership", "user-document"] {
        let output = Command::new(env!("CARGO_BIN_EXE_joincheck"))
            .args([
                "check",
                "--protocol",
                protocol,
                "--database",
                "memory,sqlite",
            ])
            .env_remove("SHUTTLE_RANDOM_SEED")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{out}");
        let mut checks = vec![("-", "model")];
        for database in ["memory", "sqlite"] {
            for engine in ["loom", "dpor", "shuttle", "proptest"] {
                checks.push((database, engine));
            }
        }
        for (database, engine) in checks {
            assert!(
                out.lines().any(|line| {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    line.starts_with(protocol)
                        && words.get(1..3) == Some(&[database, engine][..])
                        && line.ends_with("✓ as expected")
                }),
                "{protocol} · {database} · {engine}:\n{out}"
            );
        }
        assert!(out.contains("all 9 verdicts as expected"), "{out}");
    }
}
