//! The tables a service's SQL runs on, kept in code next to the statements that rely on them.

use joincheck_models::domain::{TeamId, UserId};

/// What a fresh database of a service holds, and how the harness reads who is on which team.
///
/// Every execution gets a fresh database: the harness runs `create`, then the statements `seed`
/// returns for the run's initial memberships (neither is recorded), then the servers' statements.
/// After every statement it reads `membership` on a connection of its own: the *committed*
/// membership, on which the invariant is judged.
#[derive(Clone, Copy, Debug)]
pub struct Schema {
    /// Statements that create the tables and indexes, in order. Portable SQL: both SQLite and
    /// PostgreSQL run them.
    pub create: &'static [&'static str],
    /// The statements that put the initial `(team, user)` memberships (and any rows every user
    /// needs, such as a `users` row) into a fresh database.
    pub seed: fn(&[(TeamId, UserId)]) -> Vec<String>,
    /// A query whose rows are the committed memberships as `(team, user)` names.
    pub membership: &'static str,
}

/// One `INSERT` of `rows` (each already written as `(…)` literals) into `table`, or nothing for
/// no rows: seeding in one statement keeps a fresh database cheap.
pub fn insert_rows(table: &str, columns: &str, rows: Vec<String>) -> Vec<String> {
    if rows.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "INSERT INTO {table} ({columns}) VALUES {}",
        rows.join(", ")
    )]
}

/// Every user a scenario can name, in order: a `users` table has a row for each.
pub fn every_user() -> impl Iterator<Item = UserId> {
    (0..=u8::MAX).map(UserId)
}
