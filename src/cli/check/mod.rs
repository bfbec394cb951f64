//! `joincheck check`: protocols × engines, a verdict table, then every counterexample.
//!
//! The flags ([`args`]) become validated [`settings`], the settings a [`plan`] of checks with
//! their expected verdicts; the [`runner`] makes each check (the options each engine gets are in
//! [`engines`]), each [`outcome`] is compared with its expectation, and the report is rendered as
//! [`text`], [`markdown`] or [`json`], with counterexample [`files`] on request.

mod args;
mod engines;
mod files;
mod json;
mod markdown;
mod outcome;
mod plan;
mod runner;
mod settings;
mod text;

pub use args::CheckArgs;

use crate::cli::output;
use crate::cli::EXIT_USAGE;
use args::Format;
use outcome::Outcome;
use plan::Plan;
use settings::Settings;

/// Runs `joincheck check`.
pub fn run(args: &CheckArgs) -> Result<i32, String> {
    let settings = Settings::new(args)?;
    if let Some(out) = &settings.out {
        files::prepare_out(out)?;
    }
    let plan = Plan::new(&settings)?;
    runner::prepare();
    let mut outcomes = Vec::new();
    let mut unwritten = false;
    for check in &plan.checks {
        let ran = runner::run(check, &settings);
        let parameters = plan::parameters(check.engine, &settings);
        let bound = settings.limits.preemption_bound;
        let mut outcome = Outcome::new(check, parameters, ran, bound);
        if let Some(out) = &settings.out {
            unwritten |= !files::save_counterexample(out, &mut outcome);
        }
        outcomes.push(outcome);
    }
    let code = if unwritten {
        EXIT_USAGE
    } else {
        outcome::exit_code(&outcomes)
    };
    let (sizes, scenario) = (settings.sizes, &settings.scenario);
    let markdown = markdown::report(sizes, &outcomes, &plan.skipped);
    let report = match settings.format {
        Format::Text => text::report(sizes, scenario, &outcomes, &plan.skipped, settings.style),
        Format::Json => {
            let document = json::report(sizes, scenario, &outcomes, &plan.skipped, code);
            format!("{document:#}\n")
        }
        Format::Mermaid => markdown.clone(),
    };
    output::emit(&report);
    files::append_step_summary(&markdown);
    Ok(code)
}
