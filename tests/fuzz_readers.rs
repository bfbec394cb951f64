//! Fuzzing the readers of replay files and workload files with proptest: arbitrary bytes,
//! arbitrary JSON, and valid files with one part replaced by arbitrary JSON (or removed).
//! In-process, whatever a file holds, reading it (and rerunning what the library reruns: a model
//! path on the model, a shuttle schedule on the service) never panics, and a refusal is one line
//! in words, without Rust's types. Through the command (`replay -`, `check --workload -`, fewer
//! cases: each spawns it), every file ends in an exit status the command documents, a refusal in
//! one line and exit 2, and none hangs. A short round runs in `cargo test` (and so in `.ci/run`);
//! set `JOINCHECK_FUZZ_CASES` for a longer one.

use joincheck::check::shuttle::{self, EncodedSchedule, ShuttleOptions};
use joincheck::check::{loom, Scenario};
use joincheck::service::Naive;
use joincheck::trace::file::{ReplayRecord, Workload};
use joincheck::trace::CounterexampleFile;
use joincheck_models::verdict::Verdict;
use joincheck_models::{CheckOptions, Protocol, ProtocolModel, Sizes};
#[path = "fuzz/config.rs"]
mod config;

use config::config;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// Asserts that `message`, a refusal, is one line in words.
fn in_words(message: &str) {
    assert!(!message.contains(['\n', '\r']), "not one line: {message:?}");
    for internal in [
        "expected u8",
        "expected u16",
        "expected u32",
        "expected u64",
        "expected usize",
        "expected i64",
        "expected struct",
        "expected a sequence",
        "tagged enum",
        "untagged",
        "Record",
    ] {
        assert!(!message.contains(internal), "{internal:?} in {message:?}");
    }
}

/// Valid replay files of every kind: the model's, loom's and shuttle's of the article's race on
/// naive, and a model path with leaves.
fn valid_files() -> &'static [Value] {
    static FILES: OnceLock<Vec<Value>> = OnceLock::new();
    FILES.get_or_init(|| {
        let article = Scenario::article();
        let sizes = Sizes::new(2, 1, 2, 1).unwrap();
        let model = joincheck_models::check(Protocol::Naive, sizes, &CheckOptions::default());
        let leaves = CheckOptions::default().leaves(true);
        let with_leaves = joincheck_models::check(Protocol::LeaseLock, sizes, &leaves);
        let loom = loom::check(Naive, &article, &loom::LoomOptions::default()).unwrap();
        let shuttle = shuttle::check(Naive, &article, &ShuttleOptions::default());
        [
            (model, None),
            (with_leaves, None),
            (loom, Some(&article)),
            (shuttle, Some(&article)),
        ]
        .into_iter()
        .map(|(verdict, workload)| {
            let Verdict::Violated { counterexample, .. } = verdict else {
                panic!("naive breaks on the article's race")
            };
            CounterexampleFile::new(&counterexample, workload, None).to_json()
        })
        .collect()
    })
}

/// A valid workload file: the README's.
fn valid_workload() -> Value {
    serde_json::json!({
        "users": 2, "teams": 2,
        "servers": [[{"request": "join", "user": "sue", "team": "team-A"}],
                    [{"request": "leave", "user": "john", "team": "team-A"},
                     {"request": "join", "user": "john", "team": "team-B"}]],
        "initial": [{"team": "team-A", "user": "john"}]
    })
}

/// Strings a file might hold: the names it uses, near misses, and anything short.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "sue",
            "john",
            "kofi",
            "user-9",
            "user-0",
            "user-257",
            "team-A",
            "team-Z",
            "team-27",
            "team-0",
            "A",
            "server-1",
            "server-0",
            "server-256",
            "model",
            "loom",
            "shuttle",
            "proptest",
            "stress",
            "model-path",
            "shuttle-schedule",
            "loom-execution",
            "stress-run",
            "join",
            "leave",
            "naive",
            "event-sourced",
            "lease-lock",
            "check",
            "act",
            "91",
            "9102139bdbd29794bbb9eb920180048a9440020000",
            "",
        ])
        .prop_map(String::from),
        "[a-z0-9 -]{0,12}",
        "\\PC{0,8}",
        "[\\x00-\\x7f]{0,6}",
    ]
}

/// Arbitrary JSON of a few levels, with the keys of the files among its keys.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop::sample::select(vec![0i64, 1, 2, 3, 4, 8, 9, 15, 16, 255, 256, -1, i64::MIN])
            .prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            prop::sample::select(vec![
                "version",
                "protocol",
                "parameters",
                "engine",
                "violation",
                "user",
                "teams",
                "team",
                "invariant",
                "detail",
                "steps",
                "server",
                "operation",
                "arguments",
                "result",
                "conflict",
                "membership_after",
                "replay",
                "kind",
                "sizes",
                "servers",
                "users",
                "requests",
                "actions",
                "schedule",
                "found_by",
                "iteration",
                "run",
                "scenario",
                "initial",
                "request",
                "loom",
                "preemption_bound",
            ])
            .prop_map(String::from),
            text(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// `document` with the part that `path` picks (each number picks a child, modulo their count)
/// replaced by `with`, or removed when `with` is `None` and the part is in an object.
fn mutated(mut document: Value, path: &[usize], with: Option<Value>) -> Value {
    fn edit(at: &mut Value, path: &[usize], with: Option<Value>) {
        let Some((&pick, rest)) = path.split_first() else {
            if let Some(with) = with {
                *at = with;
            }
            return;
        };
        match at {
            Value::Object(object) if !object.is_empty() => {
                let key = object.keys().nth(pick % object.len()).unwrap().clone();
                if rest.is_empty() && with.is_none() {
                    object.remove(&key);
                    return;
                }
                edit(object.get_mut(&key).unwrap(), rest, with);
            }
            Value::Array(array) if !array.is_empty() => {
                let len = array.len();
                edit(&mut array[pick % len], rest, with);
            }
            _ => edit(at, &[], with),
        }
    }
    edit(&mut document, path, with);
    document
}

/// A valid file with one part mutated.
fn mutated_file() -> impl Strategy<Value = Value> {
    (
        0..valid_files().len(),
        prop::collection::vec(any::<usize>(), 1..5),
        prop::option::weighted(0.8, json()),
    )
        .prop_map(|(which, path, with)| mutated(valid_files()[which].clone(), &path, with))
}

/// Reads `text` as a replay file and reruns what the library reruns without the command: a
/// model path on the model, a shuttle schedule on the service. Nothing panics; a refusal is one
/// line in words.
fn read_and_rerun(text: &str) {
    let file = match CounterexampleFile::from_json(text) {
        Ok(file) => file,
        Err(refused) => return in_words(&refused.to_string()),
    };
    match &file.replay {
        ReplayRecord::ModelPath { sizes, actions } => {
            let [s, u, t, n] = *sizes;
            let Ok(sizes) = Sizes::new(s, u, t, n) else {
                return;
            };
            let protocol = Protocol::parse(&file.protocol).unwrap_or(Protocol::Naive);
            if let Ok(model) = ProtocolModel::try_new(protocol, sizes) {
                if let Err(refused) = model.replay(actions) {
                    in_words(&refused.to_string());
                }
            }
        }
        ReplayRecord::ShuttleSchedule { schedule, .. } => {
            let Some(workload) = &file.scenario else {
                return;
            };
            let scenario = match workload.scenario() {
                Ok(scenario) => scenario,
                Err(refused) => return in_words(&refused.to_string()),
            };
            // A schedule of more servers than the article's is a run of its own: bounded.
            if scenario.servers().len() <= 4 && scenario.servers().iter().all(|r| r.len() <= 4) {
                let schedule = EncodedSchedule(schedule.clone());
                if let Err(refused) = shuttle::replay(Naive, &scenario, &schedule) {
                    in_words(&refused.to_string());
                }
            }
        }
        ReplayRecord::DporSchedule { schedule } => {
            if let Err(refused) = joincheck::check::dpor::decode_schedule(schedule) {
                in_words(&refused);
            }
        }
        ReplayRecord::LoomExecution { .. } | ReplayRecord::StressRun { .. } => {}
    }
}

/// Reads `text` as a workload file, and the scenario it describes.
fn read_workload(text: &str) {
    match Workload::from_json(text) {
        Ok(workload) => {
            if let Err(refused) = workload.scenario() {
                in_words(&refused.to_string());
            }
        }
        Err(refused) => in_words(&refused.to_string()),
    }
}

#[test]
fn arbitrary_bytes_are_refused_in_one_line() {
    let mut runner = TestRunner::new(config(512));
    let bytes = prop::collection::vec(any::<u8>(), 0..256);
    runner
        .run(&bytes, |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            read_and_rerun(&text);
            read_workload(&text);
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_json_is_refused_in_one_line() {
    let mut runner = TestRunner::new(config(512));
    runner
        .run(&json(), |value| {
            let text = value.to_string();
            read_and_rerun(&text);
            read_workload(&text);
            Ok(())
        })
        .unwrap();
}

#[test]
fn replay_files_with_one_part_changed_are_read_or_refused_in_one_line() {
    let mut runner = TestRunner::new(config(512));
    runner
        .run(&mutated_file(), |document| {
            read_and_rerun(&document.to_string());
            Ok(())
        })
        .unwrap();
}

#[test]
fn workload_files_with_one_part_changed_are_read_or_refused_in_one_line() {
    let mut runner = TestRunner::new(config(512));
    let mutated = (
        prop::collection::vec(any::<usize>(), 1..5),
        prop::option::weighted(0.8, json()),
    )
        .prop_map(|(path, with)| mutated(valid_workload(), &path, with));
    runner
        .run(&mutated, |document| {
            read_workload(&document.to_string());
            Ok(())
        })
        .unwrap();
}

#[test]
fn arbitrary_shuttle_schedules_replay_or_are_refused_in_one_line() {
    let mut runner = TestRunner::new(config(512));
    let schedules = prop_oneof![
        "[0-9a-f]{0,48}",
        "91[0-9a-f]{0,40}",
        "\\PC{0,16}",
        (0..42usize, any::<u8>()).prop_map(|(at, byte)| {
            // The article's schedule with one byte changed or cut there.
            let mut text = "9102139bdbd29794bbb9eb920180048a9440020000".to_string();
            match byte % 2 {
                0 => text.truncate(at),
                _ => text.replace_range(at..=at, &format!("{:x}", byte % 16)),
            }
            text
        }),
    ];
    runner
        .run(&schedules, |schedule| {
            let schedule = EncodedSchedule(schedule);
            if let Err(refused) = shuttle::replay(Naive, &Scenario::article(), &schedule) {
                in_words(&refused.to_string());
            }
            Ok(())
        })
        .unwrap();
}

/// Runs `joincheck` with `args` and `input` on standard input, killed if it has not ended within
/// a minute (a hang fails the test). Asserts it ended as the command may end: exit 0, 1 or 3, or
/// exit 2 with one line on stderr (besides progress) and nothing on stdout; never a panic.
fn command_ends_well(args: &[&str], input: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_joincheck"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command may refuse before it reads all of its input.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{args:?} did not end within a minute on {input}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(!err.contains("panicked"), "{args:?} on {input}: {err}");
    match output.status.code() {
        Some(0 | 1 | 3) => {}
        Some(2) => {
            let said: Vec<&str> = err
                .lines()
                .filter(|line| !line.contains(" executions/s, "))
                .collect();
            assert_eq!(said.len(), 1, "{args:?} on {input}: {err}");
            assert!(said[0].starts_with("joincheck: "), "{args:?}: {err}");
            in_words(said[0]);
            assert!(out.is_empty(), "{args:?} on {input}: {out}");
        }
        code => panic!("{args:?} on {input}: exit {code:?}: {err}"),
    }
}

#[test]
fn the_command_reruns_or_refuses_changed_replay_files_in_one_line() {
    let mut runner = TestRunner::new(config(24));
    runner
        .run(&mutated_file(), |document| {
            command_ends_well(&["replay", "-"], &document.to_string());
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_command_checks_or_refuses_changed_workload_files_in_one_line() {
    let mut runner = TestRunner::new(config(24));
    let mutated = (
        prop::collection::vec(any::<usize>(), 1..5),
        prop::option::weighted(0.8, json()),
    )
        .prop_map(|(path, with)| mutated(valid_workload(), &path, with));
    let check = [
        "check",
        "--workload",
        "-",
        "--protocol",
        "naive",
        "--engine",
        "shuttle",
        "--iterations",
        "5",
    ];
    runner
        .run(&mutated, |document| {
            command_ends_well(&check, &document.to_string());
            Ok(())
        })
        .unwrap();
}
