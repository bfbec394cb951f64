//! Histories of real requests, as workers saw them: what each asked, when it was invoked, when it
//! completed (on one monotonic clock) and what came back. A history is what a linearizability
//! check ([`crate::linearizability`]) judges, and what `stress --out DIR` saves, as JSON lines.
//!
//! A call's outcome is one of four: **ok** and **refused** are answers, which the specification
//! judges; an **error** says the request did not take effect; an **unknown** outcome (the
//! connection died before the answer) has no completion: the request may take effect at any time
//! after its invocation, or never.
//!
//! ```
//! use joincheck::history::join::{JoinHistory, JoinRequest};
//! use joincheck::history::{Call, Outcome};
//! use joincheck::models::domain::{JoinError, Request, TeamId, UserId};
//!
//! let (sue, a, b) = (UserId(0), TeamId(0), TeamId(1));
//! let mut history = JoinHistory::new();
//! let join = |team| JoinRequest(Request::Join { user: sue, team });
//! history.push(Call::new(0, join(a), 0, 80, Outcome::Ok(())))?;
//! let refused = Err(JoinError::AlreadyOnTeam { team: a });
//! history.push(Call::new(1, join(b), 90, 120, Outcome::from(refused)))?;
//! history.push(Call::unknown(2, join(b), 100))?;
//!
//! let mut lines = Vec::new();
//! history.write_json_lines(&mut lines)?;
//! assert_eq!(JoinHistory::read_json_lines(&lines[..])?, history);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod join;
pub mod register;
pub mod svg;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::{self, BufRead, Write};

/// An instant on the history's one monotonic clock: the stress command counts nanoseconds since
/// its start; a log without times (Jepsen's) counts lines.
pub type Ticks = u64;

/// What came back from one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome<A, R> {
    /// The service said yes, with its answer (the value a read returned; nothing for a join).
    Ok(A),
    /// The service said no, with its reason.
    Refused(R),
    /// The request failed and did not take effect (a rolled-back transaction), with the message.
    Error(String),
    /// No answer came (the connection died first): the request may take effect at any time
    /// after its invocation, or never.
    Unknown,
}

impl<A, R> Outcome<A, R> {
    /// `ok`, `refused`, `error` or `unknown`: the word reports and timelines use.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Ok(_) => "ok",
            Outcome::Refused(_) => "refused",
            Outcome::Error(_) => "error",
            Outcome::Unknown => "unknown",
        }
    }
}

/// One request as one worker saw it. Its id is its position in the [`History`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Call<I, A, R> {
    /// The worker (thread, Jepsen process) that made it; a worker makes one request at a time.
    pub worker: u32,
    /// What it asked.
    pub input: I,
    /// When it was invoked.
    pub invoked: Ticks,
    /// When its answer came; none when the outcome is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<Ticks>,
    /// What came back.
    pub outcome: Outcome<A, R>,
}

impl<I, A, R> Call<I, A, R> {
    /// A request that completed at `completed` with `outcome` (ok, refused or error).
    pub fn new(
        worker: u32,
        input: I,
        invoked: Ticks,
        completed: Ticks,
        outcome: Outcome<A, R>,
    ) -> Self {
        Call {
            worker,
            input,
            invoked,
            completed: Some(completed),
            outcome,
        }
    }

    /// A request invoked at `invoked` whose answer never came.
    pub fn unknown(worker: u32, input: I, invoked: Ticks) -> Self {
        Call {
            worker,
            input,
            invoked,
            completed: None,
            outcome: Outcome::Unknown,
        }
    }
}

/// Requests in the order they were recorded; each call's id is its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History<I, A, R> {
    calls: Vec<Call<I, A, R>>,
}

impl<I, A, R> Default for History<I, A, R> {
    fn default() -> Self {
        History { calls: Vec::new() }
    }
}

impl<I, A, R> History<I, A, R> {
    /// An empty history.
    pub fn new() -> Self {
        History::default()
    }

    /// Adds `call` and returns its id, if it is well formed: it completes no earlier than it was
    /// invoked, and it has a completion exactly when its outcome is not unknown.
    pub fn push(&mut self, call: Call<I, A, R>) -> Result<usize, HistoryError> {
        let id = self.calls.len();
        let problem = match (call.completed, &call.outcome) {
            (None, Outcome::Unknown) => None,
            (Some(_), Outcome::Unknown) => Some("has an unknown outcome and a completion"),
            (None, _) => Some("has an answer and no completion"),
            (Some(completed), _) if completed < call.invoked => {
                Some("completes before it was invoked")
            }
            (Some(_), _) => None,
        };
        match problem {
            Some(problem) => Err(HistoryError::Malformed { call: id, problem }),
            None => {
                self.calls.push(call);
                Ok(id)
            }
        }
    }

    /// Every call, by id.
    pub fn calls(&self) -> &[Call<I, A, R>] {
        &self.calls
    }

    /// How many calls.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether there are no calls.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The latest instant the history mentions: the last invocation or completion.
    pub fn end(&self) -> Ticks {
        self.calls
            .iter()
            .map(|call| call.completed.unwrap_or(call.invoked))
            .max()
            .unwrap_or(0)
    }
}

impl<I: Serialize, A: Serialize, R: Serialize> History<I, A, R> {
    /// Writes one JSON object per call, one per line, in id order:
    /// `{"worker":0,"input":…,"invoked":0,"completed":80,"outcome":{"ok":null}}`.
    pub fn write_json_lines(&self, mut out: impl Write) -> io::Result<()> {
        for call in &self.calls {
            serde_json::to_writer(&mut out, call)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }
}

impl<I: DeserializeOwned, A: DeserializeOwned, R: DeserializeOwned> History<I, A, R> {
    /// Reads what [`History::write_json_lines`] wrote; blank lines are skipped.
    pub fn read_json_lines(input: impl BufRead) -> Result<Self, HistoryError> {
        let mut history = History::new();
        for (index, line) in input.lines().enumerate() {
            let line = line.map_err(|error| HistoryError::Io(error.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let call = serde_json::from_str(&line).map_err(|error| HistoryError::Json {
                line: index + 1,
                message: error.to_string(),
            })?;
            history.push(call)?;
        }
        Ok(history)
    }
}

/// Why a history was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryError {
    /// A call is not well formed.
    Malformed {
        /// Its id.
        call: usize,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A line is not a call.
    Json {
        /// The line, from 1.
        line: usize,
        /// What serde said.
        message: String,
    },
    /// The input could not be read.
    Io(String),
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::Malformed { call, problem } => write!(f, "call {call} {problem}"),
            HistoryError::Json { line, message } => write!(f, "line {line}: {message}"),
            HistoryError::Io(message) => write!(f, "cannot read the history: {message}"),
        }
    }
}

impl std::error::Error for HistoryError {}
