//! Histories of one register (read, write, compare-and-set), and the reader of Jepsen's logs of
//! such a register: the etcd histories of Horn & Kroening's P-compositional checker, which
//! Porcupine's tests check too.

use super::{Call, History, Outcome};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A history of register operations: a read answers the value it read (`None` for nil); writes
/// and compare-and-sets answer nothing (`None`); a compare-and-set that found another value is
/// refused.
pub type RegisterHistory = History<RegisterOp, Option<i64>, CasFailed>;

/// One operation on the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegisterOp {
    /// Read the value.
    Read,
    /// Set the value.
    Write(i64),
    /// Set the value to `to` if it is `from`.
    Cas {
        /// The value expected.
        from: i64,
        /// The value set.
        to: i64,
    },
}

impl fmt::Display for RegisterOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterOp::Read => write!(f, "read"),
            RegisterOp::Write(value) => write!(f, "write {value}"),
            RegisterOp::Cas { from, to } => write!(f, "cas {from} → {to}"),
        }
    }
}

/// A compare-and-set's refusal: the register did not hold the value expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CasFailed;

/// Reads a Jepsen log of a register (`INFO jepsen.util - 3 :invoke :cas [3 0]`), one tick per
/// line. Each process makes one request at a time: `:ok` answers it, `:fail` refuses a
/// compare-and-set or says a read did not happen (`:fail :read :timed-out`, an error), and
/// `:info` leaves its outcome unknown, as does a log that ends before the answer.
pub fn from_jepsen_log(log: &str) -> Result<RegisterHistory, JepsenError> {
    let mut history = RegisterHistory::new();
    let mut pending: Vec<(u32, RegisterOp, u64)> = Vec::new();
    for (index, line) in log.lines().enumerate() {
        let tick = index as u64;
        let error = |message: &str| JepsenError {
            line: index + 1,
            message: message.to_string(),
        };
        if line.trim().is_empty() {
            continue;
        }
        let event = line
            .split_once("jepsen.util - ")
            .map(|(_, event)| event)
            .ok_or_else(|| error("not a jepsen.util line"))?;
        let mut words = event.split_whitespace();
        let (Some(process), Some(kind), Some(function)) =
            (words.next(), words.next(), words.next())
        else {
            return Err(error("expected a process, a type and a function"));
        };
        let process: u32 = process.parse().map_err(|_| error("bad process"))?;
        let value: Vec<&str> = words.collect();
        if kind == ":invoke" {
            let op = invocation(function, &value).ok_or_else(|| error("unknown operation"))?;
            if pending.iter().any(|(p, ..)| *p == process) {
                return Err(error("a process invoked twice without an answer"));
            }
            pending.push((process, op, tick));
            continue;
        }
        let position = pending
            .iter()
            .position(|(p, ..)| *p == process)
            .ok_or_else(|| error("an answer to no invocation"))?;
        let (_, op, invoked) = pending.remove(position);
        if function != op.function() {
            return Err(error("an answer to another operation"));
        }
        let call = |outcome| Call::new(process, op, invoked, tick, outcome);
        let call = match (kind, op, value.as_slice()) {
            (":ok", RegisterOp::Read, ["nil"]) => call(Outcome::Ok(None)),
            (":ok", RegisterOp::Read, [read]) => call(Outcome::Ok(Some(
                read.parse().map_err(|_| error("bad value"))?,
            ))),
            (":ok", _, _) => call(Outcome::Ok(None)),
            (":fail", RegisterOp::Cas { .. }, _) => call(Outcome::Refused(CasFailed)),
            (":fail", RegisterOp::Read, [":timed-out"]) => {
                call(Outcome::Error("timed out".to_string()))
            }
            (":info", ..) => Call::unknown(process, op, invoked),
            _ => return Err(error("an answer this reader does not know")),
        };
        history.push(call).map_err(|e| error(&e.to_string()))?;
    }
    for (process, op, invoked) in pending {
        history
            .push(Call::unknown(process, op, invoked))
            .expect("an unknown call is well formed");
    }
    Ok(history)
}

/// The operation invoked by `:read nil`, `:write 3` or `:cas [3 0]`.
fn invocation(function: &str, value: &[&str]) -> Option<RegisterOp> {
    match (function, value) {
        (":read", ["nil"]) => Some(RegisterOp::Read),
        (":write", [value]) => Some(RegisterOp::Write(value.parse().ok()?)),
        (":cas", [from, to]) => Some(RegisterOp::Cas {
            from: from.strip_prefix('[')?.parse().ok()?,
            to: to.strip_suffix(']')?.parse().ok()?,
        }),
        _ => None,
    }
}

impl RegisterOp {
    /// Jepsen's name of the operation: `:read`, `:write`, `:cas`.
    fn function(self) -> &'static str {
        match self {
            RegisterOp::Read => ":read",
            RegisterOp::Write(_) => ":write",
            RegisterOp::Cas { .. } => ":cas",
        }
    }
}

/// A line of a Jepsen log that this reader cannot read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JepsenError {
    /// The line, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for JepsenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for JepsenError {}
