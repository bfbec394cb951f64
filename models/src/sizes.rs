//! The bounds of a model: how many servers, users, teams and requests per server.
//!
//! Every dimension is validated up front, so that a state has room for every server, user and
//! team (see [`crate::state`]) and a bad command line turns into one clear error instead of a
//! panic deep inside the search. Whether a protocol's states at valid sizes are narrow enough for
//! the checker is the model's question ([`crate::ProtocolModel::checkable`]), not the sizes'.

use std::fmt;

/// The largest number of servers, users or teams a model accepts.
///
/// Eight keeps a team's member set in one byte and every label in three bits; far beyond what an
/// exhaustive search can cover anyway (the state space grows like `(U·T)^(S·N)`).
pub const MAX_DIMENSION: u8 = 8;

/// The largest number of requests per server a model accepts.
pub const MAX_REQUESTS: u8 = 15;

/// The bounds of a model: `servers` servers each handle `requests` requests, each request asking
/// to add one of `users` users to one of `teams` teams.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sizes {
    /// Horizontally scaled servers running the protocol concurrently.
    pub servers: u8,
    /// Users who may ask to join a team.
    pub users: u8,
    /// Teams users may join.
    pub teams: u8,
    /// Requests each server handles, one after another.
    pub requests: u8,
}

/// Why a [`Sizes`] was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SizeError {
    /// A dimension is zero: the model would have nothing to check.
    Zero {
        /// `servers`, `users`, `teams` or `requests`.
        dimension: &'static str,
    },
    /// A dimension is above its limit.
    TooLarge {
        /// `servers`, `users`, `teams` or `requests`.
        dimension: &'static str,
        /// The value asked for.
        value: u8,
        /// The largest accepted value.
        limit: u8,
    },
    /// A protocol's event log can hold more events than a state has room for.
    LogTooLong {
        /// The protocol modelled.
        protocol: &'static str,
        /// Whether requests may be leaves, when the log grows by one event per request.
        leaves: bool,
        /// The most events its log can hold at these sizes.
        events: u8,
        /// The most a state holds.
        room: u8,
    },
}

impl fmt::Display for SizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SizeError::Zero { dimension } => {
                write!(
                    f,
                    "{dimension} must be at least 1: with none there is nothing to check"
                )
            }
            SizeError::TooLarge {
                dimension,
                value,
                limit,
            } => write!(f, "{dimension} = {value} is above the limit of {limit}"),
            SizeError::LogTooLong {
                protocol,
                leaves,
                events,
                room,
            } => {
                let (with_leaves, per_request) = match leaves {
                    true => ("with leaves, the", " (one per request),"),
                    false => ("the", ","),
                };
                write!(
                    f,
                    "{with_leaves} log of the {protocol} protocol can grow to {events} events at \
                     these sizes{per_request} more than the {room} a state has room for; use \
                     fewer servers or requests"
                )
            }
        }
    }
}

impl std::error::Error for SizeError {}

impl Sizes {
    /// Validates and builds the sizes `servers, users, teams, requests`.
    ///
    /// Every dimension must be at least 1 and at most [`MAX_DIMENSION`] ([`MAX_REQUESTS`] for
    /// requests).
    pub fn new(servers: u8, users: u8, teams: u8, requests: u8) -> Result<Sizes, SizeError> {
        let dimensions = [
            ("servers", servers, MAX_DIMENSION),
            ("users", users, MAX_DIMENSION),
            ("teams", teams, MAX_DIMENSION),
            ("requests", requests, MAX_REQUESTS),
        ];
        for (dimension, value, limit) in dimensions {
            if value == 0 {
                return Err(SizeError::Zero { dimension });
            }
            if value > limit {
                return Err(SizeError::TooLarge {
                    dimension,
                    value,
                    limit,
                });
            }
        }
        Ok(Sizes {
            servers,
            users,
            teams,
            requests,
        })
    }

    /// Checks sizes built field by field (the fields are public) as [`Sizes::new`] would.
    pub fn validate(self) -> Result<Sizes, SizeError> {
        Sizes::new(self.servers, self.users, self.teams, self.requests)
    }

    /// The sizes as `[servers, users, teams, requests]`, the form a replay file stores.
    pub fn as_array(self) -> [u8; 4] {
        [self.servers, self.users, self.teams, self.requests]
    }

    /// The scope of an exhaustive check in words:
    /// "3 servers × 3 users × 3 teams × 2 requests each".
    pub fn scope(self) -> String {
        format!(
            "{} × {} × {} × {} each",
            plural(self.servers, "server"),
            plural(self.users, "user"),
            plural(self.teams, "team"),
            plural(self.requests, "request")
        )
    }
}

/// `1 user`, `2 users`: how every report counts things.
pub fn plural(count: u8, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

impl fmt::Display for Sizes {
    /// "2 servers, 1 user, 2 teams, 1 request each".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}, {}, {} each",
            plural(self.servers, "server"),
            plural(self.users, "user"),
            plural(self.teams, "team"),
            plural(self.requests, "request")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_words_with_correct_plurals() {
        let sizes = Sizes::new(2, 1, 2, 1).unwrap();
        assert_eq!(
            sizes.to_string(),
            "2 servers, 1 user, 2 teams, 1 request each"
        );
        let sizes = Sizes::new(1, 3, 1, 2).unwrap();
        assert_eq!(
            sizes.to_string(),
            "1 server, 3 users, 1 team, 2 requests each"
        );
        assert_eq!(
            sizes.scope(),
            "1 server × 3 users × 1 team × 2 requests each"
        );
        assert_eq!(sizes.as_array(), [1, 3, 1, 2]);
    }

    #[test]
    fn refuses_zero_and_absurd_sizes_with_a_clear_error() {
        let zero = Sizes::new(0, 1, 1, 1).unwrap_err();
        assert_eq!(
            zero,
            SizeError::Zero {
                dimension: "servers"
            }
        );
        assert!(zero.to_string().contains("servers must be at least 1"));
        assert_eq!(
            Sizes::new(1, 1, 0, 1).unwrap_err(),
            SizeError::Zero { dimension: "teams" }
        );
        let big = Sizes::new(1, 9, 1, 1).unwrap_err();
        assert_eq!(big.to_string(), "users = 9 is above the limit of 8");
        assert!(Sizes::new(1, 1, 1, 16).is_err());
        // Too wide for the checker to pack, yet valid: engines that run the real code take them.
        assert!(Sizes::new(8, 8, 8, 15).is_ok());
        assert!(Sizes::new(5, 3, 3, 2).is_ok());
        let hand_made = Sizes {
            servers: 2,
            users: 0,
            teams: 1,
            requests: 1,
        };
        assert_eq!(
            hand_made.validate(),
            Err(SizeError::Zero { dimension: "users" })
        );
        assert!(Sizes::new(4, 4, 4, 2).is_ok());
    }
}
