//! The parts of a replay file: the recorded steps and violation, what reruns it, and the
//! workload, each convertible from the harness's own types.

use super::names::{Server, SizesRecord, Team, User};
use crate::check::{Scenario, ScenarioError};
use joincheck_models::domain::Request;
use joincheck_models::operation::{team_or_none, OpResult, Operation, Step};
use joincheck_models::verdict::{Engine, Replay, Violation};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The broken invariant as data: `sue ∈ {team-A, team-B}`, or an added invariant's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged, try_from = "RawViolation")]
pub enum ViolationRecord {
    /// "A user is on at most one team" is broken.
    OnSeveralTeams {
        /// The user on several teams.
        user: User,
        /// Every team listing the user.
        teams: Vec<Team>,
    },
    /// An invariant added to the check is broken.
    Invariant {
        /// Its name.
        invariant: String,
        /// What is wrong, in its words.
        detail: String,
    },
}

/// A violation as read, before it is known which kind it is: every field of either kind, so
/// that a wrong one is named by its path, then one kind or the other.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawViolation {
    user: Option<User>,
    teams: Option<Vec<Team>>,
    invariant: Option<String>,
    detail: Option<String>,
}

impl TryFrom<RawViolation> for ViolationRecord {
    type Error = String;

    fn try_from(raw: RawViolation) -> Result<ViolationRecord, String> {
        match raw {
            RawViolation {
                user: Some(user),
                teams: Some(teams),
                invariant: None,
                detail: None,
            } => Ok(ViolationRecord::OnSeveralTeams { user, teams }),
            RawViolation {
                user: None,
                teams: None,
                invariant: Some(invariant),
                detail: Some(detail),
            } => Ok(ViolationRecord::Invariant { invariant, detail }),
            _ => Err(
                "a violation has `user` and `teams` (a user on several teams), or \
                 `invariant` and `detail` (an invariant of your own), and nothing else"
                    .to_string(),
            ),
        }
    }
}

impl ViolationRecord {
    /// The record of `violation`.
    pub fn of(violation: &Violation) -> ViolationRecord {
        match violation {
            Violation::OnSeveralTeams(several) => ViolationRecord::OnSeveralTeams {
                user: User(several.user),
                teams: several.teams.iter().copied().map(Team).collect(),
            },
            Violation::Invariant { name, detail } => ViolationRecord::Invariant {
                invariant: name.clone(),
                detail: detail.clone(),
            },
        }
    }
}

/// As a trace prints it: `sue ∈ {team-A, team-B}`, or `team-A has 3 members (a team has at
/// most 2 members)`.
impl fmt::Display for ViolationRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ViolationRecord::OnSeveralTeams { user, teams } => {
                let teams: Vec<String> = teams.iter().map(ToString::to_string).collect();
                write!(f, "{user} ∈ {{{}}}", teams.join(", "))
            }
            ViolationRecord::Invariant { invariant, detail } => write!(f, "{detail} ({invariant})"),
        }
    }
}

/// One recorded operation: who, what, its answer, and membership right after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepRecord {
    /// The server that performed it.
    pub server: Server,
    /// The protocol-level verb: check, act, read, append, …
    pub operation: String,
    /// The operation in words.
    pub detail: String,
    /// The operation's arguments.
    pub arguments: Arguments,
    /// What it returned, in words.
    pub result: String,
    /// Whether an append was refused.
    pub conflict: bool,
    /// Team membership right after.
    pub membership_after: Vec<Member>,
}

/// The arguments of an operation; each operation has some of these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arguments {
    /// The user asked about, moved or written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The team pushed to, pulled from, inserted, deleted or set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<Team>,
    /// The stream read or appended to, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The version an append expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    /// The events appended, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// The condition of a conditional update, in words: `team is none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The fencing token a fenced operation carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u64>,
    /// The users whose team a store's own operation reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<User>,
    /// The users whose team a store's own operation may change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<User>,
}

/// A user listed by a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Member {
    /// The team.
    pub team: Team,
    /// The user.
    pub user: User,
}

/// What reruns a counterexample, by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", try_from = "RawReplay")]
pub enum ReplayRecord {
    /// A path of model actions from the initial state.
    ModelPath {
        /// Servers, users, teams, requests; an object (`{"servers": 2, …}`) in the file.
        #[serde(serialize_with = "super::names::serialize_sizes")]
        sizes: [u8; 4],
        /// The action at each step, by name.
        actions: Vec<String>,
    },
    /// A shuttle schedule of the real code on [`CounterexampleFile::scenario`](super::CounterexampleFile::scenario).
    ShuttleSchedule {
        /// shuttle's encoded schedule.
        schedule: String,
        /// The scheduler and seed that found it, in words.
        found_by: String,
    },
    /// The loom execution (counted from 1) at which loom's exploration broke the invariant.
    LoomExecution {
        /// The execution.
        iteration: u64,
    },
    /// A run on real threads: the operating system chose the interleaving.
    StressRun {
        /// Which run it was.
        run: u64,
    },
    /// The DPOR execution: the thread that ran each event (`1 2 2 1`).
    DporSchedule {
        /// The threads by number.
        schedule: String,
    },
}

/// The kinds of [`ReplayRecord`], by the name a file gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ReplayKind {
    ModelPath,
    ShuttleSchedule,
    LoomExecution,
    StressRun,
    DporSchedule,
}

/// A replay record as read: every field of every kind, so that a wrong one is named by its path
/// (`replay.sizes.servers`), then the kind's own fields, and no other.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReplay {
    kind: ReplayKind,
    sizes: Option<SizesRecord>,
    actions: Option<Vec<String>>,
    schedule: Option<String>,
    found_by: Option<String>,
    iteration: Option<u64>,
    run: Option<u64>,
}

impl TryFrom<RawReplay> for ReplayRecord {
    type Error = String;

    fn try_from(raw: RawReplay) -> Result<ReplayRecord, String> {
        let RawReplay {
            kind,
            sizes,
            actions,
            schedule,
            found_by,
            iteration,
            run,
        } = raw;
        let given = [
            ("sizes", sizes.is_some()),
            ("actions", actions.is_some()),
            ("schedule", schedule.is_some()),
            ("found_by", found_by.is_some()),
            ("iteration", iteration.is_some()),
            ("run", run.is_some()),
        ];
        let (record, own): (Option<ReplayRecord>, &[&str]) =
            match kind {
                ReplayKind::ModelPath => (
                    sizes.zip(actions).map(|(SizesRecord(sizes), actions)| {
                        ReplayRecord::ModelPath { sizes, actions }
                    }),
                    &["sizes", "actions"],
                ),
                ReplayKind::ShuttleSchedule => (
                    schedule.zip(found_by).map(|(schedule, found_by)| {
                        ReplayRecord::ShuttleSchedule { schedule, found_by }
                    }),
                    &["schedule", "found_by"],
                ),
                ReplayKind::LoomExecution => (
                    iteration.map(|iteration| ReplayRecord::LoomExecution { iteration }),
                    &["iteration"],
                ),
                ReplayKind::StressRun => (run.map(|run| ReplayRecord::StressRun { run }), &["run"]),
                ReplayKind::DporSchedule => (
                    schedule.map(|schedule| ReplayRecord::DporSchedule { schedule }),
                    &["schedule"],
                ),
            };
        let kind = match kind {
            ReplayKind::ModelPath => "model-path",
            ReplayKind::ShuttleSchedule => "shuttle-schedule",
            ReplayKind::LoomExecution => "loom-execution",
            ReplayKind::StressRun => "stress-run",
            ReplayKind::DporSchedule => "dpor-schedule",
        };
        let fields = |names: &[&str]| -> String {
            let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
            quoted.join(" and ")
        };
        if let Some((foreign, _)) = given.iter().find(|(name, set)| *set && !own.contains(name)) {
            return Err(format!(
                "`{foreign}` is not a field of a {kind}, which has {}",
                fields(own)
            ));
        }
        record.ok_or_else(|| format!("a {kind} needs {}", fields(own)))
    }
}

/// The workload the real code ran: each server's requests over declared users and teams.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Users declared.
    pub users: u8,
    /// Teams declared.
    pub teams: u8,
    /// Each server's requests, in order.
    pub servers: Vec<Vec<RequestRecord>>,
    /// The memberships the database starts with.
    #[serde(default)]
    pub initial: Vec<Member>,
}

/// One request, by `request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "lowercase", deny_unknown_fields)]
pub enum RequestRecord {
    /// Add `user` to `team`.
    Join {
        /// The user.
        user: User,
        /// The team.
        team: Team,
    },
    /// Remove `user` from `team`.
    Leave {
        /// The user.
        user: User,
        /// The team.
        team: Team,
    },
}

/// loom's settings for the run that found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoomRecord {
    /// At most this many preemptions per interleaving, if bounded.
    pub preemption_bound: Option<usize>,
}

impl StepRecord {
    /// The record of `step`.
    pub fn of(step: &Step) -> StepRecord {
        let mut arguments = Arguments::default();
        match &step.operation {
            Operation::FindTeamOf { user } => arguments.user = Some(User(*user)),
            Operation::PushMember { team, user } | Operation::PullMember { team, user } => {
                arguments.team = Some(Team(*team));
                arguments.user = Some(User(*user));
            }
            Operation::Read { stream } => arguments.stream = Some(stream.to_string()),
            Operation::ReadAll => {} // every stream: no arguments
            Operation::Append {
                stream,
                expected,
                events,
            } => {
                arguments.stream = Some(stream.to_string());
                arguments.expected_version = Some(*expected);
                arguments.events = Some(events.iter().map(ToString::to_string).collect());
            }
            Operation::InsertMembership { user, team }
            | Operation::DeleteMembership { user, team } => {
                arguments.user = Some(User(*user));
                arguments.team = Some(Team(*team));
            }
            Operation::UpdateTeam {
                user,
                team,
                where_team,
            } => {
                arguments.user = Some(User(*user));
                arguments.team = team.map(Team);
                arguments.condition = Some(format!("team is {}", team_or_none(*where_team)));
            }
            Operation::Acquire { user }
            | Operation::Release { user }
            | Operation::Expire { user } => {
                arguments.user = Some(User(*user));
            }
            Operation::Fenced { token, operation } => {
                let unfenced = Step {
                    operation: operation.as_ref().clone(),
                    ..step.clone()
                };
                arguments = StepRecord::of(&unfenced).arguments;
                arguments.token = Some(*token);
            }
            Operation::Custom(custom) => {
                arguments.reads = custom.reads.iter().copied().map(User).collect();
                arguments.writes = custom.writes.iter().copied().map(User).collect();
            }
            Operation::Sql(statement) => {
                arguments.reads = statement.reads.iter().copied().map(User).collect();
                arguments.writes = statement.writes.iter().copied().map(User).collect();
            }
        }
        StepRecord {
            server: Server(step.server),
            operation: step.operation.verb().to_string(),
            detail: step.operation.to_string(),
            arguments,
            result: step.result.to_string(),
            conflict: matches!(step.result, OpResult::Conflict { .. }),
            membership_after: step
                .membership_after
                .iter()
                .map(|&(team, user)| Member {
                    team: Team(team),
                    user: User(user),
                })
                .collect(),
        }
    }
}

impl ReplayRecord {
    /// The record of `replay`.
    pub fn of(replay: &Replay) -> ReplayRecord {
        match replay.clone() {
            Replay::ModelPath { sizes, actions } => ReplayRecord::ModelPath { sizes, actions },
            Replay::ShuttleSchedule { schedule, found_by } => {
                ReplayRecord::ShuttleSchedule { schedule, found_by }
            }
            Replay::LoomExecution { iteration } => ReplayRecord::LoomExecution { iteration },
            Replay::StressRun { run } => ReplayRecord::StressRun { run },
            Replay::DporSchedule { schedule } => ReplayRecord::DporSchedule { schedule },
        }
    }
}

impl ReplayRecord {
    /// The engines that record this kind of replay: a schedule is shuttle's, whether shuttle
    /// tried it on the workload given or proptest on one it generated.
    pub fn recorded_by(&self) -> &'static [Engine] {
        match self {
            ReplayRecord::ModelPath { .. } => &[Engine::Model],
            ReplayRecord::ShuttleSchedule { .. } => &[Engine::Shuttle, Engine::Proptest],
            ReplayRecord::LoomExecution { .. } => &[Engine::Loom],
            ReplayRecord::StressRun { .. } => &[Engine::Stress],
            ReplayRecord::DporSchedule { .. } => &[Engine::Dpor],
        }
    }

    /// What kind of replay it is, in words: `model path`.
    pub fn kind(&self) -> &'static str {
        match self {
            ReplayRecord::ModelPath { .. } => "model path",
            ReplayRecord::ShuttleSchedule { .. } => "shuttle schedule",
            ReplayRecord::LoomExecution { .. } => "loom execution",
            ReplayRecord::StressRun { .. } => "run on real threads",
            ReplayRecord::DporSchedule { .. } => "DPOR schedule",
        }
    }
}

impl Workload {
    /// The record of `scenario`.
    pub fn of(scenario: &Scenario) -> Workload {
        let record = |request: &Request| match *request {
            Request::Join { user, team } => RequestRecord::Join {
                user: User(user),
                team: Team(team),
            },
            Request::Leave { user, team } => RequestRecord::Leave {
                user: User(user),
                team: Team(team),
            },
        };
        Workload {
            users: scenario.users(),
            teams: scenario.teams(),
            servers: scenario
                .servers()
                .iter()
                .map(|requests| requests.iter().map(record).collect())
                .collect(),
            initial: scenario
                .initial()
                .iter()
                .map(|&(team, user)| Member {
                    team: Team(team),
                    user: User(user),
                })
                .collect(),
        }
    }

    /// The scenario this workload describes, if it is a valid one.
    pub fn scenario(&self) -> Result<Scenario, ScenarioError> {
        let request = |record: &RequestRecord| match *record {
            RequestRecord::Join { user, team } => Request::Join {
                user: user.0,
                team: team.0,
            },
            RequestRecord::Leave { user, team } => Request::Leave {
                user: user.0,
                team: team.0,
            },
        };
        let servers = self
            .servers
            .iter()
            .map(|requests| requests.iter().map(request).collect())
            .collect();
        let initial = self.initial.iter().map(|m| (m.team.0, m.user.0)).collect();
        Scenario::new(self.users, self.teams, servers, initial)
    }
}
