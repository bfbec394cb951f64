//! `check --out` files and `joincheck replay`: reproduced, compared, or refused in one line.

use super::util::*;
use serde_json::Value;

#[test]
fn out_dir_files_replay_to_the_identical_trace_for_every_engine() {
    let dir = scratch("replay");
    let out = dir.join("counterexamples");
    let out_arg = out.to_str().unwrap();
    let output = check_in_memory(&["--protocol", "naive", "--out", out_arg]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for engine in ["model", "loom", "shuttle", "proptest"] {
        let json = out.join(format!("naive-{engine}.json"));
        let saved = std::fs::read_to_string(out.join(format!("naive-{engine}.txt"))).unwrap();
        assert!(
            saved.ends_with(&format!("replay: joincheck replay {}\n", json.display())),
            "{saved}"
        );
        assert!(
            stdout(&output).contains(&saved),
            "the printed trace is the saved one"
        );
        let document: Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(document["version"], 3);
        assert_eq!(document["engine"], engine);
        let replayed = run(&["replay", json.to_str().unwrap()]);
        assert_eq!(
            replayed.status.code(),
            Some(0),
            "{engine}: {}",
            stderr(&replayed)
        );
        assert_eq!(stdout(&replayed), saved, "{engine}");
    }
    let document: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("naive-shuttle.json")).unwrap())
            .unwrap();
    assert_eq!(document["replay"]["kind"], "shuttle-schedule");
    let join = |team: &str| serde_json::json!({ "request": "join", "user": "sue", "team": team });
    assert_eq!(
        document["scenario"],
        serde_json::json!({
            "users": 1, "teams": 2, "initial": [],
            "servers": [[join("team-A")], [join("team-B")]],
        })
    );
    // The same schedule on another workload does not replay: one line, exit 2.
    let mut edited = document.clone();
    edited["scenario"]["servers"] =
        serde_json::json!([[join("team-A")], [join("team-B")], [join("team-A")]]);
    let edited_file = dir.join("edited.json");
    std::fs::write(&edited_file, edited.to_string()).unwrap();
    assert_bad_input(
        &["replay", edited_file.to_str().unwrap()],
        "not a shuttle schedule that replays",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_replay_that_no_longer_breaks_exits_1() {
    let dir = scratch("fixed");
    let mut document = saved_file(&dir, "naive", "model");
    // A complete path of the event-sourced model: it ends with the invariant intact.
    document["protocol"] = "event-sourced".into();
    document["replay"]["actions"] =
        serde_json::json!(["server-1 read sue → team-A", "server-1 append"]);
    let file = write_file(&dir, "path", &document);
    let output = run(&["replay", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stdout(&output).contains("no longer reproduces"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_replay_reproduces_only_the_same_steps_and_violation() {
    let dir = scratch("compared");
    let model = saved_file(&dir, "naive", "model");
    let loom = saved_file(&dir, "naive", "loom");
    for (name, document) in [("model", &model), ("loom", &loom)] {
        let file = write_file(&dir, name, document);
        let output = run(&["replay", file.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{name}: {}", stderr(&output));
    }
    let edited = |document: &Value, edit: &dyn Fn(&mut Value)| {
        let mut document = document.clone();
        edit(&mut document);
        document
    };
    let executed = loom["replay"]["iteration"].as_u64().unwrap();
    let differ = "NOT REPRODUCED  the rerun differs from the file in";
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "cut",
            edited(&model, &|d| d["steps"].as_array_mut().unwrap().truncate(2)),
            format!(
                "{differ} step 3: the file has no such step, the rerun has \
                 `server-1 act push sue → team-A → ok, after: team-A: sue`"
            ),
        ),
        (
            "membership",
            edited(&model, &|d| {
                d["steps"][2]["membership_after"][0]["team"] = "team-B".into()
            }),
            format!(
                "{differ} step 3: the file has `server-1 act push sue → team-A → ok, after: \
                 team-B: sue`, the rerun has `server-1 act push sue → team-A → ok, after: \
                 team-A: sue`"
            ),
        ),
        (
            "violation",
            edited(&model, &|d| d["violation"]["user"] = "john".into()),
            format!(
                "{differ} the violation: the file has john ∈ {{team-A, team-B}}, the rerun \
                 has sue ∈ {{team-A, team-B}}"
            ),
        ),
        (
            "conflict",
            edited(&model, &|d| d["steps"][3]["conflict"] = true.into()),
            format!(
                "{differ} step 4, `conflict`: the file has true, the rerun has false (the step: \
                 `server-2 act push sue → team-B → ok, after: team-A: sue, team-B: sue`)"
            ),
        ),
        (
            "argument",
            edited(&model, &|d| {
                d["steps"][0]["arguments"]["user"] = "john".into()
            }),
            format!(
                "{differ} step 1, `arguments.user`: the file has \"john\", the rerun has \"sue\" \
                 (the step: `server-1 check is sue on a team? → no, after: nobody on a team`)"
            ),
        ),
        (
            "sizes",
            edited(
                &model,
                &|d| {
                    d["replay"]["sizes"] =
                        serde_json::json!({ "servers": 2, "users": 1, "teams": 3, "requests": 1 })
                },
            ),
            format!(
                "{differ} what was checked: the file says `2 servers, 1 user, 2 teams, 1 \
                 request each`, the rerun checked `2 servers, 1 user, 3 teams, 1 request each`"
            ),
        ),
        (
            "execution",
            edited(&loom, &|d| d["replay"]["iteration"] = (executed + 1).into()),
            format!(
                "{differ} the loom execution: the file has execution {}, the rerun broke the \
                 invariant at execution {executed}",
                executed + 1
            ),
        ),
    ];
    for (name, document, expected) in cases {
        let file = write_file(&dir, name, &document);
        let output = run(&["replay", file.to_str().unwrap()]);
        let out = stdout(&output);
        assert_eq!(output.status.code(), Some(1), "{name}: {out}");
        assert_eq!(out.lines().next(), Some(expected.as_str()), "{name}");
        assert!(out.contains("the rerun:\nnaive · "), "{name}: {out}");
        // Replaying the same file again would not reproduce it either.
        assert!(!out.contains("\nreplay: "), "{name}: {out}");
        assert!(stderr(&output).is_empty(), "{name}");
    }
    let not_a_replay = write_file(&dir, "other", &serde_json::json!({ "hello": 1 }));
    assert_bad_input(
        &["replay", not_a_replay.to_str().unwrap()],
        "not a joincheck counterexample: a JSON object without `version`",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn corrupt_replay_files_are_refused_in_one_line() {
    let dir = scratch("corrupt");
    let model = saved_file(&dir, "naive", "model");
    let shuttle = saved_file(&dir, "naive", "shuttle");
    let edited = |document: &Value, edit: &dyn Fn(&mut Value)| {
        let mut document = document.clone();
        edit(&mut document);
        document
    };
    let cases: Vec<(&str, Value, &str)> =
        vec![
        (
            "version",
            edited(&model, &|d| d["version"] = 99.into()),
            "version 99 (this joincheck reads versions 2 and 3)",
        ),
        (
            "version-1",
            edited(&model, &|d| d["version"] = 1.into()),
            "version 1, written by an earlier joincheck; this joincheck reads version 3",
        ),
        (
            "protocol",
            edited(&model, &|d| d["protocol"] = "nope".into()),
            "unknown protocol `nope`",
        ),
        (
            "engine",
            edited(&model, &|d| d["engine"] = "tla".into()),
            "unknown engine `tla`",
        ),
        (
            "steps",
            edited(&model, &|d| {
                d.as_object_mut().unwrap().remove("steps");
            }),
            "missing field `steps`",
        ),
        (
            "action",
            edited(&model, &|d| {
                d["replay"]["actions"] = serde_json::json!(["server-1 jump"])
            }),
            "`server-1 jump` is not an action",
        ),
        (
            "not-enabled",
            edited(&model, &|d| {
                d["replay"]["actions"] = serde_json::json!(["server-1 act"])
            }),
            "is not enabled here",
        ),
        (
            "schedule",
            edited(&shuttle, &|d| {
                d["replay"]["schedule"] = "zz-not-a-schedule".into()
            }),
            "`replay.schedule`: not a shuttle schedule that replays: it is not shuttle's \
             encoding of a whole schedule",
        ),
        (
            "scenario",
            edited(&shuttle, &|d| {
                d.as_object_mut().unwrap().remove("scenario");
            }),
            "no `scenario`",
        ),
        (
            "user",
            edited(&shuttle, &|d| {
                d["scenario"]["servers"][0][0]["user"] = "bob".into()
            }),
            "`scenario.servers[0][0]`: `bob` is not a user: the users are sue, john, mary, omar, \
             lena, raj, ines, kofi, user-9, … in order",
        ),
        (
            "engine-edited",
            edited(&model, &|d| d["engine"] = "loom".into()),
            "`engine`: loom, but `replay` is a model path, which only `model` records",
        ),
        (
            "violation-shape",
            edited(&model, &|d| d["violation"] = serde_json::json!({ "user": "sue" })),
            "`violation`: a violation has `user` and `teams` (a user on several teams), or \
             `invariant` and `detail` (an invariant of your own), and nothing else",
        ),
        (
            "sizes-range",
            edited(&model, &|d| d["replay"]["sizes"]["requests"] = 300.into()),
            "`replay.sizes.requests`: invalid value: integer `300`, expected a whole number from \
             0 to 255",
        ),
        (
            "kind-fields",
            edited(&model, &|d| d["replay"]["schedule"] = "91".into()),
            "`replay`: `schedule` is not a field of a model-path, which has `sizes` and `actions`",
        ),
        (
            "unknown-field",
            edited(&model, &|d| d["steps"][0]["conflit"] = false.into()),
            "`steps[0].conflit`: unknown field `conflit`, expected one of `server`, `operation`, \
             `detail`, `arguments`, `result`, `conflict`, `membership_after`",
        ),
        (
            "schedule-cut",
            edited(&shuttle, &|d| {
                let schedule = d["replay"]["schedule"].as_str().unwrap().to_string();
                d["replay"]["schedule"] = schedule[..schedule.len() / 2].into();
            }),
            "`replay.schedule`: not a shuttle schedule that replays",
        ),
        (
            "user-undeclared",
            edited(&shuttle, &|d| d["scenario"]["users"] = 0.into()),
            "`scenario.users`: 0, and a workload declares at least 1 (sue is the first)",
        ),
        (
            "stress",
            edited(&shuttle, &|d| {
                d["engine"] = "stress".into();
                d["replay"] = serde_json::json!({ "kind": "stress-run", "run": 3 });
            }),
            "cannot be replayed",
        ),
    ];
    for (name, document, needle) in cases {
        let file = write_file(&dir, name, &document);
        assert_bad_input(&["replay", file.to_str().unwrap()], needle);
    }
    let not_json = dir.join("not-json.json");
    std::fs::write(&not_json, "{ this is not json").unwrap();
    assert_bad_input(&["replay", not_json.to_str().unwrap()], "invalid JSON");
    assert_bad_input(
        &["replay", dir.join("missing.json").to_str().unwrap()],
        "cannot read",
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A counterexample found with `--leaves` reruns on the model with leaves, as its parameters
/// say, on the model and on the implementation.
#[test]
fn a_counterexample_found_with_leaves_replays_on_the_model_with_leaves() {
    let dir = scratch("replay-leaves");
    let out = dir.to_str().unwrap();
    let args = [
        "check",
        "--protocol",
        "lease-lock",
        "--engine",
        "model",
        "--leaves",
    ];
    let output = run(&[&args[..], &["--out", out]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let file = dir.join("lease-lock-model.json");
    let file = file.to_str().unwrap();
    for extra in [&[][..], &["--on-implementation"]] {
        let output = run(&[&["replay", file][..], extra].concat());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stdout(&output).contains(
                "lease-lock · exhaustive model check · 2 servers, 1 user, 2 teams, 1 request \
                 each (joins and leaves)\nVIOLATED"
            ),
            "{}",
            stdout(&output)
        );
    }
}

/// A counterexample found on SQLite names its database, and replay reruns its statements there
/// (a fresh database file) and reproduces it; a file found in memory is not rerun on a database.
#[test]
fn a_counterexample_found_on_sqlite_replays_on_sqlite() {
    let dir = scratch("sqlite-replay");
    let out = dir.to_str().unwrap();
    let output = run(&[
        "check",
        "--protocol",
        "naive",
        "--engine",
        "loom,shuttle",
        "--database",
        "memory,sqlite",
        "--out",
        out,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for engine in ["loom", "shuttle"] {
        let file = dir.join(format!("naive-sqlite-{engine}.json"));
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(saved["database"], "sqlite");
        assert!(saved["steps"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("SELECT team FROM memberships WHERE user_id = 'sue'"));
        let replayed = run(&["replay", file.to_str().unwrap()]);
        assert_eq!(replayed.status.code(), Some(0), "{}", stderr(&replayed));
    }
    let in_memory = dir.join("naive-loom.json");
    assert_bad_input(
        &[
            "replay",
            in_memory.to_str().unwrap(),
            "--database",
            "sqlite",
        ],
        "the file was found in memory, and --database names sqlite",
    );
    let _ = std::fs::remove_dir_all(dir);
}
