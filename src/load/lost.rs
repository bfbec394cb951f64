//! Nothing lost: what the database holds at the end must be what the answers said.
//!
//! - Every membership at the end was put there by a join that was acknowledged or whose outcome
//!   is unknown (or was there from the start): a refused or failed join that took effect is
//!   a phantom.
//! - A request acknowledged after every other request on its user (ok or unknown) had completed
//!   is the last word on that user: the end must show it (the user on the team it joined, or
//!   off the team it left).
//! - An event log (the event-sourced services keep one) numbers each stream's events 1, 2, 3, …
//!   with no gap and no repeat, and holds each acknowledged request's event exactly once: as many
//!   `Joined(u, t)` as there were acknowledged joins of u to t, plus at most the unknown ones.

use crate::history::join::JoinHistory;
use crate::history::Outcome;
use crate::service::LoggedEvent;
use joincheck_models::domain::{Event, Request, TeamId, UserId};
use std::collections::{BTreeMap, BTreeSet};

/// What the end shows that the answers do not allow, in words; empty when nothing was lost.
pub fn membership_problems(
    history: &JoinHistory,
    initial: &[(TeamId, UserId)],
    end: &[(TeamId, UserId)],
) -> Vec<String> {
    let mut problems = Vec::new();
    let calls = history.calls();
    let may_have_joined: BTreeSet<(TeamId, UserId)> = calls
        .iter()
        .filter(|call| matches!(call.outcome, Outcome::Ok(()) | Outcome::Unknown))
        .filter_map(|call| match call.input.0 {
            Request::Join { user, team } => Some((team, user)),
            Request::Leave { .. } => None,
        })
        .chain(initial.iter().copied())
        .collect();
    for member in end {
        if !may_have_joined.contains(member) {
            let (team, user) = member;
            problems.push(format!(
                "{team} lists {user}, and no acknowledged or unknown join put {user} there"
            ));
        }
    }
    let mut by_user: BTreeMap<UserId, Vec<usize>> = BTreeMap::new();
    for (id, call) in calls.iter().enumerate() {
        if matches!(call.outcome, Outcome::Ok(()) | Outcome::Unknown) {
            by_user.entry(call.input.0.user()).or_default().push(id);
        }
    }
    for (user, ids) in by_user {
        let last = ids.iter().copied().find(|&id| {
            let call = &calls[id];
            matches!(call.outcome, Outcome::Ok(()))
                && ids.iter().all(|&other| {
                    other == id
                        || calls[other]
                            .completed
                            .is_some_and(|completed| completed < call.invoked)
                })
        });
        let Some(last) = last else { continue };
        let on = |team| end.contains(&(team, user));
        let shown = match calls[last].input.0 {
            Request::Join { team, .. } => on(team),
            Request::Leave { team, .. } => !on(team),
        };
        if !shown {
            problems.push(format!(
                "request {last} ({}) was acknowledged after every other request on {user} \
                 had completed, and the end does not show it",
                calls[last].input
            ));
        }
    }
    problems
}

/// What an event log shows that the answers do not allow, in words; empty when it is whole.
pub fn event_log_problems(history: &JoinHistory, log: &[LoggedEvent]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut streams: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for logged in log {
        streams
            .entry(&logged.stream)
            .or_default()
            .push(logged.version);
    }
    for (stream, mut versions) in streams {
        versions.sort();
        let expected: Vec<u64> = (1..=versions.len() as u64).collect();
        if versions != expected {
            problems.push(format!(
                "stream {stream} holds versions {versions:?}, not 1 to {}",
                versions.len()
            ));
        }
    }
    let mut logged: BTreeMap<Event, u64> = BTreeMap::new();
    for entry in log {
        *logged.entry(entry.event).or_default() += 1;
    }
    let mut answered: BTreeMap<Event, (u64, u64)> = BTreeMap::new();
    for call in history.calls() {
        let event = match call.input.0 {
            Request::Join { user, team } => Event::Joined { user, team },
            Request::Leave { user, team } => Event::Left { user, team },
        };
        let counts = answered.entry(event).or_default();
        match call.outcome {
            Outcome::Ok(()) => counts.0 += 1,
            Outcome::Unknown => counts.1 += 1,
            Outcome::Refused(_) | Outcome::Error(_) => {}
        }
    }
    let events: BTreeSet<Event> = logged.keys().chain(answered.keys()).copied().collect();
    for event in events {
        let found = logged.get(&event).copied().unwrap_or(0);
        let (ok, unknown) = answered.get(&event).copied().unwrap_or((0, 0));
        if found < ok {
            problems.push(format!(
                "{event} was acknowledged {ok} time{} and is in the log {found} time{}: lost",
                if ok == 1 { "" } else { "s" },
                if found == 1 { "" } else { "s" }
            ));
        } else if found > ok + unknown {
            problems.push(format!(
                "{event} is in the log {found} times, more than its {ok} acknowledged and \
                 {unknown} unknown requests"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::join::{JoinRequest, Refusal};
    use crate::history::Call;
    use joincheck_models::domain::JoinError;

    const SUE: UserId = UserId(0);
    const A: TeamId = TeamId(0);
    const B: TeamId = TeamId(1);

    fn join(team: TeamId) -> JoinRequest {
        JoinRequest(Request::Join { user: SUE, team })
    }

    fn history(calls: Vec<Call<JoinRequest, (), Refusal>>) -> JoinHistory {
        let mut history = JoinHistory::new();
        for call in calls {
            history.push(call).unwrap();
        }
        history
    }

    #[test]
    fn a_refused_join_that_took_effect_is_a_phantom_and_a_last_join_must_show() {
        let refused = Outcome::Refused(Refusal(JoinError::AlreadyOnTeam { team: A }));
        let calls = history(vec![
            Call::new(0, join(A), 0, 10, Outcome::Ok(())),
            Call::new(1, join(B), 20, 30, refused),
        ]);
        assert_eq!(
            membership_problems(&calls, &[], &[(A, SUE)]),
            Vec::<String>::new()
        );
        assert_eq!(
            membership_problems(&calls, &[], &[(A, SUE), (B, SUE)]),
            ["team-B lists sue, and no acknowledged or unknown join put sue there"]
        );
        assert_eq!(
            membership_problems(&calls, &[], &[]),
            [
                "request 0 (join sue → team-A) was acknowledged after every other request on sue \
              had completed, and the end does not show it"
            ]
        );
    }

    #[test]
    fn an_event_log_must_number_its_streams_and_hold_every_acknowledged_event_once() {
        let calls = history(vec![
            Call::new(0, join(A), 0, 10, Outcome::Ok(())),
            Call::unknown(1, join(B), 20),
        ]);
        let logged = |stream: &str, version, team| LoggedEvent {
            stream: stream.to_string(),
            version,
            event: Event::Joined { user: SUE, team },
        };
        assert!(event_log_problems(&calls, &[logged("log", 1, A)]).is_empty());
        assert!(event_log_problems(&calls, &[logged("log", 1, A), logged("log", 2, B)]).is_empty());
        assert_eq!(
            event_log_problems(&calls, &[logged("log", 2, A)]),
            ["stream log holds versions [2], not 1 to 1"]
        );
        assert_eq!(
            event_log_problems(&calls, &[]),
            ["Joined(sue, team-A) was acknowledged 1 time and is in the log 0 times: lost"]
        );
    }
}
