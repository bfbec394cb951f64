//! joincheck: proves or refutes "a user is on at most one team" for real join services.
pub mod check;
pub mod runtime;
pub mod service;
pub mod store;
