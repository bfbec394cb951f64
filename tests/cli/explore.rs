//! `joincheck explore`: stateright's Explorer, served and refused.

use super::util::*;
use serde_json::Value;
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn explore_serves_stateright_explorer_with_the_naive_violation() {
    let (status, states) = explore_until_the_violation(&[]);
    assert_eq!(status["unique_state_count"], 24, "{status}");
    // In steps, as `check --protocol naive --servers 2 --users 1 --teams 2 --requests 1`
    // reports its depth.
    assert_eq!(status["max_depth"], 4, "{status}");
    assert!(states.contains("server-1 check sue → team-A"), "{states}");
    // naive keeps no event log: its states show none.
    assert!(!states.contains("log"), "{states}");
}

/// With `--leaves` the Explorer offers a leave of every user from every team: all 31 states of
/// the model with leaves, naive's violation among them.
#[test]
fn explore_with_leaves_offers_every_leave_too() {
    let (status, states) = explore_until_the_violation(&["--leaves"]);
    assert_eq!(status["unique_state_count"], 31, "{status}");
    assert!(states.contains("server-1 pull sue ← team-A"), "{states}");
}

/// Serves naive's Explorer with `extra` arguments until it has explored every state and found
/// the violation; returns its `/.status` and the actions from the initial state.
fn explore_until_the_violation(extra: &[&str]) -> (Value, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _explorer = Child(
        joincheck()
            .args([
                "explore",
                "--protocol",
                "naive",
                "--port",
                &port.to_string(),
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(30) {
        if let Some(response) = http_get(port, "/.status") {
            if let Some((_, body)) = response.split_once("\r\n\r\n") {
                if let Ok(status) = serde_json::from_str::<Value>(body) {
                    let properties = status["properties"].as_array().cloned().unwrap_or_default();
                    let violated = properties.iter().any(|p| {
                        p[0] == "Always"
                            && p[1] == "a user is on at most one team"
                            && !p[2].is_null()
                    });
                    if violated && status["done"] == true {
                        let states = http_get(port, "/.states/0").unwrap_or_default();
                        // HEAD is GET without the body.
                        let head = http_request(port, "HEAD", "/").unwrap_or_default();
                        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
                        assert!(head.ends_with("\r\n\r\n"), "{head}");
                        return (status, states);
                    }
                }
                last = body.to_string();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no discovery of the violated property at /.status; last answer: {last}");
}

#[test]
fn explore_refuses_a_port_in_use() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    assert_bad_input(
        &["explore", "--protocol", "naive", "--port", &port],
        "cannot listen on 127.0.0.1:",
    );
}

/// Per-team streams at 3 × 3 requests and 3 × 3 user-team pairs could log 9 events, more than a
/// state holds: explore refuses before serving, rather than fail on the ninth append.
#[test]
fn explore_refuses_sizes_whose_log_outgrows_a_state() {
    assert_bad_input(
        &[
            "explore",
            "--protocol",
            "event-sourced-per-team",
            "--servers",
            "3",
            "--users",
            "3",
            "--teams",
            "3",
            "--requests",
            "3",
        ],
        "the log of the event-sourced-per-team protocol can grow to 9 events at these sizes, more \
         than the 8 a state has room for; use fewer servers or requests",
    );
}

/// Sizes `check` refuses are refused; at sizes it takes, exploring stops where the memory
/// budget has room for no more, and `/.status` and stderr say so instead of `done` alone.
#[test]
fn explore_is_bounded_by_the_sizes_and_the_memory_budget() {
    assert_bad_input(
        &[
            "explore",
            "--protocol",
            "event-sourced",
            "--servers",
            "8",
            "--users",
            "8",
            "--teams",
            "8",
        ],
        "one state of the event-sourced protocol at these sizes needs ",
    );
    assert_bad_input(
        &["explore", "--protocol", "naive", "--max-memory", "1K"],
        "the memory budget of 1.0 KiB (--max-memory) leaves no room for states beyond the \
         process's own 32.0 MiB",
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut explorer = Child(
        joincheck()
            .args(["explore", "--protocol", "event-sourced", "--servers", "4"])
            .args(["--users", "4", "--teams", "4", "--requests", "2"])
            .args(["--max-memory", "33M", "--port", &port.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    // Stderr says when exploring stopped (the watcher asks stateright once a second).
    let mut said = String::new();
    let mut stderr = std::io::BufReader::new(explorer.0.stderr.take().unwrap());
    std::io::BufRead::read_line(&mut stderr, &mut said).unwrap();
    assert!(
        said.starts_with("joincheck: exploring stopped after ")
            && said.ends_with(
                " distinct): the memory budget has room for no more; the Explorer serves what \
                 was found\n"
            ),
        "{said}"
    );
    let started = Instant::now();
    let stopped = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "exploring did not stop"
        );
        std::thread::sleep(Duration::from_millis(200));
        let Some(response) = http_get(port, "/.status") else {
            continue;
        };
        let Some((_, body)) = response.split_once("\r\n\r\n") else {
            continue;
        };
        let Ok(status) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        if !status["stopped"].is_null() {
            break status;
        }
    };
    assert_eq!(stopped["complete"], false, "{stopped}");
    let why = stopped["stopped"].as_str().unwrap();
    assert!(
        why.starts_with("exploring stopped after ")
            && why.ends_with(
                " generated states: the memory budget of 33.0 MiB (--max-memory) has room for no \
                 more; what was found so far is listed, the states beyond were not explored"
            ),
        "{why}"
    );
    // The banner said where it would stop.
    let _ = explorer.0.kill();
    let mut banner = String::new();
    let mut stdout = explorer.0.stdout.take().unwrap();
    std::io::Read::read_to_string(&mut stdout, &mut banner).unwrap();
    assert!(
        banner.ends_with(
            "exploring stops after 2,048 generated states: the memory budget of 33.0 MiB \
             (--max-memory) has room for about that many\n"
        ),
        "{banner}"
    );
}
