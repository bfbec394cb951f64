//! The checker against a brute-force reference on 20,000 random small join-service
//! histories: the reference tries every order of every subset of requests that may take effect,
//! respecting real time, so the two share no code but the history types. Every verdict must
//! agree, and every set of requests reported as unorderable must be unorderable and 1-minimal by
//! the reference too.

#[allow(dead_code)]
#[path = "../examples/linearizability_figures/simulation.rs"]
mod simulation;

use joincheck::history::join::{JoinHistory, JoinRequest, Refusal};
use joincheck::history::{Call, Outcome};
use joincheck::linearizability::join::JoinSpec;
use joincheck::linearizability::{check, Linearizability, Options};
use joincheck::models::domain::{JoinError, Request, TeamId, UserId};
use simulation::Rng;

/// How a request may take part in an order.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    /// It must take effect, with its answer, within its interval.
    Answered,
    /// It may take effect or not; if it does, within its interval (or after its invocation).
    Optional,
}

/// One request as the reference sees it.
#[derive(Clone, Copy)]
struct Req {
    request: Request,
    answer: Option<Result<(), JoinError>>,
    invoked: u64,
    completed: Option<u64>,
    part: Part,
}

/// The team `user` is on after `request` answers `answer` on `on`, if that answer is possible.
fn reference_step(
    on: Option<TeamId>,
    request: Request,
    answer: Option<Result<(), JoinError>>,
) -> Option<Option<TeamId>> {
    match (request, answer) {
        (Request::Join { team, .. }, None) => Some(if on.is_none() { Some(team) } else { on }),
        (Request::Leave { team, .. }, None) => Some(if on == Some(team) { None } else { on }),
        (Request::Join { team, .. }, Some(Ok(()))) => {
            if on.is_none() {
                Some(Some(team))
            } else {
                None
            }
        }
        (Request::Join { .. }, Some(Err(JoinError::AlreadyOnTeam { team }))) => {
            if on == Some(team) {
                Some(on)
            } else {
                None
            }
        }
        (Request::Join { .. }, Some(Err(JoinError::AlreadyOnSomeTeam))) => {
            if on.is_some() {
                Some(on)
            } else {
                None
            }
        }
        (Request::Leave { team, .. }, Some(Ok(()))) => {
            if on == Some(team) {
                Some(None)
            } else {
                None
            }
        }
        (Request::Leave { team, .. }, Some(Err(JoinError::NotOnTeam))) => {
            if on != Some(team) {
                Some(on)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Whether `a` must come before `b`: it completed before `b` was invoked.
fn precedes(a: &Req, b: &Req) -> bool {
    a.completed.is_some_and(|completed| completed < b.invoked)
}

/// Whether some order of `reqs` (one user's) exists, from `initial`, ending in `ending` if given.
fn reference_orderable(
    reqs: &[Req],
    initial: Option<TeamId>,
    ending: Option<Option<TeamId>>,
) -> bool {
    fn search(
        reqs: &[Req],
        placed: &mut Vec<usize>,
        on: Option<TeamId>,
        ending: Option<Option<TeamId>>,
    ) -> bool {
        let all_answered = reqs
            .iter()
            .enumerate()
            .all(|(i, r)| r.part == Part::Optional || placed.contains(&i));
        if all_answered && ending.is_none_or(|end| end == on) {
            return true;
        }
        for (i, r) in reqs.iter().enumerate() {
            if placed.contains(&i) {
                continue;
            }
            let waits = reqs.iter().enumerate().any(|(j, other)| {
                !placed.contains(&j) && other.part == Part::Answered && precedes(other, r)
            });
            let too_late = placed.iter().any(|&p| precedes(r, &reqs[p]));
            if waits || too_late {
                continue;
            }
            if let Some(next) = reference_step(on, r.request, r.answer) {
                placed.push(i);
                if search(reqs, placed, next, ending) {
                    return true;
                }
                placed.pop();
            }
        }
        false
    }
    search(reqs, &mut Vec::new(), initial, ending)
}

/// The reference's view of one user's calls: errors left out; answers in `kept` (all, when none)
/// answered, the others optional.
fn reqs_of(history: &JoinHistory, user: UserId, kept: Option<&[usize]>) -> Vec<Req> {
    history
        .calls()
        .iter()
        .enumerate()
        .filter(|(_, call)| call.input.0.user() == user)
        .filter_map(|(id, call)| {
            let answer = match &call.outcome {
                Outcome::Ok(()) => Some(Ok(())),
                Outcome::Refused(Refusal(error)) => Some(Err(*error)),
                Outcome::Unknown => None,
                Outcome::Error(_) => return None,
            };
            let keep = answer.is_some() && kept.is_none_or(|kept| kept.contains(&id));
            Some(Req {
                request: call.input.0,
                answer: if keep { answer } else { None },
                invoked: call.invoked,
                completed: call.completed,
                part: if keep { Part::Answered } else { Part::Optional },
            })
        })
        .collect()
}

/// A random answer of any kind, possible or not.
fn random_answer(rng: &mut Rng) -> Result<(), JoinError> {
    match rng.below(4) {
        0 => Ok(()),
        1 => Err(JoinError::AlreadyOnTeam {
            team: TeamId(rng.below(2) as u8),
        }),
        2 => Err(JoinError::AlreadyOnSomeTeam),
        _ => Err(JoinError::NotOnTeam),
    }
}

/// A random history of `calls` requests over `users` users and two teams, starting with sue on
/// `initial`: answered truthfully at a random moment of each interval, some failed or lost, and
/// in four cases of ten one answer replaced by a random one. Returns it with each user's team at
/// the end of the truthful run.
fn random_history(
    rng: &mut Rng,
    calls: usize,
    users: u8,
    initial: Option<TeamId>,
) -> (JoinHistory, Vec<Option<TeamId>>) {
    let mut planned = Vec::new();
    for _ in 0..calls {
        let user = UserId(rng.below(u64::from(users)) as u8);
        let team = TeamId(rng.below(2) as u8);
        let request = if rng.chance(500) {
            Request::Join { user, team }
        } else {
            Request::Leave { user, team }
        };
        let invoked = rng.below(20);
        let completed = invoked + rng.below(8);
        let moment = invoked + rng.below(completed - invoked + 1);
        // 0: answered, 1: error, 2: unknown that took effect, 3: unknown that did not.
        let fate = [0, 0, 0, 0, 0, 0, 1, 2, 3][rng.below(9) as usize];
        planned.push((request, invoked, completed, moment, fate));
    }
    let mut order: Vec<usize> = (0..calls).collect();
    order.sort_by_key(|&i| (planned[i].3, i));
    let mut on: Vec<Option<TeamId>> = (0..users)
        .map(|u| if u == 0 { initial } else { None })
        .collect();
    let mut answers = vec![Ok(()); calls];
    for i in order {
        let (request, _, _, _, fate) = planned[i];
        if fate == 1 || fate == 3 {
            continue;
        }
        let user = &mut on[request.user().0 as usize];
        answers[i] = match (request, *user) {
            (Request::Join { team, .. }, None) => {
                *user = Some(team);
                Ok(())
            }
            (Request::Join { .. }, Some(team)) => Err(JoinError::AlreadyOnTeam { team }),
            (Request::Leave { team, .. }, Some(now)) if now == team => {
                *user = None;
                Ok(())
            }
            (Request::Leave { .. }, _) => Err(JoinError::NotOnTeam),
        };
    }
    if rng.chance(400) {
        let wrong = rng.below(calls as u64) as usize;
        answers[wrong] = random_answer(rng);
    }
    let mut history = JoinHistory::new();
    for (i, (request, invoked, completed, _, fate)) in planned.into_iter().enumerate() {
        let worker = rng.below(4) as u32;
        let call = match fate {
            0 => Call::new(
                worker,
                JoinRequest(request),
                invoked,
                completed,
                Outcome::from(answers[i]),
            ),
            1 => Call::new(
                worker,
                JoinRequest(request),
                invoked,
                completed,
                Outcome::Error("timed out".to_string()),
            ),
            _ => Call::unknown(worker, JoinRequest(request), invoked),
        };
        history.push(call).unwrap();
    }
    (history, on)
}

#[test]
fn verdicts_and_minimal_sets_agree_with_brute_force() {
    let mut rng = Rng::new(20);
    let (mut linearizable, mut not, mut with_ending) = (0, 0, 0);
    // Sets found of 0, 1, 2, 3 and more requests.
    let mut sizes = [0; 4];
    for case in 0..20_000 {
        let users = 1 + (case % 2) as u8;
        let initial: Option<TeamId> = rng.chance(300).then_some(TeamId(0));
        let (history, truth) = random_history(&mut rng, 2 + case % 8, users, initial);
        let ending: Option<Option<TeamId>> = match rng.below(6) {
            0 | 1 => Some(truth[0]),
            2 => Some(None),
            3 => Some(Some(TeamId(1))),
            _ => None,
        };
        let mut spec = JoinSpec::new();
        if let Some(team) = initial {
            spec = spec.starting_with(&[(team, UserId(0))]).unwrap();
        }
        // The ending names sue only: john, when there, must end on no team.
        if let Some(end) = ending {
            let members: Vec<(TeamId, UserId)> =
                end.map(|team| (team, UserId(0))).into_iter().collect();
            spec = spec.ending_with(&members);
        }
        let start = |user: UserId| if user == UserId(0) { initial } else { None };
        let end = |user: UserId| ending.map(|end| if user == UserId(0) { end } else { None });
        let expected: Vec<UserId> = (0..users)
            .map(UserId)
            .filter(|&user| {
                !reference_orderable(&reqs_of(&history, user, None), start(user), end(user))
            })
            .collect();
        match check(&spec, &history, &Options::default()) {
            Linearizability::Linearizable { .. } => {
                assert!(expected.is_empty(), "case {case}: {history:?}");
                linearizable += 1;
            }
            Linearizability::NotLinearizable { unorderable, .. } => {
                assert_eq!(
                    Some(&unorderable.key),
                    expected.first(),
                    "case {case}: {history:?}"
                );
                assert!(unorderable.minimal);
                let user = unorderable.key;
                let kept = &unorderable.calls;
                let end_if = |ending: bool| if ending { end(user) } else { None };
                let reqs = reqs_of(&history, user, Some(kept));
                assert!(
                    !reference_orderable(&reqs, start(user), end_if(unorderable.ending)),
                    "case {case}: {kept:?} ({}) can be ordered from {initial:?} to {ending:?}: {history:?}", unorderable.ending
                );
                if unorderable.ending {
                    with_ending += 1;
                    assert!(reference_orderable(&reqs, start(user), None), "case {case}");
                }
                for given_up in kept {
                    let fewer: Vec<usize> =
                        kept.iter().copied().filter(|id| id != given_up).collect();
                    let reqs = reqs_of(&history, user, Some(&fewer));
                    assert!(
                        reference_orderable(&reqs, start(user), end_if(unorderable.ending)),
                        "case {case}: {kept:?} without {given_up} still cannot be ordered: {history:?}"
                    );
                }
                sizes[kept.len().min(3)] += 1;
                not += 1;
            }
            inconclusive => panic!("case {case}: {inconclusive:?}"),
        }
    }
    assert_eq!((linearizable, not, with_ending), (11417, 8583, 5129));
    assert_eq!(sizes, [1856, 6028, 613, 86]);
}
