//! A counterexample as a replay file: what broke, step by step, and everything a rerun needs as
//! data (the workload, and the model path, shuttle schedule, loom execution or stress run).
//!
//! `check --out` writes it and `check --format json` embeds it; `replay` reads it. serde does
//! both directions from these types, so nothing is read back from the words a trace prints.
//! Field names are part of the public interface: bump [`FILE_VERSION`] when one changes meaning.

mod names;
mod records;

pub use names::{Server, Team, User};
pub use records::{
    Arguments, LoomRecord, Member, ReplayRecord, RequestRecord, StepRecord, ViolationRecord,
    Workload,
};

use crate::check::Scenario;
use joincheck_models::verdict::{Counterexample, Engine};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The version of the replay file format. Version 1 held the workload as text.
pub const FILE_VERSION: u32 = 2;

/// A counterexample with what reruns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterexampleFile {
    /// [`FILE_VERSION`].
    pub version: u32,
    /// The protocol's name.
    pub protocol: String,
    /// What was checked, in words.
    pub parameters: String,
    /// The engine that found it.
    #[serde(with = "names::engine")]
    pub engine: Engine,
    /// The broken invariant after the last step.
    pub violation: ViolationRecord,
    /// The steps, in the order they took effect.
    pub steps: Vec<StepRecord>,
    /// What reruns it.
    pub replay: ReplayRecord,
    /// The workload the real code ran (every engine but the model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<Workload>,
    /// loom's settings (loom only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loom: Option<LoomRecord>,
}

/// Why a replay file cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// Not JSON at all.
    Json(String),
    /// JSON, but not an object with a `version` (what it is instead, in words).
    NotAFile(String),
    /// Another version of the format.
    Version(String),
    /// JSON of this version, but not a counterexample: the field, and what is wrong with it.
    Shape(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Json(error) => write!(f, "invalid JSON ({error})"),
            FileError::NotAFile(what) => write!(f, "{what}"),
            FileError::Version(version) if version == "1" => write!(
                f,
                "version 1, written by an earlier joincheck; this joincheck reads version \
                 {FILE_VERSION}: save it again with `joincheck check --out DIR`"
            ),
            FileError::Version(version) => write!(
                f,
                "version {version} (this joincheck reads version {FILE_VERSION})"
            ),
            FileError::Shape(error) => write!(f, "{error}"),
        }
    }
}

impl CounterexampleFile {
    /// The file of `found`, with the `workload` the real code ran and loom's preemption bound.
    pub fn new(
        found: &Counterexample,
        workload: Option<&Scenario>,
        preemption_bound: Option<usize>,
    ) -> CounterexampleFile {
        CounterexampleFile {
            version: FILE_VERSION,
            protocol: found.protocol.clone(),
            parameters: found.parameters.clone(),
            engine: found.engine,
            violation: ViolationRecord::of(&found.violation),
            steps: found.steps.iter().map(StepRecord::of).collect(),
            replay: ReplayRecord::of(&found.replay),
            scenario: workload.map(Workload::of),
            loom: (found.engine == Engine::Loom).then_some(LoomRecord { preemption_bound }),
        }
    }

    /// The file as JSON (keys in alphabetical order).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a replay file is plain data")
    }

    /// Reads a file from its text: the version first, so an old file says so; then every field,
    /// an error naming the field it is about. A byte order mark, which some editors write, is
    /// not part of the JSON.
    pub fn from_json(text: &str) -> Result<CounterexampleFile, FileError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Value =
            serde_json::from_str(text).map_err(|error| FileError::Json(error.to_string()))?;
        let Some(object) = value.as_object() else {
            return Err(FileError::NotAFile(format!(
                "a counterexample is a JSON object, this is {}",
                json_kind(&value)
            )));
        };
        match object.get("version") {
            None => {
                return Err(FileError::NotAFile(
                    "a JSON object without `version`".to_string(),
                ))
            }
            Some(version) if *version != FILE_VERSION => {
                return Err(FileError::Version(version.to_string()))
            }
            Some(_) => {}
        }
        serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            match path.as_str() {
                "." => FileError::Shape(error.inner().to_string()),
                _ => FileError::Shape(format!("`{path}`: {}", error.inner())),
            }
        })
    }
}

/// `an array`, `null`, …: what a JSON value is, in words.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use joincheck_models::domain::{OnSeveralTeams, Request, TeamId, UserId};
    use joincheck_models::verdict::Replay;

    #[test]
    fn a_workload_reads_back_as_the_same_scenario() {
        let (sue, john) = (UserId(0), UserId(1));
        let servers = vec![
            vec![Request::Join {
                user: sue,
                team: TeamId(1),
            }],
            vec![Request::Leave {
                user: john,
                team: TeamId(0),
            }],
        ];
        let scenario = Scenario::new(2, 2, servers, vec![(TeamId(0), john)]).unwrap();
        let text = serde_json::to_string(&Workload::of(&scenario)).unwrap();
        let read: Workload = serde_json::from_str(&text).unwrap();
        assert_eq!(read.scenario(), Ok(scenario));
        assert!(text.contains(r#"{"request":"leave","user":"john","team":"team-A"}"#));
    }

    #[test]
    fn a_file_reads_back_as_written_and_other_versions_are_refused() {
        let found = Counterexample {
            protocol: "naive".to_string(),
            parameters: Scenario::article().to_string(),
            engine: Engine::Loom,
            steps: Vec::new(),
            violation: OnSeveralTeams {
                user: UserId(0),
                teams: vec![TeamId(0), TeamId(1)],
            }
            .into(),
            replay: Replay::LoomExecution { iteration: 4 },
        };
        let file = CounterexampleFile::new(&found, Some(&Scenario::article()), Some(2));
        let text = file.to_json().to_string();
        assert_eq!(CounterexampleFile::from_json(&text), Ok(file));
        let old = text.replace(r#""version":2"#, r#""version":1"#);
        assert_eq!(
            CounterexampleFile::from_json(&old),
            Err(FileError::Version("1".to_string()))
        );
    }

    #[test]
    fn what_is_not_a_file_says_what_it_is_and_a_bad_field_is_named() {
        let refused = |text: &str| CounterexampleFile::from_json(text).unwrap_err().to_string();
        assert_eq!(
            refused("[1, 2]"),
            "a counterexample is a JSON object, this is an array"
        );
        assert_eq!(
            refused("null"),
            "a counterexample is a JSON object, this is null"
        );
        assert_eq!(refused(r#"{"a": 1}"#), "a JSON object without `version`");
        let found = Counterexample {
            protocol: "naive".to_string(),
            parameters: Scenario::article().to_string(),
            engine: Engine::Loom,
            steps: Vec::new(),
            violation: OnSeveralTeams {
                user: UserId(0),
                teams: vec![TeamId(0), TeamId(1)],
            }
            .into(),
            replay: Replay::LoomExecution { iteration: 4 },
        };
        let mut json = CounterexampleFile::new(&found, Some(&Scenario::article()), None).to_json();
        let marked = format!("\u{feff}{json}");
        assert!(CounterexampleFile::from_json(&marked).is_ok());
        json["scenario"]["users"] = 300.into();
        assert_eq!(
            refused(&json.to_string()),
            "`scenario.users`: invalid value: integer `300`, expected u8"
        );
    }
}
