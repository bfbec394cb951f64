//! Running one check: the engine works in a supervised thread ([`crate::cli::supervise`]), which
//! shows progress on stderr and passes a stopping signal on as a stop request, so a long check
//! ends with the statistics so far instead of being killed.

use super::engines::{Job, Ran};
use super::plan::Check;
use super::settings::Settings;
use crate::cli::interrupt;
use crate::cli::output::Gauge;
use crate::cli::services::Executions;
use crate::cli::supervise::supervise;
use joincheck_models::verdict::{Engine, Stats, Verdict};
use joincheck_models::Progress;
use std::sync::Arc;

/// An engine stopped by the stop request a signal made says "stopped by the stop request"; the
/// reason then also names the signal.
fn name_the_signal(mut ran: Ran) -> Ran {
    if let Verdict::Inconclusive { reason, .. } = &mut ran.verdict {
        *reason = interrupt::explain(reason);
    }
    ran
}

/// Runs `check`, showing progress and honouring stopping signals.
pub fn run(check: &Check, settings: &Settings) -> Ran {
    let (protocol, engine) = (check.protocol, check.engine);
    let database = check.database.clone();
    if let Some(signal) = interrupt::received() {
        return Ran::without_workload(Verdict::Inconclusive {
            engine,
            reason: format!("not run: {signal} stopped the run before this check"),
            stats: Stats::default(),
        });
    }
    let progress = Arc::new(Progress::new());
    let executions = Executions::default();
    let job = Job {
        protocol,
        engine,
        database,
        settings: settings.clone(),
        progress: progress.clone(),
        executions: executions.clone(),
    };
    let gauge = match engine {
        Engine::Model => Gauge::States(progress),
        _ => Gauge::Executions(executions),
    };
    let what = match check
        .database
        .as_ref()
        .and_then(|database| database.dialect())
    {
        Some(dialect) => format!("{engine} · {protocol} · {dialect}"),
        None => format!("{engine} · {protocol}"),
    };
    let ran = supervise(&what, gauge, move |stop| job.execute(stop));
    ran.map(name_the_signal).unwrap_or_else(|unfinished| {
        Ran::without_workload(Verdict::Inconclusive {
            engine,
            reason: format!(
                "{} after {:.1} s; the run did not finish, nothing is proved",
                unfinished.why, unfinished.seconds
            ),
            stats: Stats {
                seconds: unfinished.seconds,
                ..Stats::default()
            },
        })
    })
}
