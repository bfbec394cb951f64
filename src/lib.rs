//! joincheck proves or refutes **"a user is on at most one team"** for join services run by
//! several servers at once.
//!
//! - [`service`]: the real services (naive check-then-act, event-sourced), generic over the
//!   [`runtime`] so std threads, loom and shuttle run the same code; implement
//!   [`service::JoinService`] to check your own.
//! - [`store`]: the shared database, recording every operation in the order it took effect.
//! - [`check`]: the engines; each returns a [`Verdict`](joincheck_models::verdict::Verdict).
//! - [`trace`]: counterexamples as text, Mermaid and JSON.
//!
//! The protocol models and their exhaustive checker live in [`joincheck_models`].

pub mod check;
pub mod runtime;
pub mod service;
pub mod store;
pub mod trace;

pub use joincheck_models as models;
