//! Histories of a linearizable join service, simulated: W workers make requests over U users and
//! T teams, one at a time each, with random gaps and durations, so requests overlap as on real
//! threads. Each request takes effect at a random moment of its interval, in the order of those
//! moments, on one true membership, and answers what it found there: the history is
//! linearizable by construction. Some requests fail (no effect) or lose their answer (unknown:
//! taking effect or not). Mutations then insert check-then-act's race where it is provably
//! unorderable.

use joincheck::history::join::{JoinHistory, JoinRequest};
use joincheck::history::{Call, Outcome};
use joincheck::models::domain::{JoinError, Request, TeamId, UserId};
use std::collections::BTreeMap;

/// A seeded generator (SplitMix64): the same seed, the same history.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True `per_mille` times in a thousand.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// What to simulate.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    pub workers: u32,
    pub users: u8,
    pub teams: u8,
    pub requests: usize,
    /// Requests in a thousand that fail without effect.
    pub errors_per_mille: u64,
    /// Requests in a thousand whose answer is lost (half of them took effect).
    pub unknown_per_mille: u64,
    pub seed: u64,
}

/// A simulated history, the membership it ends in, and each user's membership over time.
pub struct Simulated {
    pub history: JoinHistory,
    /// `(team, user)` pairs at the end.
    pub ending: Vec<(TeamId, UserId)>,
    /// Per user: `(moment, team after)` at each moment a request took effect, in order.
    pub timeline: BTreeMap<UserId, Vec<(u64, Option<TeamId>)>>,
}

/// One simulated request before its answer is known.
struct Planned {
    worker: u32,
    request: Request,
    invoked: u64,
    effect: u64,
    completed: u64,
    fate: Fate,
}

enum Fate {
    Answered,
    Failed,
    Lost { took_effect: bool },
}

pub fn simulate(workload: &Workload) -> Simulated {
    let mut rng = Rng::new(workload.seed);
    let mut clocks: Vec<u64> = (0..workload.workers).map(|_| rng.below(10)).collect();
    let mut planned: Vec<Planned> = Vec::with_capacity(workload.requests);
    for index in 0..workload.requests {
        let worker = index as u32 % workload.workers;
        let invoked = clocks[worker as usize] + rng.below(20);
        let duration = 5 + rng.below(100);
        let completed = invoked + duration;
        clocks[worker as usize] = completed;
        let user = UserId(rng.below(u64::from(workload.users)) as u8);
        let team = TeamId(rng.below(u64::from(workload.teams)) as u8);
        let request = if rng.chance(500) {
            Request::Join { user, team }
        } else {
            Request::Leave { user, team }
        };
        let fate = if rng.chance(workload.errors_per_mille) {
            Fate::Failed
        } else if rng.chance(workload.unknown_per_mille) {
            Fate::Lost {
                took_effect: rng.chance(500),
            }
        } else {
            Fate::Answered
        };
        planned.push(Planned {
            worker,
            request,
            invoked,
            effect: invoked + rng.below(duration + 1),
            completed,
            fate,
        });
    }
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| (planned[i].effect, i));
    let mut teams: BTreeMap<UserId, TeamId> = BTreeMap::new();
    let mut timeline: BTreeMap<UserId, Vec<(u64, Option<TeamId>)>> = BTreeMap::new();
    let mut answers: Vec<Option<Result<(), JoinError>>> = vec![None; planned.len()];
    for index in order {
        let plan = &planned[index];
        if matches!(plan.fate, Fate::Failed | Fate::Lost { took_effect: false }) {
            continue;
        }
        let user = plan.request.user();
        let answer = match (plan.request, teams.get(&user).copied()) {
            (Request::Join { team, .. }, None) => {
                teams.insert(user, team);
                Ok(())
            }
            (Request::Join { .. }, Some(on)) => Err(JoinError::AlreadyOnTeam { team: on }),
            (Request::Leave { team, .. }, Some(on)) if on == team => {
                teams.remove(&user);
                Ok(())
            }
            (Request::Leave { .. }, _) => Err(JoinError::NotOnTeam),
        };
        timeline
            .entry(user)
            .or_default()
            .push((plan.effect, teams.get(&user).copied()));
        answers[index] = Some(answer);
    }
    let mut by_invocation: Vec<usize> = (0..planned.len()).collect();
    by_invocation.sort_by_key(|&i| (planned[i].invoked, i));
    let mut history = JoinHistory::new();
    for index in by_invocation {
        let plan = &planned[index];
        let request = JoinRequest(plan.request);
        let call = match (&plan.fate, answers[index]) {
            (Fate::Lost { .. }, _) => Call::unknown(plan.worker, request, plan.invoked),
            (Fate::Failed, _) => Call::new(
                plan.worker,
                request,
                plan.invoked,
                plan.completed,
                Outcome::Error("connection reset".to_string()),
            ),
            (Fate::Answered, Some(answer)) => Call::new(
                plan.worker,
                request,
                plan.invoked,
                plan.completed,
                Outcome::from(answer),
            ),
            (Fate::Answered, None) => unreachable!("every answered request took effect"),
        };
        history.push(call).expect("simulated calls are well formed");
    }
    let ending = teams.into_iter().map(|(user, team)| (team, user)).collect();
    Simulated {
        history,
        ending,
        timeline,
    }
}

/// Inserts up to `count` races of check-then-act: two overlapping joins of one user to two
/// teams, both ok, by two extra workers, at a moment when the user is on no team and none of
/// their requests is pending or unknown, so that each race provably cannot be ordered. To make
/// room, every instant from that moment on moves 12 ticks later, which keeps the rest of the
/// history linearizable. Returns each race's user and the ids of its two joins, in user and then
/// time order.
pub fn insert_races(
    simulated: &mut Simulated,
    count: usize,
    seed: u64,
) -> Vec<(UserId, [usize; 2])> {
    let mut rng = Rng::new(seed);
    let mut calls = simulated.history.calls().to_vec();
    let workers = calls
        .iter()
        .map(|call| call.worker)
        .max()
        .map_or(0, |w| w + 1);
    let mut quiet: Vec<(UserId, u64)> = Vec::new();
    for (user, moments) in &simulated.timeline {
        let mut latest = 0;
        for call in calls.iter().filter(|call| call.input.0.user() == *user) {
            if call.completed.is_none() {
                break;
            }
            let on = moments
                .iter()
                .take_while(|(moment, _)| *moment <= latest)
                .last()
                .and_then(|(_, team)| *team);
            if call.invoked > latest && on.is_none() {
                quiet.push((*user, latest));
            }
            latest = latest.max(call.completed.unwrap_or(call.invoked));
        }
    }
    let mut chosen: Vec<(UserId, u64)> = Vec::new();
    while chosen.len() < count && !quiet.is_empty() {
        chosen.push(quiet.swap_remove(rng.below(quiet.len() as u64) as usize));
    }
    // Latest first, so that each shift also moves the races inserted after it.
    chosen.sort_by_key(|(_, after)| std::cmp::Reverse(*after));
    let mut inserted: Vec<(UserId, u64)> = Vec::new();
    for (user, after) in chosen {
        let shift = |tick: u64| if tick > after { tick + 12 } else { tick };
        for call in &mut calls {
            call.invoked = shift(call.invoked);
            call.completed = call.completed.map(shift);
        }
        // Races inserted so far are no earlier: their joins moved too.
        for entry in &mut inserted {
            entry.1 += 12;
        }
        for (offset, team) in [(2, TeamId(0)), (3, TeamId(1))] {
            let join = JoinRequest(Request::Join { user, team });
            let worker = workers + offset as u32 - 2;
            calls.push(Call::new(
                worker,
                join,
                after + offset,
                after + offset + 5,
                Outcome::Ok(()),
            ));
        }
        inserted.push((user, after));
    }
    calls.sort_by_key(|call| call.invoked);
    let mut history = JoinHistory::new();
    for call in calls {
        history.push(call).expect("well formed");
    }
    simulated.history = history;
    let mut races: Vec<(UserId, [usize; 2])> = inserted
        .iter()
        .map(|(user, after)| {
            let id = |invoked| {
                simulated
                    .history
                    .calls()
                    .iter()
                    .position(|call| {
                        call.input.0.user() == *user
                            && call.invoked == invoked
                            && call.worker >= workers
                    })
                    .expect("inserted")
            };
            (*user, [id(after + 2), id(after + 3)])
        })
        .collect();
    races.sort();
    races
}
