//! Users, teams, servers and engines in a replay file, by the names traces print (`sue`,
//! `team-A`, `server-1`, `loom`): the models' own name for each id, read back with its `parse`.

use joincheck_models::domain::{ServerId, TeamId, UserId};
use serde::de::{self, MapAccess, SeqAccess};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A user, saved by name (`sue`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct User(pub UserId);

/// A team, saved by name (`team-A`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Team(pub TeamId);

/// A server, saved by name (`server-1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Server(pub ServerId);

macro_rules! by_name {
    ($name:ident, $id:ident, $what:literal, $first:literal) => {
        impl From<$name> for String {
            fn from(named: $name) -> String {
                named.0.to_string()
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(text: String) -> Result<$name, String> {
                $id::parse(&text).map($name).ok_or_else(|| {
                    let names: Vec<String> = (0..$first).map(|i| $id(i).to_string()).collect();
                    format!(
                        concat!(
                            "`{}` is not a ",
                            $what,
                            ": the ",
                            $what,
                            "s are {}, … in order"
                        ),
                        text,
                        names.join(", ")
                    )
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

// Every user name there is before the numbered ones; the first few of the lettered teams and the
// numbered servers.
by_name!(User, UserId, "user", 9);
by_name!(Team, TeamId, "team", 3);
by_name!(Server, ServerId, "server", 3);

/// Servers, users, teams and requests as a file holds them: an object, `{"servers": 2, "users":
/// 1, "teams": 2, "requests": 1}`, as every JSON report writes sizes. Version 2 files held an
/// array, `[2, 1, 2, 1]`, which is still read.
pub struct SizesRecord(pub [u8; 4]);

/// The sizes as an object.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SizesObject {
    servers: u8,
    users: u8,
    teams: u8,
    requests: u8,
}

/// Writes `[servers, users, teams, requests]` as an object.
pub fn serialize_sizes<S: Serializer>(sizes: &[u8; 4], serializer: S) -> Result<S::Ok, S::Error> {
    let [servers, users, teams, requests] = *sizes;
    SizesObject {
        servers,
        users,
        teams,
        requests,
    }
    .serialize(serializer)
}

impl<'de> Deserialize<'de> for SizesRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SizesRecord, D::Error> {
        struct Sizes;
        impl<'de> de::Visitor<'de> for Sizes {
            type Value = SizesRecord;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object with `servers`, `users`, `teams` and `requests`")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SizesRecord, A::Error> {
                let sizes = SizesObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(SizesRecord([
                    sizes.servers,
                    sizes.users,
                    sizes.teams,
                    sizes.requests,
                ]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<SizesRecord, A::Error> {
                let sizes = <[u8; 4]>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(SizesRecord(sizes))
            }
        }
        deserializer.deserialize_any(Sizes)
    }
}

/// Engines saved by [`Engine::name`](joincheck_models::verdict::Engine::name).
pub mod engine {
    use joincheck_models::verdict::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    const ENGINES: [Engine; 6] = [
        Engine::Model,
        Engine::Loom,
        Engine::Shuttle,
        Engine::Proptest,
        Engine::Stress,
        Engine::Dpor,
    ];

    pub fn serialize<S: Serializer>(engine: &Engine, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(engine.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Engine, D::Error> {
        let name = String::deserialize(deserializer)?;
        ENGINES
            .into_iter()
            .find(|engine| engine.name() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown engine `{name}`")))
    }
}
