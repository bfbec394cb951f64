//! The values `--protocol` takes, generated from the registry ([`joincheck::protocols`]): help
//! lists every built-in protocol and what is known about it, so a new protocol cannot be left
//! out of a command's help or refused by its parser.

use clap::builder::PossibleValue;
use clap::ValueEnum;
use joincheck::protocols::{self, CatalogueProtocol, SqlOnly};
use joincheck::store::sql::Dialect;
use joincheck_models::Protocol;
use std::sync::OnceLock;

/// One built-in protocol, or (for `check`) all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolArg {
    /// This protocol.
    One(CatalogueProtocol),
    /// Every built-in protocol, in the registry's order.
    All,
}

/// A value of `--protocol` where exactly one protocol is meant (`conform`, `explore`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OneProtocol(pub Protocol);

/// What help says of `protocol`: what checking it must conclude, and where. Every protocol known
/// to break breaks exactly where two servers race for two teams (a test holds the models to
/// this); the transactions below serializable break so on PostgreSQL only.
fn described(protocol: CatalogueProtocol) -> PossibleValue {
    let broken = |dialect| protocols::known(protocol, dialect).why_broken();
    let help = match (
        protocol.model(),
        broken(None),
        broken(Some(Dialect::Postgres)),
    ) {
        (Some(_), Some(why), _) => {
            format!("{why}: violated with 2 or more servers and 2 or more teams, holds otherwise")
        }
        (Some(_), None, _) => "holds at every size".to_string(),
        (None, _, Some(why)) => format!(
            "SQL only: {why}: on PostgreSQL violated with 2 or more servers and 2 or more teams; \
             holds on SQLite"
        ),
        (None, _, None) if protocol == CatalogueProtocol::SqlOnly(SqlOnly::NaiveOneStatement) => {
            "SQL only: holds for every interleaving of whole statements; on PostgreSQL that is \
             evidence, not proof (`joincheck stress` refutes it there)"
                .to_string()
        }
        (None, _, None) => "SQL only: holds at every size on SQLite and PostgreSQL".to_string(),
    };
    PossibleValue::new(protocol.name()).help(help)
}

impl ValueEnum for ProtocolArg {
    fn value_variants<'a>() -> &'a [Self] {
        static VARIANTS: OnceLock<Vec<ProtocolArg>> = OnceLock::new();
        VARIANTS.get_or_init(|| {
            let mut variants: Vec<ProtocolArg> = protocols::CATALOGUE
                .into_iter()
                .map(ProtocolArg::One)
                .collect();
            variants.push(ProtocolArg::All);
            variants
        })
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            ProtocolArg::One(protocol) => described(*protocol),
            ProtocolArg::All => PossibleValue::new("all").help("every protocol above"),
        })
    }
}

impl ValueEnum for OneProtocol {
    fn value_variants<'a>() -> &'a [Self] {
        static VARIANTS: OnceLock<Vec<OneProtocol>> = OnceLock::new();
        VARIANTS.get_or_init(|| protocols::ALL.into_iter().map(OneProtocol).collect())
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(described(self.0.into()))
    }
}

/// The protocols known to break in memory (`None`): `naive, event-sourced-per-team, lease-lock
/// and lease-lock-fenced`; or those without a model known to break on `dialect`, in words.
pub fn known_broken(dialect: Option<Dialect>) -> String {
    let names: Vec<&str> = protocols::CATALOGUE
        .into_iter()
        .filter(|protocol| protocol.model().is_some() == dialect.is_none())
        .filter(|protocol| protocols::known(*protocol, dialect).why_broken().is_some())
        .map(|protocol| protocol.name())
        .collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => "none".to_string(),
    }
}

/// The protocols `args` name, in the registry's order, each once.
pub fn chosen(args: &[ProtocolArg]) -> Vec<CatalogueProtocol> {
    protocols::CATALOGUE
        .into_iter()
        .filter(|protocol| {
            args.iter()
                .any(|arg| matches!(arg, ProtocolArg::All) || *arg == ProtocolArg::One(*protocol))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use joincheck_models::Sizes;

    /// What help says of each protocol is what its model says at every small size.
    #[test]
    fn help_says_where_each_protocol_breaks() {
        for protocol in protocols::ALL {
            let broken = protocols::known(protocol.into(), None)
                .why_broken()
                .is_some();
            for sizes in (1..=3u8).flat_map(|s| (1..=3u8).map(move |t| (s, t))) {
                let (servers, teams) = sizes;
                for (users, requests) in [(1, 1), (2, 2), (3, 1)] {
                    let sizes = Sizes::new(servers, users, teams, requests).unwrap();
                    let said = broken && servers >= 2 && teams >= 2;
                    assert_eq!(protocol.spec().breaks_at(sizes), said, "{protocol} {sizes}");
                }
            }
        }
    }
}
