//! Users, teams, servers and engines in a replay file, by the names traces print (`sue`,
//! `team-A`, `server-1`, `loom`): the models' own name for each id, read back with its `parse`.

use joincheck_models::domain::{ServerId, TeamId, UserId};
use serde::{Deserialize, Serialize};
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
    ($name:ident, $id:ident, $what:literal) => {
        impl From<$name> for String {
            fn from(named: $name) -> String {
                named.0.to_string()
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(text: String) -> Result<$name, String> {
                $id::parse(&text)
                    .map($name)
                    .ok_or_else(|| format!(concat!("`{}` is not a ", $what), text))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

by_name!(User, UserId, "user");
by_name!(Team, TeamId, "team");
by_name!(Server, ServerId, "server");

/// Engines saved by [`Engine::name`](joincheck_models::verdict::Engine::name).
pub mod engine {
    use joincheck_models::verdict::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    const ENGINES: [Engine; 5] = [
        Engine::Model,
        Engine::Loom,
        Engine::Shuttle,
        Engine::Proptest,
        Engine::Stress,
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
