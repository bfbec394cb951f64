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
