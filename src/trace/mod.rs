//! One counterexample, three renderings: text for terminals and panic messages, a Mermaid
//! `sequenceDiagram` for pull requests and CI summaries, and a versioned replay file for tools.

pub mod file;
mod mermaid;
mod text;

pub use file::{CounterexampleFile, FileError, FILE_VERSION};
pub use mermaid::mermaid;
pub use text::text;

use joincheck_models::domain::{TeamId, UserId};
use joincheck_models::operation::{OpResult, Operation, Step};
use joincheck_models::verdict::{Counterexample, Engine, Replay, Violation};

/// `message` with its control characters escaped (`\n`), so that it stays one line: a file's
/// keys and strings, a file name or a value given on the command line may hold them.
pub fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| match c.is_control() {
            true => c.escape_debug().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// How the engine that found a counterexample explored, in words.
fn how_found(counterexample: &Counterexample) -> String {
    match (&counterexample.engine, &counterexample.replay) {
        (Engine::Model, _) => "exhaustive model check".to_string(),
        (Engine::Loom, Replay::LoomExecution { iteration }) => {
            format!("loom, execution {iteration}")
        }
        (Engine::Proptest, Replay::ShuttleSchedule { found_by, .. }) => {
            format!("proptest, {found_by}")
        }
        (_, Replay::ShuttleSchedule { found_by, .. }) => format!("shuttle, {found_by}"),
        (Engine::Stress, _) => "real threads".to_string(),
        (engine, _) => engine.to_string(),
    }
}

/// `sue ∈ {team-A, team-B}`: the teams listing `user` in `membership`.
fn teams_of(user: UserId, membership: &[(TeamId, UserId)]) -> String {
    let teams: Vec<String> = membership
        .iter()
        .filter(|(_, member)| *member == user)
        .map(|(team, _)| team.to_string())
        .collect();
    format!("{user} ∈ {{{}}}", teams.join(", "))
}

/// What the `broken:` line says: `sue ∈ {team-A, team-B}`, or an added invariant's words and
/// its name.
fn broken(counterexample: &Counterexample) -> String {
    match &counterexample.violation {
        Violation::OnSeveralTeams(several) => several.to_string(),
        Violation::Invariant { name, detail } => format!("{detail} ({name})"),
    }
}

/// What step `index` of `steps` shows in its last column: the answer of a read, the user's teams
/// after a write. A third-party store's operation shows the teams of the user it writes only
/// when that step changed them (or when it answered nothing else,
/// [`OpResult::teams_only`](joincheck_models::operation::OpResult::teams_only)): "ok, sue ∈ {}"
/// after a write that left sue's teams alone would read as if the write had failed. (Before the
/// first step the membership is not in the trace, so a first step shows them.)
fn outcome(steps: &[Step], index: usize) -> String {
    let step = &steps[index];
    let written = match &step.operation {
        Operation::Custom(custom) => Some((&custom.writes, true)),
        Operation::Sql(statement) => Some((&statement.writes, false)),
        _ => None,
    };
    if let Some((writes, custom)) = written {
        let result = step.result.to_string();
        let unchanged = |user: UserId| {
            let teams = |membership: &[(TeamId, UserId)]| teams_of(user, membership);
            index
                .checked_sub(1)
                .is_some_and(|i| teams(&steps[i].membership_after) == teams(&step.membership_after))
        };
        return match writes.first() {
            None => result,
            Some(user) if result.is_empty() => teams_of(*user, &step.membership_after),
            Some(user) if custom && unchanged(*user) => result,
            Some(user) => format!("{result}, {}", teams_of(*user, &step.membership_after)),
        };
    }
    let user = match &step.operation {
        Operation::PushMember { user, .. } | Operation::PullMember { user, .. } => Some(*user),
        Operation::Append { events, .. } => events.first().map(|event| event.user()),
        Operation::FindTeamOf { .. } | Operation::Read { .. } | Operation::ReadAll => None,
        Operation::InsertMembership { user, .. }
        | Operation::DeleteMembership { user, .. }
        | Operation::UpdateTeam { user, .. } => Some(*user),
        Operation::Fenced { operation, .. } => match operation.as_ref() {
            Operation::PushMember { user, .. } | Operation::PullMember { user, .. } => Some(*user),
            _ => None,
        },
        Operation::Acquire { .. }
        | Operation::Release { .. }
        | Operation::Expire { .. }
        | Operation::Custom(_)
        | Operation::Sql(_) => None,
    };
    match (&step.result, user) {
        (OpResult::Stale { .. }, _) => step.result.to_string(),
        (OpResult::Conflict { .. }, _) | (_, None) => step.result.to_string(),
        (OpResult::DuplicateKey { .. }, _) => step.result.to_string(),
        (OpResult::Changed { .. }, Some(user)) => {
            format!(
                "{}, {}",
                step.result,
                teams_of(user, &step.membership_after)
            )
        }
        (OpResult::Appended { version }, Some(user)) => {
            format!(
                "ok (now v{version}), {}",
                teams_of(user, &step.membership_after)
            )
        }
        (_, Some(user)) => teams_of(user, &step.membership_after),
    }
}

/// Whether `step` reads what the invariant is about: `user`'s teams (any user's, when the broken
/// invariant names none). A log read covers every user.
fn reads(step: &Step, user: Option<UserId>) -> bool {
    match &step.operation {
        Operation::FindTeamOf { user: read } => user.is_none_or(|user| *read == user),
        Operation::Read { .. } | Operation::ReadAll => true,
        Operation::Custom(custom) => match user {
            Some(user) => custom.reads.contains(&user),
            None => !custom.reads.is_empty(),
        },
        Operation::Sql(statement) => match user {
            Some(user) => statement.reads.contains(&user),
            None => !statement.reads.is_empty(),
        },
        Operation::Fenced { operation, .. } => reads(
            &Step {
                operation: operation.as_ref().clone(),
                ..step.clone()
            },
            user,
        ),
        _ => false,
    }
}

/// One line on why the violating write was wrong: which of its server's reads it acted on, and
/// which other server's write made that read stale: the first after it to change what it read
/// (the teams of the user on several teams, or any membership for an invariant of the user's).
fn why(counterexample: &Counterexample) -> Option<String> {
    let steps = &counterexample.steps;
    let last = steps.len().checked_sub(1)?;
    let writer = steps[last].server;
    let user = match &counterexample.violation {
        Violation::OnSeveralTeams(several) => Some(several.user),
        Violation::Invariant { .. } => None,
    };
    let read_of = |membership: &[(TeamId, UserId)]| -> Vec<(TeamId, UserId)> {
        let concerned = |member: &&(TeamId, UserId)| user.is_none_or(|user| member.1 == user);
        membership.iter().filter(concerned).copied().collect()
    };
    let read = (0..last)
        .rev()
        .find(|&i| steps[i].server == writer && reads(&steps[i], user))?;
    let stale = (read + 1..last).find(|&i| {
        steps[i].server != writer
            && read_of(&steps[i].membership_after) != read_of(&steps[i - 1].membership_after)
    })?;
    let mut why = format!(
        "{writer} acted at step {} on what it read at step {}; step {} made that read stale.",
        last + 1,
        read + 1,
        stale + 1
    );
    // A lock should have kept the two writes apart: say whose lease had expired.
    for (server, wrote) in [(steps[stale].server, stale), (writer, last)] {
        let expired = (0..wrote).find(|&i| {
            steps[i].server == server && matches!(steps[i].operation, Operation::Expire { .. })
        });
        if let Some(expired) = expired {
            why.push_str(&format!(
                " {server} wrote at step {} under a lease that had expired at step {}, unknown \
                 to it.",
                wrote + 1,
                expired + 1
            ));
        }
    }
    Some(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use joincheck_models::domain::{Event, ServerId};
    use joincheck_models::operation::StreamKey;

    #[test]
    fn a_read_counts_its_events_as_every_report_counts() {
        let (sue, a) = (UserId(0), TeamId(0));
        let read = |events: Vec<Event>| Step {
            server: ServerId(1),
            operation: Operation::Read {
                stream: StreamKey::Global,
            },
            result: OpResult::Read {
                version: events.len() as u64,
                events,
            },
            membership_after: vec![(a, sue)],
        };
        let joined = Event::Joined { user: sue, team: a };
        assert_eq!(outcome(&[read(vec![joined])], 0), "v1, 1 event");
        assert_eq!(outcome(&[read(vec![joined, joined])], 0), "v2, 2 events");
    }
}
