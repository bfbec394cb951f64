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
use joincheck_models::domain::{TeamId, UserId};
use joincheck_models::plural;
use joincheck_models::verdict::{Counterexample, Engine};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// The version of the replay file format. Version 1 held the workload as text; version 2 held a
/// model path's sizes as an array, and is still read.
pub const FILE_VERSION: u32 = 3;

/// The earlier version still read: the same fields, the sizes of a model path as an array.
const READABLE_VERSION: u32 = 2;

/// A counterexample with what reruns it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CounterexampleFile {
    /// [`FILE_VERSION`].
    pub version: u32,
    /// The protocol's name.
    pub protocol: String,
    /// The database the real code ran on, `sqlite` or `postgres`; absent for the in-memory
    /// stores and the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
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
                "version {version} (this joincheck reads versions {READABLE_VERSION} and \
                 {FILE_VERSION})"
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
            database: None,
            parameters: found.parameters.clone(),
            engine: found.engine,
            violation: ViolationRecord::of(&found.violation),
            steps: found.steps.iter().map(StepRecord::of).collect(),
            replay: ReplayRecord::of(&found.replay),
            scenario: workload.map(Workload::of),
            loom: (found.engine == Engine::Loom).then_some(LoomRecord { preemption_bound }),
        }
    }

    /// The same file, found on `database` (`sqlite` or `postgres`).
    pub fn on_database(mut self, database: &str) -> CounterexampleFile {
        self.database = Some(database.to_string());
        self
    }

    /// The file as JSON (keys in alphabetical order).
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a replay file is plain data")
    }

    /// Reads a file from its text: the version first, so an old file says so; then every field,
    /// an error naming the field it is about in words (never in Rust's types); then that the
    /// engine is one that records this kind of replay, and that the workload names only the
    /// users and teams it declares. A byte order mark, which some editors write, is not part of
    /// the JSON.
    pub fn from_json(text: &str) -> Result<CounterexampleFile, FileError> {
        let value = json_object(text, "a counterexample")?;
        match value.get("version") {
            None => {
                return Err(FileError::NotAFile(
                    "a JSON object without `version`".to_string(),
                ))
            }
            Some(version) if *version != FILE_VERSION && *version != READABLE_VERSION => {
                return Err(FileError::Version(version.to_string()))
            }
            Some(_) => {}
        }
        let mut file: CounterexampleFile = typed(value)?;
        file.version = FILE_VERSION;
        let recorder = file.replay.recorded_by();
        if !recorder.contains(&file.engine) {
            let names: Vec<String> = recorder.iter().map(|e| format!("`{e}`")).collect();
            return Err(FileError::Shape(format!(
                "`engine`: {}, but `replay` is a {}, which only {} records",
                file.engine,
                file.replay.kind(),
                names.join(" or ")
            )));
        }
        if let Some(workload) = &file.scenario {
            workload.declares_what_it_names("scenario.")?;
        }
        Ok(file)
    }
}

impl Workload {
    /// Reads a workload file (`check --workload`): the `scenario` of a replay file on its own,
    /// every field checked and named in words when wrong, and every user and team it names
    /// among those it declares.
    pub fn from_json(text: &str) -> Result<Workload, FileError> {
        let workload: Workload = typed(json_object(text, "a workload")?)?;
        workload.declares_what_it_names("")?;
        Ok(workload)
    }

    /// Whether every user and team the requests and initial members name is among those
    /// declared; the error names the field (under `prefix`) and the names declared.
    fn declares_what_it_names(&self, prefix: &str) -> Result<(), FileError> {
        let declared = |count: u8, name: &dyn Fn(u8) -> String, what: &str| {
            let names: Vec<String> = (0..count.min(9)).map(name).collect();
            let more = if count > 9 { ", …" } else { "" };
            format!("{} ({}{more})", plural(count, what), names.join(", "))
        };
        for (field, count, first) in [
            ("users", self.users, UserId(0).to_string()),
            ("teams", self.teams, TeamId(0).to_string()),
        ] {
            if count == 0 {
                return Err(FileError::Shape(format!(
                    "`{prefix}{field}`: 0, and a workload declares at least 1 ({first} is the \
                     first)"
                )));
            }
        }
        let users = declared(self.users, &|i| UserId(i).to_string(), "user");
        let teams = declared(self.teams, &|i| TeamId(i).to_string(), "team");
        let outside = |path: String, member: &str, what: &str, index: u8, declared: &str| {
            FileError::Shape(format!(
                "`{prefix}{path}`: {member} is {what} {} in order, and the workload declares \
                 {declared}",
                u16::from(index) + 1
            ))
        };
        let named = self.servers.iter().enumerate().flat_map(|(s, requests)| {
            requests.iter().enumerate().map(move |(k, request)| {
                let (RequestRecord::Join { user, team } | RequestRecord::Leave { user, team }) =
                    *request;
                (format!("servers[{s}][{k}]"), user, team)
            })
        });
        let initial = self.initial.iter().enumerate();
        let initial =
            initial.map(|(i, member)| (format!("initial[{i}]"), member.user, member.team));
        for (path, user, team) in named.chain(initial) {
            let named = [
                ("user", user.0 .0, user.to_string(), self.users, &users),
                ("team", team.0 .0, team.to_string(), self.teams, &teams),
            ];
            for (field, index, name, count, declared) in named {
                if index >= count {
                    let path = format!("{path}.{field}");
                    return Err(outside(path, &name, field, index, declared));
                }
            }
        }
        Ok(())
    }
}

/// `text` as a JSON object, or what it is instead; `what` is what it should be. A byte order
/// mark is not part of the JSON.
fn json_object(text: &str, what: &str) -> Result<Value, FileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value: Value = serde_json::from_str(text)
        .map_err(|error| FileError::Json(in_words(&error.to_string())))?;
    if !value.is_object() {
        return Err(FileError::NotAFile(format!(
            "{what} is a JSON object, this is {}",
            json_kind(&value)
        )));
    }
    Ok(value)
}

/// `value` as a `T`, or the first field that is wrong, by its path, and what is wrong, in words.
fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, FileError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = super::one_line(&error.path().to_string());
        let what = in_words(&error.inner().to_string());
        match path.as_str() {
            "." => FileError::Shape(what),
            _ => FileError::Shape(format!("`{path}`: {what}")),
        }
    })
}

/// serde's words for what it expected, in a reader's: the Rust type names (`u8`, `struct
/// StepRecord`) become what a file holds (a whole number from 0 to 255, an object), and control
/// characters a file's keys or strings hold are escaped (`\n`), so the message stays one line.
fn in_words(message: &str) -> String {
    const WORDS: [(&str, &str); 12] = [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65,535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4,294,967,295",
        ),
        ("expected u64", "expected a whole number from 0 to 2^64 − 1"),
        (
            "expected usize",
            "expected a whole number from 0 to 2^64 − 1",
        ),
        ("expected a sequence", "expected an array"),
        ("expected a borrowed string", "expected a string"),
        ("expected a map", "expected an object"),
        ("invalid type: map", "invalid type: an object"),
        ("invalid type: sequence", "invalid type: an array"),
        ("invalid type: unit value", "invalid type: null"),
        ("invalid type: floating point", "invalid type: number"),
    ];
    let mut words = super::one_line(message);
    for (rust, file) in WORDS {
        words = words.replace(rust, file);
    }
    if let Some(at) = words.find("expected internally tagged enum RequestRecord") {
        words.replace_range(at.., "expected an object with `request`");
    }
    if let Some(at) = words.find("expected struct ") {
        let end = words[at + "expected struct ".len()..]
            .find(|c: char| !c.is_alphanumeric())
            .map_or(words.len(), |end| at + "expected struct ".len() + end);
        words.replace_range(at..end, "expected an object");
    }
    words
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
        let old = text.replace(r#""version":3"#, r#""version":1"#);
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
            "`scenario.users`: invalid value: integer `300`, expected a whole number from 0 to 255"
        );
    }
}
