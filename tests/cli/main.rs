//! The `joincheck` binary, run as a user runs it: exit codes, renderings, files, replay, explorer,
//! benchmark and every kind of bad input. Sizes are small so the whole file runs in seconds.
//!
//! One binary, a module per command, and one per concern that spans commands (`flags`, `memory`,
//! `reports`, `usage`, `writes`); shared helpers are in `util`. New tests go in the module of the
//! command they run, or of the concern they test.

mod bench;
mod check;
mod conform;
mod explore;
mod flags;
mod memory;
mod replay;
mod reports;
mod stress;
mod usage;
mod util;
mod writes;
