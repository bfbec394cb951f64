//! The `--servers --users --teams --requests` flags, and the workload they give the real code.

use crate::cli::values::whole;
use clap::Args;
use joincheck::check::Scenario;
use joincheck_models::domain::Request;
use joincheck_models::sizes::{MAX_DIMENSION, MAX_REQUESTS};
use joincheck_models::Sizes;
use serde_json::{json, Value};

/// The bounds of a check. The defaults are the article's race.
#[derive(Args, Debug, Clone)]
pub struct SizeArgs {
    /// Servers running the protocol at the same time (1 to 8).
    /// Example: --servers 3
    #[arg(long, value_name = "S", default_value_t = 2,
          value_parser = whole::<u8>(1, u64::from(MAX_DIMENSION)), allow_negative_numbers = true)]
    pub servers: u8,
    /// Users who may ask to join a team (1 to 8). Example: --users 3
    #[arg(long, value_name = "U", default_value_t = 1,
          value_parser = whole::<u8>(1, u64::from(MAX_DIMENSION)), allow_negative_numbers = true)]
    pub users: u8,
    /// Teams users may join (1 to 8). Example: --teams 3
    #[arg(long, value_name = "T", default_value_t = 2,
          value_parser = whole::<u8>(1, u64::from(MAX_DIMENSION)), allow_negative_numbers = true)]
    pub teams: u8,
    /// Requests each server handles, one after another (1 to 15). Example: --requests 2
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = whole::<u8>(1, u64::from(MAX_REQUESTS)), allow_negative_numbers = true)]
    pub requests: u8,
}

impl SizeArgs {
    /// The validated sizes, or one line saying what is wrong.
    pub fn sizes(&self) -> Result<Sizes, String> {
        Sizes::new(self.servers, self.users, self.teams, self.requests)
            .map_err(|error| error.to_string())
    }
}

/// The sizes as every JSON report writes them: an object, in `check`, `conform`, `bench` and
/// the replay files alike.
pub fn sizes_json([servers, users, teams, requests]: [u8; 4]) -> Value {
    json!({
        "servers": servers,
        "users": users,
        "teams": teams,
        "requests": requests,
    })
}

/// The one workload the real-code engines (loom, shuttle) run at `sizes`:
/// [`Scenario::round_robin`]. The model explores every choice of (user, team) for every request;
/// the real code runs this one. At the article's sizes it is [`Scenario::article`].
pub fn scenario(sizes: Sizes) -> Result<Scenario, String> {
    Scenario::round_robin(sizes.servers, sizes.users, sizes.teams, sizes.requests)
        .map_err(|error| error.to_string())
}

/// The workload of `conform --leaves`: [`scenario`]'s, where every second request of a server
/// (its 2nd, 4th, …) leaves the team its request before joined, racing the other servers'
/// joins. Refused below 2 requests per server, where it would have no leave.
pub fn scenario_with_leaves(sizes: Sizes) -> Result<Scenario, String> {
    if sizes.requests < 2 {
        return Err(
            "--leaves needs at least 2 requests per server (--requests 2): a server's \
                    second request leaves the team its first joined"
                .to_string(),
        );
    }
    let joins = scenario(sizes)?;
    let servers = joins
        .servers()
        .iter()
        .map(|requests| {
            let mut requests = requests.clone();
            for k in (1..requests.len()).step_by(2) {
                let (user, team) = (requests[k - 1].user(), requests[k - 1].team());
                requests[k] = Request::Leave { user, team };
            }
            requests
        })
        .collect();
    Scenario::new(sizes.users, sizes.teams, servers, Vec::new()).map_err(|error| error.to_string())
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
    fn with_leaves_every_second_request_leaves_the_team_the_one_before_joined() {
        let sizes = Sizes::new(2, 1, 2, 3).unwrap();
        assert_eq!(
            scenario_with_leaves(sizes).unwrap().to_string(),
            "server-1: join sue → team-A, leave sue ← team-A, join sue → team-A; \
             server-2: join sue → team-B, leave sue ← team-B, join sue → team-B"
        );
        let one = Sizes::new(2, 1, 2, 1).unwrap();
        assert!(scenario_with_leaves(one)
            .unwrap_err()
            .starts_with("--leaves needs"));
    }
}
