//! The `joincheck` binary, run as a user runs it: exit codes, renderings, files, replay, explorer,
//! benchmark and every kind of bad input. Sizes are small so the whole file runs in seconds.
//!
//! One binary, a module per command; shared helpers are in `util`. New tests go in the module of
//! the command they run.

mod bench;
mod check;
mod conform;
mod explore;
mod flags;
mod replay;
mod reports;
mod stress;
mod util;
mod writes;
