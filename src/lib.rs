//! joincheck proves or refutes **"a user is on at most one team"** for join services run by
//! several servers at once.
//!
//! - [`service`]: the real services (naive check-then-act, event-sourced), generic over the
//!   [`runtime`] so std threads, loom and shuttle run the same code; implement
//!   [`service::JoinService`] and [`service::Server`] to check your own.
//! - [`store`]: the shared database, recording every operation in the order it took effect.
//! - [`check`]: the engines (loom, shuttle, proptest, stress, conformance); each returns a
//!   [`Verdict`](joincheck_models::verdict::Verdict).
//! - [`trace`]: counterexamples as text, as Mermaid, and as replay files (versioned JSON).
//! - [`figures`]: how reports write counts (separators, plurals).
//! - [`history`]: histories of real requests (invocation, completion, outcome), as JSON lines
//!   and as an SVG timeline.
//! - [`linearizability`]: whether a history has an order a sequential specification allows
//!   (the join service's, a register's, or yours), and the requests that cannot be ordered.
//! - [`protocols`]: the built-in protocols, each with its model, its service and what checking
//!   it must conclude.
//!
//! The protocol models and their exhaustive checker live in [`models`] (`joincheck-models`).
//!
//! # Example
//!
//! Every interleaving of the article's race, on the real services:
//!
//! ```
//! use joincheck::check::loom::{check, LoomOptions};
//! use joincheck::check::Scenario;
//! use joincheck::service::{EventSourced, Naive};
//!
//! // server-1: join sue → team-A; server-2: join sue → team-B
//! let scenario = Scenario::article();
//!
//! let naive = check(Naive, &scenario, &LoomOptions::default())?;
//! let found = naive.counterexample().expect("check-then-act breaks");
//! println!("{}", joincheck::trace::text(found, None));
//!
//! let event_sourced = check(EventSourced::GLOBAL, &scenario, &LoomOptions::default())?;
//! assert_eq!(event_sourced.kind(), "holds");
//! # Ok::<(), joincheck::check::ScenarioError>(())
//! ```

#![deny(missing_docs, missing_debug_implementations)]

pub mod check;
mod draws;
pub mod figures;
pub mod history;
pub mod linearizability;
pub mod load;
pub mod protocols;
pub mod runtime;
pub mod service;
pub mod store;
pub mod trace;

pub use joincheck_models as models;
