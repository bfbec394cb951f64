//! joincheck-models: the specification of the Team Joiner protocols.
//!
//! The domain types, the database operations, the verdict types, and the protocols as state
//! machines that are explored exhaustively — by joincheck's own fast checker ([`check`]) or by
//! stateright ([`stateright_model()`]), both driven by the same transition code
//! ([`ProtocolModel`]). No I/O. The exact semantics, the reference counts they are checked
//! against and stateright's traps are in `docs/ARCHITECTURE.md`.
//!
//! # Adding a protocol
//!
//! A protocol is one type implementing one trait, [`JoinProtocol`]: its name, the action that
//! starts a request, its transitions, the database it keeps, how symmetry renames that database,
//! and the verdict expected at given sizes. Write it in one new file under `src/protocols/`
//! (`naive.rs` is the smallest example) and add it to [`Protocol`] in `src/protocols/mod.rs`:
//! the model, packing, symmetry reduction, both checkers and the stateright adapter then take
//! it, by name. (The engines of the joincheck crate run real code: there the protocol also needs
//! its service.)

#![deny(missing_docs, missing_debug_implementations)]

pub mod action;
pub mod bench;
pub mod checker;
pub mod domain;
pub mod footprint;
mod layout;
pub mod model;
pub mod operation;
pub mod protocol;
pub mod protocols;
mod renaming;
pub mod sizes;
pub mod state;
pub mod statement;
pub mod stateright_model;
mod symmetry;
pub mod verdict;

pub use action::Action;
pub use bench::{bench_grid, skip_without_symmetry};
pub use checker::{check, check_report, replay, thousands, CheckOptions, Progress, Report};
pub use layout::{StateTooWide, STATE_BITS};
pub use model::{requests_in_words, ProtocolModel, ReplayError};
pub use protocol::{Database, JoinProtocol};
pub use protocols::Protocol;
pub use renaming::Renaming;
pub use sizes::{plural, SizeError, Sizes};
pub use state::{Phase, Server, State};
pub use stateright_model::{stateright_model, StaterightModel};
pub use verdict::{Counterexample, Engine, Replay, Stats, Verdict};

#[cfg(test)]
mod reference;
