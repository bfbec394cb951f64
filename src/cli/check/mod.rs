//! `joincheck check`: protocols × engines, a verdict table, then every counterexample.
//!
//! The flags ([`args`]) become validated [`settings`] (with the model's memory budget), the
//! settings a [`plan`] of checks with their expected verdicts; flags no planned engine uses are
//! named ([`ignored`]). The [`runner`] makes each check (the options each engine gets are in
//! [`engines`]), each [`outcome`] is compared with its expectation, and the report is rendered as
//! [`text`] (a table row as each check completes), [`markdown`] or [`json`], with counterexample
//! [`files`] on request.

mod args;
mod engines;
mod files;
mod ignored;
mod json;
mod markdown;
mod outcome;
mod plan;
mod runner;
mod settings;
mod text;

pub use args::CheckArgs;

use crate::cli::{output, supervise, EXIT_USAGE};
use args::Format;
use joincheck_models::verdict::Engine;
use outcome::Outcome;
use plan::Plan;
use settings::Settings;

/// Runs `joincheck check`; `given` are the ids of the flags given on the command line.
pub fn run(args: &CheckArgs, given: &[String]) -> Result<i32, String> {
    let settings = Settings::new(args)?;
    if let Some(out) = &settings.out {
        files::prepare_out(out)?;
    }
    let plan = Plan::new(&settings)?;
    if plan.engines().contains(&Engine::Model) {
        settings.limits.budget_has_room(settings.sizes)?;
    }
    if let Some(warning) = ignored::warning(given, &plan.engines()) {
        eprintln!("joincheck: {warning}");
    }
    supervise::prepare();
    let table = text::Table::new(&settings.protocols, settings.style);
    let streaming = settings.format == Format::Text;
    if streaming {
        output::emit(&text::header(&settings, &plan.engines()));
        output::emit(&table.heading());
    }
    let mut outcomes = Vec::new();
    let mut unsaved = None;
    for check in &plan.checks {
        if output::stdout_failed() {
            // The report cannot be delivered: the checks left would be for nobody.
            break;
        }
        let ran = runner::run(check, &settings);
        let parameters = plan::parameters(check.engine, &settings);
        let bound = settings.limits.preemption_bound;
        let mut outcome = Outcome::new(check, parameters, ran, bound);
        if let Some(out) = &settings.out {
            if !files::save_counterexample(out, &mut outcome) {
                unsaved = Some(out.as_path());
            }
        }
        if streaming {
            output::emit(&table.row(&outcome));
        }
        outcomes.push(outcome);
    }
    let code = match unsaved {
        Some(_) => EXIT_USAGE,
        None => outcome::exit_code(&outcomes),
    };
    let (sizes, scenario) = (settings.sizes, &settings.scenario);
    let ending = text::Ending {
        skipped: &plan.skipped,
        unsaved,
    };
    let markdown = markdown::report(sizes, &outcomes, &ending);
    let rest = match settings.format {
        Format::Text => text::footer(&outcomes, &ending, settings.style),
        Format::Json => {
            let databases = (
                &settings.databases[..],
                settings.databases_left_out.as_deref(),
            );
            let document = json::report(sizes, scenario, databases, &outcomes, &plan.skipped, code);
            format!("{document:#}\n")
        }
        Format::Mermaid => markdown.clone(),
    };
    output::emit(&rest);
    files::append_step_summary(&markdown);
    Ok(code)
}
