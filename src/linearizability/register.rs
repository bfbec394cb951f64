//! A register's sequential specification: one value, nil at the start; a read returns it, a write
//! sets it, a compare-and-set sets it iff it holds the value expected and is refused otherwise.
//! With it the checker decides Jepsen's etcd histories
//! ([`from_jepsen_log`](crate::history::register::from_jepsen_log)).

use super::{Answer, CallOf, Specification};
use crate::history::register::{CasFailed, RegisterOp};
use crate::history::Outcome;

/// One register, nil at the start.
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

impl Specification for Register {
    type Input = RegisterOp;
    type Ok = Option<i64>;
    type Refusal = CasFailed;
    type Key = ();
    type State = Option<i64>;

    fn key(&self, _: &RegisterOp) {}

    fn initial(&self, _: &()) -> Option<i64> {
        None
    }

    fn step(
        &self,
        value: &Option<i64>,
        op: &RegisterOp,
        answer: Answer<'_, Option<i64>, CasFailed>,
    ) -> Option<Option<i64>> {
        match (*op, answer) {
            (RegisterOp::Read, Answer::Ok(read)) => (read == value).then_some(*value),
            (RegisterOp::Read, Answer::Unknown) => Some(*value),
            (RegisterOp::Write(new), Answer::Ok(_) | Answer::Unknown) => Some(Some(new)),
            (RegisterOp::Cas { from, to }, Answer::Ok(_)) => {
                (*value == Some(from)).then_some(Some(to))
            }
            (RegisterOp::Cas { from, .. }, Answer::Refused(CasFailed)) => {
                (*value != Some(from)).then_some(*value)
            }
            (RegisterOp::Cas { from, to }, Answer::Unknown) => Some(if *value == Some(from) {
                Some(to)
            } else {
                *value
            }),
            (_, Answer::Refused(CasFailed)) => None,
        }
    }

    /// Reads, and refused compare-and-sets.
    fn is_read_only(&self, op: &RegisterOp, answer: Answer<'_, Option<i64>, CasFailed>) -> bool {
        matches!(
            (op, answer),
            (RegisterOp::Read, Answer::Ok(_)) | (_, Answer::Refused(_))
        )
    }

    fn describe_call(&self, call: &CallOf<Self>) -> String {
        let outcome = match (&call.input, &call.outcome) {
            (RegisterOp::Read, Outcome::Ok(None)) => "nil".to_string(),
            (RegisterOp::Read, Outcome::Ok(Some(value))) => value.to_string(),
            (_, Outcome::Ok(_)) => "ok".to_string(),
            (_, Outcome::Refused(CasFailed)) => "failed".to_string(),
            (_, Outcome::Error(message)) => format!("error, {message}"),
            (_, Outcome::Unknown) => "unknown".to_string(),
        };
        format!("{}: {outcome}", call.input)
    }

    fn describe_key(&self, _: &()) -> String {
        "the register".to_string()
    }
}
