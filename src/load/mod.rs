//! Load: a service on real threads with real connections, thousands of requests, every request
//! recorded with its real-time interval, then checked as Jepsen and Elle check a history.
//!
//! Each worker is an operating-system thread with a server of its own (its own connection),
//! handling a seeded workload of joins, leaves and switches one request at a time. The harness
//! records each request's invocation and completion on one monotonic clock, the statements it
//! issued with their answers, and its outcome: ok, refused, error, or unknown (the connection
//! died before the answer; the worker then connects again and goes on). Meanwhile a monitor
//! samples the committed membership. At the end three checks judge the run:
//!
//! 1. the invariant, on every sample and on the end;
//! 2. linearizability ([`crate::linearizability`]): some order of the requests, each taking
//!    effect inside its interval, that the join service's specification allows and that ends in
//!    the final membership;
//! 3. nothing lost ([`lost`]): the end shows what the answers said, and an event log is whole.
//!
//! Real threads give evidence, not proof: a run that breaks nothing says one schedule of the
//! operating system did not.

mod faults;
pub mod lost;
mod monitor;
mod workload;

pub use faults::Faults;
pub use monitor::{FirstViolation, Samples};
pub use workload::Requests;

use crate::check::{option_builders, panic_message, Limits};
use crate::history::join::{JoinHistory, JoinRequest};
use crate::history::{Call, Outcome, Ticks};
use crate::linearizability::join::JoinSpec;
use crate::linearizability::{self, Linearizability};
use crate::runtime::{pace_this_thread, Std};
use crate::service::{JoinService, Server};
use crate::store::{Database, Recording};
use joincheck_models::domain::{DatabaseError, JoinError, ServerId, TeamId, UserId};
use joincheck_models::operation::{OpResult, Step};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

/// How much work each worker does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Length {
    /// This many requests per worker.
    Requests(u64),
    /// Requests until this long has passed.
    Duration(Duration),
}

/// What a load test runs, and how long the history check may take.
///
/// ```
/// use joincheck::load::{Length, LoadOptions};
///
/// let options = LoadOptions::default().workers(8).seed(7).length(Length::Requests(500));
/// assert_eq!((options.workers, options.seed), (8, 7));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Worker threads, each with a connection of its own (at most 255).
    pub workers: u32,
    /// Users requests are drawn from.
    pub users: u8,
    /// Teams requests are drawn from.
    pub teams: u8,
    /// The seed of every worker's requests (and of the faults' draws).
    pub seed: u64,
    /// Requests per worker, or a duration.
    pub length: Length,
    /// Faults injected while the workers run.
    pub faults: Faults,
    /// Stop the workers early on a timeout or a stop request (the report says so), and bound
    /// the history check by the same limits: a history it could not decide is inconclusive.
    pub limits: Limits,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            workers: 4,
            users: 4,
            teams: 3,
            seed: 42,
            length: Length::Requests(250),
            faults: Faults::NONE,
            limits: Limits::default(),
        }
    }
}

option_builders! {
    without invariants LoadOptions {
        /// Runs `workers` worker threads.
        workers: u32;
        /// Draws requests from `users` users.
        users: u8;
        /// Draws requests from `teams` teams.
        teams: u8;
        /// Draws the workload from `seed`.
        seed: u64;
        /// Runs this long.
        length: Length;
        /// Injects these faults.
        faults: Faults;
        /// Stops on these limits.
        limits: Limits;
    }
}

/// Counters a progress display reads while a load test runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests completed (or given up as unknown).
    pub requests: AtomicU64,
    /// Samples of the monitor that showed a user on two teams.
    pub violations: AtomicU64,
}

/// How the requests ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcomes {
    /// Acknowledged.
    pub ok: u64,
    /// Refused by the service.
    pub refused: u64,
    /// Failed without taking effect.
    pub error: u64,
    /// No answer: the connection died first.
    pub unknown: u64,
}

/// What a load test saw and concluded.
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// The service's name.
    pub protocol: String,
    /// Every request, in invocation order (a request's id is its position).
    pub history: JoinHistory,
    /// The operations each request issued, with their answers, by request id.
    pub statements: Vec<Vec<Step>>,
    /// How the requests ended.
    pub outcomes: Outcomes,
    /// How long the workers ran.
    pub seconds: f64,
    /// What the monitor saw.
    pub samples: Samples,
    /// The committed membership at the end.
    pub end: Vec<(TeamId, UserId)>,
    /// Whether some order of the requests explains every answer and the end.
    pub linearizability: Linearizability<UserId>,
    /// What the end (or the event log) shows that the answers do not allow.
    pub lost: Vec<String>,
    /// Appends refused because the stream had moved on (event sourcing), and the requests that
    /// appended more than once.
    pub conflicts: u64,
    /// Requests that met a conflict and tried again.
    pub retried: u64,
    /// Connections the faults cut.
    pub cuts: u64,
    /// Why the workers stopped before their length, if they did.
    pub stopped: Option<String>,
    /// The service panicked or could not connect again, if it did.
    pub failure: Option<String>,
}

impl LoadReport {
    /// Requests per second over the run.
    pub fn requests_per_second(&self) -> f64 {
        self.history.len() as f64 / self.seconds.max(1e-9)
    }
}

/// One worker's requests, as it recorded them.
type Recorded = Vec<(
    Call<JoinRequest, (), crate::history::join::Refusal>,
    Vec<Step>,
)>;

/// Runs `service` under `options` on real threads and checks the history.
pub fn run<S: JoinService<Std>>(
    service: &S,
    options: &LoadOptions,
    progress: &Progress,
) -> LoadReport {
    let database = service.open_database(&[], Recording::PerServer);
    let started = Instant::now();
    let ticks = move || u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let done = AtomicBool::new(false);
    let (cuts, samples) = (AtomicU64::new(0), Mutex::new(Samples::default()));
    let failure: Mutex<Option<String>> = Mutex::default();
    let stopped: Mutex<Option<String>> = Mutex::default();
    let workers = options.workers.clamp(1, u32::from(u8::MAX));
    let barrier = Barrier::new(workers as usize);
    let recorded: Vec<Recorded> = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                let membership = database.membership();
                let mut samples = lock(&samples);
                let before = samples.first_violation.is_some();
                samples.record(ticks(), &membership);
                if !before && samples.first_violation.is_some() {
                    progress.violations.fetch_add(1, Ordering::Relaxed);
                }
                drop(samples);
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        if let Some(every) = options.faults.kill_connections {
            let (database, done, cuts) = (&database, &done, &cuts);
            scope.spawn(move || {
                faults::cut_connections(database.as_ref(), workers, every, options.seed, done, cuts)
            });
        }
        let handles: Vec<_> = (0..workers)
            .map(|worker| {
                let (database, barrier) = (&database, &barrier);
                let (failure, stopped) = (&failure, &stopped);
                scope.spawn(move || {
                    let id = ServerId(worker as u8);
                    if let Some(most) = options.faults.slow {
                        pace_this_thread(Some((options.seed ^ u64::from(worker), most)));
                    }
                    let calls = work(
                        service, database, id, options, &ticks, barrier, progress, started,
                    );
                    pace_this_thread(None);
                    match calls {
                        Ok((calls, why)) => {
                            if let Some(why) = why {
                                lock(stopped).get_or_insert(why);
                            }
                            calls
                        }
                        Err((calls, why)) => {
                            lock(failure).get_or_insert(why);
                            calls
                        }
                    }
                })
            })
            .collect();
        let recorded = handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_default())
            .collect();
        done.store(true, Ordering::Relaxed);
        recorded
    });
    let seconds = started.elapsed().as_secs_f64();
    let end = database.membership();
    let mut samples = samples.into_inner().unwrap_or_else(|e| e.into_inner());
    samples.record(ticks(), &end);
    let mut all: Vec<_> = recorded.into_iter().flatten().collect();
    all.sort_by_key(|(call, _)| (call.invoked, call.worker));
    let mut history = JoinHistory::new();
    let mut statements = Vec::with_capacity(all.len());
    let mut outcomes = Outcomes::default();
    let (mut conflicts, mut retried) = (0, 0);
    for (call, steps) in all {
        match call.outcome {
            Outcome::Ok(()) => outcomes.ok += 1,
            Outcome::Refused(_) => outcomes.refused += 1,
            Outcome::Error(_) => outcomes.error += 1,
            Outcome::Unknown => outcomes.unknown += 1,
        }
        let met = steps.iter().filter(|step| conflicted(step)).count() as u64;
        conflicts += met;
        retried += u64::from(met > 0);
        // Every call was checked when its worker recorded it.
        history.push(call).expect("a well-formed call");
        statements.push(steps);
    }
    let spec = JoinSpec::new().ending_with(&end);
    let linearizability = linearizability::check(
        &spec,
        &history,
        &linearizability::Options::default().limits(options.limits.clone()),
    );
    let mut lost = lost::membership_problems(&history, &[], &end);
    if let Some(log) = service.event_log(&database) {
        lost.extend(lost::event_log_problems(&history, &log));
    }
    LoadReport {
        protocol: service.name(),
        history,
        statements,
        outcomes,
        seconds,
        samples,
        end,
        linearizability,
        lost,
        conflicts,
        retried,
        cuts: cuts.load(Ordering::Relaxed),
        stopped: stopped.into_inner().unwrap_or_else(|e| e.into_inner()),
        failure: failure.into_inner().unwrap_or_else(|e| e.into_inner()),
    }
}

/// Whether a step was an append the store refused because the stream had moved on.
fn conflicted(step: &Step) -> bool {
    match &step.result {
        OpResult::Conflict { .. } => true,
        OpResult::Sql(answer) => {
            step.operation.verb() == "append" && answer.error == Some(DatabaseError::DuplicateKey)
        }
        _ => false,
    }
}

/// One worker's requests, from the barrier on, until its length or a limit; with why it
/// stopped early (a limit), or, as an error, what went wrong (a panic, a failed reconnection).
#[allow(clippy::too_many_arguments)]
fn work<S: JoinService<Std>>(
    service: &S,
    database: &Arc<S::Database>,
    id: ServerId,
    options: &LoadOptions,
    ticks: &impl Fn() -> Ticks,
    barrier: &Barrier,
    progress: &Progress,
    started: Instant,
) -> Result<(Recorded, Option<String>), (Recorded, String)> {
    let connect = || {
        panic::catch_unwind(AssertUnwindSafe(|| service.start_server(database, id))).map_err(
            |payload| {
                format!(
                    "{id} could not connect: {}",
                    panic_message(payload.as_ref())
                )
            },
        )
    };
    let mut calls: Recorded = Vec::new();
    let mut server = match connect() {
        Ok(server) => server,
        Err(why) => {
            barrier.wait();
            return Err((calls, why));
        }
    };
    barrier.wait();
    let worker = u32::from(id.0);
    let requests = Requests::new(options.seed, worker, options.users, options.teams);
    for (done, request) in requests.enumerate() {
        match options.length {
            Length::Requests(requests) if done as u64 >= requests => break,
            Length::Duration(limit) if started.elapsed() >= limit => break,
            _ => {}
        }
        if let Some(why) = options.limits.reached(started) {
            return Ok((calls, Some(format!("stopped by the {why}"))));
        }
        let invoked = ticks();
        let answer = panic::catch_unwind(AssertUnwindSafe(|| server.handle(request)));
        let completed = ticks();
        let steps = database.take_steps(id);
        let input = JoinRequest(request);
        progress.requests.fetch_add(1, Ordering::Relaxed);
        let answer = match answer {
            Ok(answer) => answer,
            Err(payload) => {
                let why = panic_message(payload.as_ref());
                calls.push((Call::unknown(worker, input, invoked), steps));
                return Err((calls, format!("{id} panicked handling {request}: {why}")));
            }
        };
        if answer == Err(JoinError::Database(DatabaseError::ConnectionLost)) {
            calls.push((Call::unknown(worker, input, invoked), steps));
            server = match connect() {
                Ok(server) => server,
                Err(why) => return Err((calls, why)),
            };
            continue;
        }
        calls.push((
            Call::new(worker, input, invoked, completed, Outcome::from(answer)),
            steps,
        ));
    }
    Ok((calls, None))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
