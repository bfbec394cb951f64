//! The checker on histories nobody here wrote, with published verdicts: Porcupine's key-value
//! histories (the 1- and 10-client ones are in `tests/data/porcupine-kv/`, MIT) and, when
//! `JOINCHECK_PORCUPINE_TEST_DATA` names Porcupine's `test_data` directory, its 50-client ones
//! and the 102 Jepsen etcd histories (register with compare-and-set) of Horn & Kroening.
//! The key-value specification here is written as a user would write their own.

use joincheck::history::register::{from_jepsen_log, RegisterOp};
use joincheck::history::{Call, History, Outcome};
use joincheck::linearizability::register::Register;
use joincheck::linearizability::{check, Answer, CallOf, Options, Specification};
use std::convert::Infallible;
use std::path::PathBuf;

/// Porcupine's etcd histories that are linearizable (from its tests); every other one of
/// `etcd_000.log` to `etcd_102.log` is not, except `etcd_095.log`, which is empty.
const LINEARIZABLE_ETCD: [usize; 23] = [
    2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98, 100, 101, 102,
];

/// Porcupine's `test_data` directory, when the environment names one.
fn porcupine_test_data() -> Option<PathBuf> {
    std::env::var_os("JOINCHECK_PORCUPINE_TEST_DATA").map(PathBuf::from)
}

#[test]
fn the_jepsen_etcd_histories_get_their_published_verdicts() {
    let Some(directory) = porcupine_test_data() else {
        println!("skipped: set JOINCHECK_PORCUPINE_TEST_DATA to Porcupine's test_data directory to check the Jepsen etcd histories");
        return;
    };
    let (mut histories, mut requests, mut unknown) = (0, 0, 0);
    for number in (0..=102).filter(|n| *n != 95) {
        let path = directory.join(format!("jepsen/etcd_{number:03}.log"));
        let log = std::fs::read_to_string(&path).expect("the etcd history");
        let history = from_jepsen_log(&log).expect("a Jepsen log");
        let verdict = check(&Register, &history, &Options::default().minimize(false));
        let expected = if LINEARIZABLE_ETCD.contains(&number) {
            "linearizable"
        } else {
            "not linearizable"
        };
        assert_eq!(verdict.kind(), expected, "etcd_{number:03}.log");
        histories += 1;
        requests += history.len();
        unknown += history
            .calls()
            .iter()
            .filter(|call| call.outcome == Outcome::Unknown)
            .count();
    }
    assert_eq!((histories, requests, unknown), (102, 8523, 1283));
}

/// A register's history as Jepsen logs it, read line by line: a line is a tick.
#[test]
fn a_jepsen_log_reads_into_requests_with_their_outcomes() {
    let log = "\
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:write\t4
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 2\t:invoke\t:cas\t[4 1]
INFO  jepsen.util - 1\t:info\t:write\t:timed-out
INFO  jepsen.util - 2\t:fail\t:cas\t[4 1]
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:fail\t:read\t:timed-out
INFO  jepsen.util - 6\t:invoke\t:cas\t[0 3]
";
    let history = from_jepsen_log(log).unwrap();
    let expected = [
        Call::new(0, RegisterOp::Read, 0, 2, Outcome::Ok(None)),
        Call::unknown(1, RegisterOp::Write(4), 1),
        Call::new(
            2,
            RegisterOp::Cas { from: 4, to: 1 },
            3,
            5,
            Outcome::Refused(joincheck::history::register::CasFailed),
        ),
        Call::new(
            0,
            RegisterOp::Read,
            6,
            7,
            Outcome::Error("timed out".to_string()),
        ),
        Call::unknown(6, RegisterOp::Cas { from: 0, to: 3 }, 8),
    ];
    assert_eq!(history.calls(), expected);
    // The write may have taken effect before the failed compare-and-set, or after: both fine.
    assert_eq!(
        check(&Register, &history, &Options::default()).kind(),
        "linearizable"
    );
    let broken = "INFO  jepsen.util - 0\t:ok\t:read\t3\n";
    assert_eq!(
        from_jepsen_log(broken).unwrap_err().to_string(),
        "line 1: an answer to no invocation"
    );
}

/// A read may see a write that is still in flight, but once a read has seen it, a later read
/// may not see the value before it.
#[test]
fn a_register_read_sees_writes_in_real_time_order() {
    let history = |second_read: (u64, u64)| {
        let mut history = History::new();
        history
            .push(Call::new(
                0,
                RegisterOp::Write(200),
                0,
                100,
                Outcome::Ok(None),
            ))
            .unwrap();
        history
            .push(Call::new(
                1,
                RegisterOp::Read,
                10,
                30,
                Outcome::Ok(Some(200)),
            ))
            .unwrap();
        history
            .push(Call::new(
                2,
                RegisterOp::Read,
                second_read.0,
                second_read.1,
                Outcome::Ok(None),
            ))
            .unwrap();
        history
    };
    assert_eq!(
        check(&Register, &history((5, 20)), &Options::default()).kind(),
        "linearizable"
    );
    let verdict = check(&Register, &history((40, 90)), &Options::default());
    assert_eq!(verdict.unorderable().unwrap().calls, [1, 2]);
}

/// A key-value store's operation: Porcupine's get, put and append.
#[derive(Clone, Debug, PartialEq)]
enum KvOp {
    Get(String),
    Put(String, String),
    Append(String, String),
}

/// Porcupine's key-value store, one key at a time: the value is a string, empty at the start.
struct KeyValue;

impl Specification for KeyValue {
    type Input = KvOp;
    type Ok = String;
    type Refusal = Infallible;
    type Key = String;
    type State = String;

    fn key(&self, op: &KvOp) -> String {
        match op {
            KvOp::Get(key) | KvOp::Put(key, _) | KvOp::Append(key, _) => key.clone(),
        }
    }

    fn initial(&self, _: &String) -> String {
        String::new()
    }

    fn step(
        &self,
        value: &String,
        op: &KvOp,
        answer: Answer<'_, String, Infallible>,
    ) -> Option<String> {
        match (op, answer) {
            (KvOp::Get(_), Answer::Ok(read)) => (read == value).then(|| value.clone()),
            (KvOp::Get(_), _) => Some(value.clone()),
            (KvOp::Put(_, new), _) => Some(new.clone()),
            (KvOp::Append(_, more), _) => Some(format!("{value}{more}")),
        }
    }

    fn describe_call(&self, call: &CallOf<Self>) -> String {
        format!("{:?} → {:?}", call.input, call.outcome)
    }

    fn describe_key(&self, key: &String) -> String {
        format!("key {key}")
    }
}

/// The value of `field` (`:key "0"`) in a line like `{:process 6, :type :ok, :f :get, …}`.
fn field<'a>(line: &'a str, field: &str) -> &'a str {
    let start = line.find(field).expect(field) + field.len() + 1;
    let rest = &line[start..];
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let end = rest.find(['"', ',', '}']).unwrap();
    &rest[..end]
}

/// Reads one of Porcupine's key-value histories, a line a tick.
fn kv_history(text: &str) -> History<KvOp, String, Infallible> {
    let mut history = History::new();
    let mut pending: Vec<(u32, KvOp, u64)> = Vec::new();
    for (tick, line) in text.lines().enumerate() {
        let process: u32 = field(line, ":process").parse().unwrap();
        let (key, value) = (
            field(line, ":key").to_string(),
            field(line, ":value").to_string(),
        );
        if field(line, ":type") == ":invoke" {
            let op = match field(line, ":f") {
                ":get" => KvOp::Get(key),
                ":put" => KvOp::Put(key, value),
                _ => KvOp::Append(key, value),
            };
            pending.push((process, op, tick as u64));
        } else {
            let at = pending.iter().position(|(p, ..)| *p == process).unwrap();
            let (_, op, invoked) = pending.remove(at);
            let answer = if matches!(op, KvOp::Get(_)) {
                value
            } else {
                String::new()
            };
            history
                .push(Call::new(
                    process,
                    op,
                    invoked,
                    tick as u64,
                    Outcome::Ok(answer),
                ))
                .unwrap();
        }
    }
    assert!(pending.is_empty());
    history
}

fn kv_verdict(text: &str) -> (&'static str, usize) {
    let history = kv_history(text);
    let verdict = check(&KeyValue, &history, &Options::default().minimize(false));
    (verdict.kind(), history.len())
}

#[test]
fn porcupines_key_value_histories_get_their_published_verdicts() {
    let data =
        |name| std::fs::read_to_string(format!("tests/data/porcupine-kv/{name}.txt")).unwrap();
    assert_eq!(kv_verdict(&data("c01-ok")), ("linearizable", 58));
    assert_eq!(kv_verdict(&data("c01-bad")), ("not linearizable", 38));
    assert_eq!(kv_verdict(&data("c10-ok")), ("linearizable", 337));
    assert_eq!(kv_verdict(&data("c10-bad")), ("not linearizable", 405));
    let Some(directory) = porcupine_test_data() else {
        println!("skipped the 50-client histories: set JOINCHECK_PORCUPINE_TEST_DATA to Porcupine's test_data directory");
        return;
    };
    let data = |name| std::fs::read_to_string(directory.join(format!("kv/{name}.txt"))).unwrap();
    assert_eq!(kv_verdict(&data("c50-ok")), ("linearizable", 1712));
    assert_eq!(kv_verdict(&data("c50-bad")), ("not linearizable", 2024));
}
