//! joincheck-models: the specification of the Team Joiner protocols.
//!
//! The domain types, the database operations, the verdict types, and the protocols as state
//! machines that are explored exhaustively — by joincheck's own fast checker ([`check`]) or by
//! stateright ([`stateright_model()`]), both driven by the same transition code
//! ([`ProtocolModel`]). No I/O.

#![deny(missing_docs, missing_debug_implementations)]

pub mod action;
pub mod bench;
pub mod checker;
pub mod domain;
mod layout;
pub mod model;
pub mod operation;
pub mod protocol;
pub mod protocols;
pub mod sizes;
pub mod state;
pub mod stateright_model;
mod symmetry;
pub mod verdict;

pub use action::Action;
pub use bench::{bench_grid, skip_without_symmetry};
pub use checker::{check, check_report, replay, thousands, CheckOptions, Progress, Report};
pub use layout::{StateTooWide, STATE_BITS};
pub use model::{ProtocolModel, ReplayError};
pub use protocol::{Database, JoinProtocol};
pub use protocols::Protocol;
pub use sizes::{plural, SizeError, Sizes};
pub use state::{Phase, Server, State};
pub use stateright_model::{stateright_model, StaterightModel};
pub use symmetry::Renaming;
pub use verdict::{Counterexample, Engine, Replay, Stats, Verdict};

#[cfg(test)]
mod reference;
