//! joincheck-models: the specification of the Team Joiner protocols.
//!
//! The domain types, the database operations, the verdict types, and the protocols as state
//! machines that are explored exhaustively. No threads, no I/O.

pub mod domain;
pub mod operation;
pub mod verdict;
