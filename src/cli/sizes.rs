//! The `--servers --users --teams --requests` flags, and the workload they give the real code.

use clap::Args;
use joincheck::check::Scenario;
use joincheck_models::sizes::{MAX_DIMENSION, MAX_REQUESTS};
use joincheck_models::Sizes;
use serde_json::{json, Value};

/// The bounds of a check. The defaults are the article's race.
#[derive(Args, Debug, Clone)]
pub struct SizeArgs {
    /// Servers running the protocol at the same time (1 to 8).
    /// Example: --servers 3
    #[arg(long, value_name = "S", default_value_t = 2)]
    pub servers: u64,
    /// Users who may ask to join a team (1 to 8). Example: --users 3
    #[arg(long, value_name = "U", default_value_t = 1)]
    pub users: u64,
    /// Teams users may join (1 to 8). Example: --teams 3
    #[arg(long, value_name = "T", default_value_t = 2)]
    pub teams: u64,
    /// Requests each server handles, one after another (1 to 15). Example: --requests 2
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub requests: u64,
}

impl SizeArgs {
    /// The validated sizes, or one line saying what is wrong.
    pub fn sizes(&self) -> Result<Sizes, String> {
        let narrow = |dimension: &str, value: u64, limit: u8| {
            u8::try_from(value)
                .map_err(|_| format!("{dimension} = {value} is above the limit of {limit}"))
        };
        Sizes::new(
            narrow("servers", self.servers, MAX_DIMENSION)?,
            narrow("users", self.users, MAX_DIMENSION)?,
            narrow("teams", self.teams, MAX_DIMENSION)?,
            narrow("requests", self.requests, MAX_REQUESTS)?,
        )
        .map_err(|error| error.to_string())
    }
}

/// The sizes as every JSON report writes them.
pub fn sizes_json(sizes: Sizes) -> Value {
    json!({
        "servers": sizes.servers,
        "users": sizes.users,
        "teams": sizes.teams,
        "requests": sizes.requests,
    })
}

/// The one workload the real-code engines (loom, shuttle) run at `sizes`:
/// [`Scenario::round_robin`]. The model explores every choice of (user, team) for every request;
/// the real code runs this one. At the article's sizes it is [`Scenario::article`].
pub fn scenario(sizes: Sizes) -> Result<Scenario, String> {
    Scenario::round_robin(sizes.servers, sizes.users, sizes.teams, sizes.requests)
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_sizes_are_the_article() {
        let args = SizeArgs {
            servers: 2,
            users: 1,
            teams: 2,
            requests: 1,
        };
        let sizes = args.sizes().unwrap();
        assert_eq!(scenario(sizes).unwrap(), Scenario::article());
    }

    #[test]
    fn other_sizes_give_a_round_robin_workload_in_which_servers_race_in_pairs() {
        let sizes = Sizes::new(3, 2, 2, 2).unwrap();
        assert_eq!(
            scenario(sizes).unwrap().to_string(),
            "server-1: join sue → team-A, join john → team-B; \
             server-2: join sue → team-B, join john → team-A; \
             server-3: join john → team-A, join sue → team-B"
        );
        // One request each, more users than servers: the first pair still races for sue.
        let sizes = Sizes::new(4, 2, 2, 1).unwrap();
        assert_eq!(
            scenario(sizes).unwrap().to_string(),
            "server-1: join sue → team-A; server-2: join sue → team-B; \
             server-3: join john → team-A; server-4: join john → team-B"
        );
    }

    #[test]
    fn huge_sizes_are_refused_in_one_line() {
        let args = SizeArgs {
            servers: 1000,
            users: 1,
            teams: 2,
            requests: 1,
        };
        assert_eq!(
            args.sizes().unwrap_err(),
            "servers = 1000 is above the limit of 8"
        );
    }
}
