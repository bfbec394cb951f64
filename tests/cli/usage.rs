//! Usage: `joincheck` alone prints it, every bad input of `check` is one line and exit 2, and
//! every command's help is true and documents every flag with an example.

use super::util::*;

#[test]
fn every_bad_input_is_one_line_and_exit_2() {
    let blocker = scratch("blocker").join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let unwritable = blocker.join("out");
    // Every protocol of the registry is offered, whatever it holds.
    let all_protocols_refusal = format!(
        "invalid value 'mongo' for '--protocol <NAMES>' [possible values: {}, all]",
        catalogue_names().join(", ")
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["check", "--database", "mongo"],
            "--database: unknown database `mongo`; give memory, sqlite, sqlite:DIR, postgres \
             (DATABASE_URL) or a postgres://… URL",
        ),
        (
            vec!["check", "--database", "memory,,sqlite"],
            "--database has an empty name",
        ),
        (
            vec!["check", "--database", "sqlite,sqlite"],
            "--database names sqlite twice: give each database once",
        ),
        (
            vec!["check", "--database", "postgres"],
            "--database postgres: DATABASE_URL is not set",
        ),
        (
            vec!["check", "--database", "postgres://root@127.0.0.1:1/test"],
            "--database: PostgreSQL at postgres://root@127.0.0.1:1/test does not answer",
        ),
        (
            vec![
                "check",
                "--database",
                "postgres://root:secret@127.0.0.1:1/test",
            ],
            "PostgreSQL at postgres://root:***@127.0.0.1:1/test does not answer",
        ),
        (
            vec![
                "check",
                "--database",
                "postgres://root@127.0.0.1:5432/test?x=%zz",
            ],
            "is not a PostgreSQL URL",
        ),
        (
            vec!["check", "--database", "memory", "--protocol", "mongo"],
            &all_protocols_refusal,
        ),
        (
            vec!["check", "--database", "memory", "--protocol", "naive,mongo"],
            "invalid value 'mongo' for '--protocol <NAMES>'",
        ),
        (
            vec!["check", "--database", "memory", "--engine", "model,tla"],
            "invalid value 'tla' for '--engine <NAMES>'",
        ),
        (
            vec![
                "check",
                "--database",
                "memory",
                "--engine",
                "model,loom",
                "--servers",
                "5",
            ],
            "5 servers is more than loom can check (at most 4)",
        ),
        (
            vec!["check", "--database", "memory", "--engine", "tla"],
            "invalid value 'tla' for '--engine",
        ),
        (
            vec!["check", "--database", "memory", "--servers", "0"],
            "invalid value '0' for '--servers <S>': expected a whole number from 1 to 8",
        ),
        (
            vec!["check", "--database", "memory", "--teams", "0"],
            "invalid value '0' for '--teams <T>': expected a whole number from 1 to 8",
        ),
        (
            vec!["check", "--database", "memory", "--users", "9"],
            "invalid value '9' for '--users <U>': expected a whole number from 1 to 8",
        ),
        (
            vec!["check", "--database", "memory", "--requests", "1000"],
            "invalid value '1000' for '--requests <N>': expected a whole number from 1 to 15",
        ),
        (
            vec!["check", "--database", "memory", "--servers", "-3"],
            "invalid value '-3' for '--servers <S>': expected a whole number from 1 to 8",
        ),
        (
            vec!["check", "--database", "memory", "--servers", "two"],
            "invalid value 'two' for '--servers <S>': expected a whole number from 1 to 8",
        ),
        (
            vec!["check", "--database", "memory", "--cases", "0"],
            "invalid value '0' for '--cases <K>': expected a whole number from 1 to 1,000,000",
        ),
        (
            vec!["check", "--database", "memory", "--protocol", ",naive"],
            "--protocol has an empty name: give one or more names separated by single commas",
        ),
        (
            vec!["check", "--database", "memory", "--engine", "model,,loom"],
            "--engine has an empty name: give one or more names separated by single commas",
        ),
        (
            vec![
                "check",
                "--database",
                "memory",
                "--engine",
                "loom",
                "--servers",
                "5",
            ],
            "at most 4",
        ),
        (
            vec![
                "check",
                "--engine",
                "model",
                "--servers",
                "8",
                "--users",
                "8",
                "--teams",
                "8",
                "--requests",
                "15",
            ],
            "one state of the naive protocol at these sizes needs 160 bits",
        ),
        (
            vec![
                "check",
                "--database",
                "memory",
                "--engine",
                "proptest",
                "--servers",
                "1",
            ],
            "proptest cannot check 1 server",
        ),
        (
            vec!["check", "--database", "memory", "--timeout", "0"],
            "the timeout must be positive",
        ),
        (
            vec!["check", "--database", "memory", "--timeout", "-1"],
            "the timeout must be positive",
        ),
        (
            vec!["check", "--database", "memory", "--format", "xml"],
            "invalid value 'xml'",
        ),
        (
            vec!["check", "--database", "memory", "--expect", "maybe"],
            "invalid value 'maybe'",
        ),
        (
            vec!["check", "--database", "memory", "--iterations", "0"],
            "'0'",
        ),
        (
            vec![
                "check",
                "--database",
                "memory",
                "--out",
                unwritable.to_str().unwrap(),
            ],
            "cannot write to --out",
        ),
        (
            vec!["check", "--database", "memory", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (vec!["replay"], "FILE"),
        (vec!["explore"], "--protocol"),
        (
            vec!["explore", "--protocol", "nope"],
            "invalid value 'nope' for '--protocol <NAME>'",
        ),
        (vec!["explore", "--protocol", "naive", "--port", "0"], "'0'"),
        (vec!["bench", "--threads", "0"], "'0'"),
        (vec!["launch"], "unrecognized subcommand 'launch'"),
    ];
    for (args, needle) in cases {
        assert_bad_input(&args, needle);
    }
}

#[test]
fn help_documents_every_flag_with_an_example() {
    let output = check_in_memory(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for flag in [
        "--protocol",
        "--engine",
        "--servers",
        "--users",
        "--teams",
        "--requests",
        "--symmetry",
        "--leaves",
        "--threads",
        "--seed",
        "--iterations",
        "--cases",
        "--preemption-bound",
        "--max-states",
        "--max-memory",
        "--workload",
        "--timeout",
        "--format",
        "--out",
        "--expect",
        "--color",
    ] {
        assert!(help.contains(flag), "{flag} is not documented");
        assert!(
            help.contains(&format!("Example: {flag}")),
            "{flag} has no example"
        );
    }
    assert!(help.contains("Examples:"));
    assert!(help.contains("Exit status: 0"));
    for (command, flags) in [
        (
            "explore",
            &["--protocol", "--servers", "--port", "--lazy", "--leaves"][..],
        ),
        ("bench", &["--quick", "--threads", "--format"][..]),
        ("replay", &["FILE", "--on-implementation", "--format"][..]),
        (
            "conform",
            &[
                "--protocol",
                "--iterations",
                "--seed",
                "--servers",
                "--timeout",
                "--format",
                "--leaves",
            ][..],
        ),
        (
            "stress",
            &[
                "--protocol",
                "--database",
                "--workers",
                "--users",
                "--teams",
                "--seed",
                "--requests",
                "--duration",
                "--faults",
                "--timeout",
                "--out",
                "--format",
            ][..],
        ),
    ] {
        let help = stdout(&run(&[command, "--help"]));
        for flag in flags {
            assert!(help.contains(flag), "{command} {flag}");
            if flag.starts_with("--")
                && !["--lazy", "--quick", "--on-implementation"].contains(flag)
            {
                let example = format!("Example: {flag}");
                assert!(help.contains(&example), "{command} {flag} has no example");
            }
        }
        assert!(help.contains("Example: "), "{command}: {help}");
    }
    let top = stdout(&run(&["--help"]));
    for command in ["check", "replay", "conform", "explore", "bench", "stress"] {
        assert!(top.contains(command), "{command}");
    }
    assert!(
        !top.contains("bench-one"),
        "the internal command stays hidden"
    );
    // The replay examples name a file the example before them writes.
    assert!(top.contains("joincheck check --protocol naive --out out "));
    assert!(top.contains("joincheck replay out/naive-model.json "));
}

#[test]
fn joincheck_alone_prints_the_usage_block() {
    let output = run(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout(&output).is_empty());
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[..3],
        [
            "Proves or refutes \"a user is on at most one team\" for join protocols run by \
             scaled-out servers",
            "",
            "Usage: joincheck <COMMAND>"
        ],
        "{err}"
    );
    assert!(lines.contains(&"Commands:"), "{err}");
    for command in ["check", "replay", "conform", "explore", "bench", "stress"] {
        assert!(
            lines
                .iter()
                .any(|line| line.starts_with(&format!("  {command} "))),
            "{command}: {err}"
        );
    }
}

#[test]
fn help_is_true_of_every_command() {
    let help = |command: &[&str]| stdout(&run(&[command, &["--help"]].concat()));
    let conform = help(&["conform"]);
    assert!(!conform.contains("loom"), "{conform}");
    assert!(conform.contains("Servers racing (2 to 8"), "{conform}");
    let explore = help(&["explore"]);
    assert!(!explore.contains("loom"), "{explore}");
    assert!(
        explore.contains("/.status gives max_depth in steps, as `check` does"),
        "{explore}"
    );
    for command in ["check", "replay", "conform", "explore", "bench", "stress"] {
        assert!(help(&[command]).contains("Exit status: "), "{command}");
    }
    let stress = help(&["stress"]);
    for range in ["(1 to 10,000,000)", "(1 to 255)", "(1 to 64)"] {
        assert!(stress.contains(range), "{range}: {stress}");
    }
    let check = help(&["check"]);
    for range in [
        "worker threads, 1 to 1,024",
        "how many PCT schedules to try, 1 to 1,000,000,000",
        "how many workloads to generate, 1 to 1,000,000",
        "at most B preemptions, 0 to 100",
        "at most 1024P",
    ] {
        assert!(check.contains(range), "{range}: {check}");
    }
    // What help says of where a protocol breaks is the registry's and the models' (a unit test
    // holds the models to it), in check's list and in stress's exit status alike.
    let broken: Vec<&str> = joincheck::protocols::ALL
        .into_iter()
        .filter(|p| {
            let known = joincheck::protocols::known((*p).into(), None);
            known.why_broken().is_some()
        })
        .map(|p| p.name())
        .collect();
    assert_eq!(
        broken,
        [
            "naive",
            "event-sourced-per-team",
            "lease-lock",
            "lease-lock-fenced"
        ]
    );
    for name in &broken {
        let listed = check
            .lines()
            .find(|line| line.trim_start().starts_with(&format!("- {name}:")))
            .unwrap();
        assert!(
            listed.ends_with(
                ": violated with 2 or more servers and 2 or more teams, holds otherwise"
            ),
            "{listed}"
        );
    }
    assert!(
        stress.contains(
            "those known to break may break (in memory and on\nSQLite: naive, \
             event-sourced-per-team, lease-lock and lease-lock-fenced; on PostgreSQL also \
             naive-transaction and naive-repeatable-read and naive-one-statement)"
        ),
        "{stress}"
    );
    assert!(
        check.contains(
            "[default: violated for the protocols known to break (naive, event-sourced-per-team, \
             lease-lock and lease-lock-fenced) with 2 or more servers and 2 or more teams"
        ),
        "{check}"
    );
    let top = help(&[]);
    assert!(
        top.contains(
            "a violation where holds was expected, or holds where\n  a violation was expected"
        ),
        "{top}"
    );
    // Every protocol the registry has, in every command that takes one.
    for command in ["check", "conform", "explore"] {
        let text = help(&[command]);
        for protocol in joincheck::protocols::ALL {
            assert!(
                text.contains(&format!("- {}:", protocol.name())),
                "{command} --help lacks {protocol}"
            );
        }
    }
    // The examples run as printed: two users in the workload, and the saved file replays.
    let output = check_in_memory(&[
        "--engine",
        "shuttle",
        "--servers",
        "4",
        "--users",
        "2",
        "--requests",
        "2",
        "--iterations",
        "10000",
        "--seed",
        "7",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("join john → team-B"),
        "{}",
        stdout(&output)
    );
    let check = help(&["check"]);
    assert!(
        check.contains("check --engine shuttle --servers 4 --users 2 --requests 2"),
        "{check}"
    );
}
