//! `joincheck conform`: does the real implementation only do what its model allows?
//!
//! Histories of the real service, under shuttle's random and PCT schedules, generated workloads
//! and real threads, are matched step by step against the protocol's model.

use super::sizes::{scenario, SizeArgs};
use super::{EXIT_INCONCLUSIVE, EXIT_OK, EXIT_UNEXPECTED};
use clap::Args;
use joincheck::check::conform::{self, builtin_model, ConformanceReport};
use joincheck::check::proptest::ProptestOptions;
use joincheck::check::shuttle::{ShuttleOptions, Strategy};
use joincheck::check::{Limits, Scenario};
use joincheck::protocols::{self, with_builtin, Builtin, Service, WithBuiltin};
use joincheck_models::Protocol;

/// Arguments of `joincheck conform`.
#[derive(Args, Debug)]
pub struct ConformArgs {
    /// The protocol whose implementation is matched against its model.
    /// Example: --protocol event-sourced
    #[arg(long, value_name = "NAME")]
    protocol: String,
    #[command(flatten)]
    sizes: SizeArgs,
    /// Shuttle schedules per scheduler (random, then PCT depth 3), and runs on real threads.
    /// Example: --iterations 2000
    #[arg(long, value_name = "K", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    iterations: u64,
    /// Seed of the schedules and of the generated workloads. Example: --seed 7
    #[arg(long, value_name = "X", default_value_t = 42)]
    seed: u64,
}

/// Runs the trace validation: 0 when every history is a path of the model, 1 at the first one
/// that is not, 3 when part of the run could not be validated.
pub fn run(args: &ConformArgs) -> Result<i32, String> {
    let protocol = protocols::named(&args.protocol)?;
    let sizes = args.sizes.sizes()?;
    let scenario = scenario(sizes)?;
    if sizes.servers < 2 {
        return Err("conform needs at least 2 servers: one server has nothing to race".into());
    }
    let work = Conform {
        protocol,
        scenario: &scenario,
        iterations: args.iterations,
        seed: args.seed,
    };
    let report = with_builtin(protocol, work)?;
    println!("{} · conformance · {scenario}", protocol.name());
    println!(
        "validated {} histories, {} steps, against the {} model ({} of them broke the invariant)",
        report.histories,
        report.steps,
        protocol.name(),
        report.violations
    );
    if let Some(divergence) = &report.divergence {
        print!("{divergence}");
        return Ok(EXIT_UNEXPECTED);
    }
    if let Some(why) = &report.incomplete {
        println!("INCOMPLETE  {why}");
        return Ok(EXIT_INCONCLUSIVE);
    }
    println!("CONFORMS  every history is a path of the model");
    Ok(EXIT_OK)
}

struct Conform<'a> {
    protocol: Protocol,
    scenario: &'a Scenario,
    iterations: u64,
    seed: u64,
}

impl WithBuiltin for Conform<'_> {
    type Output = Result<ConformanceReport, String>;

    fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output {
        let service = builtin.service;
        let model = || builtin_model(self.protocol, self.scenario).map_err(|e| e.to_string());
        let mut report = ConformanceReport::default();
        for strategy in [Strategy::Random, Strategy::Pct { depth: 3 }] {
            let options = ShuttleOptions {
                strategy,
                seed: self.seed,
                iterations: self.iterations,
                limits: Limits::default(),
            };
            report.merge(conform::shuttle(service, model()?, self.scenario, &options));
        }
        let runs = self.iterations.min(2000);
        report.merge(conform::stress(&service, &model()?, self.scenario, runs));
        let workloads = ProptestOptions {
            seed: self.seed,
            ..ProptestOptions::default()
        };
        report.merge(conform::workloads(service, self.protocol, &workloads));
        Ok(report)
    }
}
