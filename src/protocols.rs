//! The built-in protocols: for each, the models' [`Protocol`] where it has one, the real service
//! that implements it in memory and as SQL, and what checking it must conclude on each database.
//!
//! Every command finds its protocols here. [`with_service`] matches every [`CatalogueProtocol`]
//! on every [`Storage`], so a protocol the models know but the registry does not is a compile
//! error, not a protocol some command silently leaves out. Adding one is one line there.

use crate::runtime::{Dpor, Loom, Shuttle, Std};
use crate::service::sql::{self, Isolation, Streams};
use crate::service::{EventSourced, JoinService, LeaseLock, Naive, UniqueMembership, UserDocument};
use crate::store::sql::{Dialect, SqlTarget};
use joincheck_models::{Protocol, Sizes};
use std::fmt;

/// Every protocol the models know, in the order reports list them.
pub const ALL: [Protocol; 9] = Protocol::ALL;

/// A protocol that exists only as SQL: the database's own transactions and locks are what it
/// is about, so it has no model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlOnly {
    /// The article's two statements in one transaction at the database's default isolation.
    NaiveTransaction,
    /// The same at repeatable read.
    NaiveRepeatableRead,
    /// The same, serializable, retried on a serialization failure.
    NaiveSerializable,
    /// The check inside the insert: `INSERT … SELECT … WHERE NOT EXISTS`.
    NaiveOneStatement,
    /// Lock the user's row, check, insert, commit.
    LockUserRow,
}

/// A protocol of the catalogue: one the models know, or one that exists only as SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CatalogueProtocol {
    /// A protocol with a model, in memory and (but for the lease locks) as SQL.
    Modelled(Protocol),
    /// A protocol that exists only as SQL.
    SqlOnly(SqlOnly),
}

/// Every protocol of the catalogue, in the order reports list them: the SQL-only variants of
/// the article's check-then-act right after it.
pub const CATALOGUE: [CatalogueProtocol; 14] = {
    use CatalogueProtocol::{Modelled, SqlOnly as Sql};
    [
        Modelled(Protocol::Naive),
        Sql(SqlOnly::NaiveTransaction),
        Sql(SqlOnly::NaiveRepeatableRead),
        Sql(SqlOnly::NaiveSerializable),
        Sql(SqlOnly::NaiveOneStatement),
        Sql(SqlOnly::LockUserRow),
        Modelled(Protocol::EventSourced),
        Modelled(Protocol::EventSourcedPerUser),
        Modelled(Protocol::EventSourcedPerTeam),
        Modelled(Protocol::UniqueMembership),
        Modelled(Protocol::UserDocument),
        Modelled(Protocol::LeaseLock),
        Modelled(Protocol::LeaseLockFenced),
        Modelled(Protocol::LeaseLockFencedReads),
    ]
};

impl CatalogueProtocol {
    /// Its name, as commands take it: `naive`, `naive-transaction`, …
    pub fn name(self) -> &'static str {
        match self {
            CatalogueProtocol::Modelled(protocol) => protocol.name(),
            CatalogueProtocol::SqlOnly(SqlOnly::NaiveTransaction) => "naive-transaction",
            CatalogueProtocol::SqlOnly(SqlOnly::NaiveRepeatableRead) => "naive-repeatable-read",
            CatalogueProtocol::SqlOnly(SqlOnly::NaiveSerializable) => "naive-serializable",
            CatalogueProtocol::SqlOnly(SqlOnly::NaiveOneStatement) => "naive-one-statement",
            CatalogueProtocol::SqlOnly(SqlOnly::LockUserRow) => "lock-user-row",
        }
    }

    /// Its model, when it has one.
    pub fn model(self) -> Option<Protocol> {
        match self {
            CatalogueProtocol::Modelled(protocol) => Some(protocol),
            CatalogueProtocol::SqlOnly(_) => None,
        }
    }

    /// Whether the invariant breaks at `sizes` on `dialect` (`None`: in memory). A protocol
    /// known to break there breaks where its model does; one without a model breaks where the
    /// article's check-then-act, which it is at heart, does.
    pub fn breaks_at(self, dialect: Option<Dialect>, sizes: Sizes) -> bool {
        let like = self.model().unwrap_or(Protocol::Naive);
        known(self, dialect).why_broken().is_some() && like.spec().breaks_at(sizes)
    }
}

impl From<Protocol> for CatalogueProtocol {
    fn from(protocol: Protocol) -> CatalogueProtocol {
        CatalogueProtocol::Modelled(protocol)
    }
}

impl fmt::Display for CatalogueProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// Where a protocol's service keeps its data: the in-memory stores, or SQL on a database.
#[derive(Clone, Debug)]
pub enum Storage {
    /// The in-memory stores, the fastest.
    Memory,
    /// Fresh SQLite files or PostgreSQL schemas.
    Sql(SqlTarget),
}

impl Storage {
    /// `memory`, `sqlite` or `postgres`, as reports name it.
    pub fn name(&self) -> &'static str {
        match self {
            Storage::Memory => "memory",
            Storage::Sql(target) => target.dialect().name(),
        }
    }

    /// The SQL dialect, when it is a database.
    pub fn dialect(&self) -> Option<Dialect> {
        match self {
            Storage::Memory => None,
            Storage::Sql(target) => Some(target.dialect()),
        }
    }
}

/// The service behind a built-in protocol, for [`with_service`]: the engines take it by value,
/// on any runtime, and clone it into every checked run.
pub trait Service:
    JoinService<Loom>
    + JoinService<Shuttle>
    + JoinService<Std>
    + JoinService<Dpor>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S> Service for S where
    S: JoinService<Loom>
        + JoinService<Shuttle>
        + JoinService<Std>
        + JoinService<Dpor>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// A verdict a check must reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The invariant holds.
    Holds,
    /// The invariant is violated.
    Violated,
}

impl Expected {
    /// `holds` or `violated`, as verdicts are named.
    pub fn name(self) -> &'static str {
        match self {
            Expected::Holds => "holds",
            Expected::Violated => "violated",
        }
    }
}

/// What is known about a protocol, in words for reports. At which sizes it breaks is its
/// model's to say ([`joincheck_models::JoinProtocol::breaks_at`]); the registry only says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// Correct on any number of servers.
    Correct,
    /// The article's check-then-act.
    CheckThenAct,
    /// Event sourcing whose expected version does not cover the user (one stream per team).
    VersionMissesTheUser,
    /// Broken for the reason given, in words, for reports.
    Broken(&'static str),
}

impl Known {
    /// Why a violation is expected, in words, for reports.
    pub fn why_broken(self) -> Option<&'static str> {
        match self {
            Known::Correct => None,
            Known::CheckThenAct => Some("the article's broken check-then-act"),
            Known::VersionMissesTheUser => {
                Some("event sourcing whose expected version does not cover the user")
            }
            Known::Broken(why) => Some(why),
        }
    }
}

/// One built-in protocol: its name, its real service, what is known about it.
#[derive(Clone, Debug)]
pub struct Builtin<S> {
    /// The protocol.
    pub protocol: CatalogueProtocol,
    /// The real service implementing it.
    pub service: S,
    /// What checking it must conclude.
    pub known: Known,
}

/// Work to do with a built-in protocol, whatever the type of its service: the engines are generic
/// over the service, so [`with_service`] hands each entry to `run` with its own type.
pub trait WithBuiltin {
    /// What the work returns.
    type Output;
    /// Does the work with `builtin`.
    fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output;
}

/// The in-memory registry: runs `work` with the built-in entry of `protocol`.
pub fn with_builtin<W: WithBuiltin>(protocol: Protocol, work: W) -> W::Output {
    use Known::{CheckThenAct, Correct, VersionMissesTheUser};
    let broken = Known::Broken;
    match protocol {
        Protocol::Naive => work.run(entry(protocol, Naive, CheckThenAct)),
        Protocol::EventSourced => work.run(entry(protocol, EventSourced::GLOBAL, Correct)),
        Protocol::EventSourcedPerUser => work.run(entry(protocol, EventSourced::PER_USER, Correct)),
        Protocol::EventSourcedPerTeam => work.run(entry(
            protocol,
            EventSourced::PER_TEAM,
            VersionMissesTheUser,
        )),
        Protocol::UniqueMembership => work.run(entry(protocol, UniqueMembership, Correct)),
        Protocol::UserDocument => work.run(entry(protocol, UserDocument, Correct)),
        Protocol::LeaseLock => work.run(entry(protocol, LeaseLock::PLAIN, broken(EXPIRES))),
        Protocol::LeaseLockFenced => work.run(entry(protocol, LeaseLock::FENCED, broken(UNFENCED))),
        Protocol::LeaseLockFencedReads => {
            work.run(entry(protocol, LeaseLock::FENCED_READS, Correct))
        }
    }
}

/// The registry: runs `work` with `protocol`'s service on `storage`, or says in one line why
/// that protocol has no service there (a lease in SQL, a transaction in memory).
pub fn with_service<W: WithBuiltin>(
    protocol: CatalogueProtocol,
    storage: &Storage,
    work: W,
) -> Result<W::Output, String> {
    use CatalogueProtocol::{Modelled, SqlOnly as Sql};
    if let Some(why) = unavailable(protocol, storage) {
        return Err(format!("{protocol} {why}"));
    }
    let target = match storage {
        Storage::Memory => return Ok(with_builtin(protocol.model().expect("modelled"), work)),
        Storage::Sql(target) => target.clone(),
    };
    let known = known(protocol, Some(target.dialect()));
    let isolation = |isolation| sql::NaiveTransaction {
        target: target.clone(),
        isolation,
    };
    let streams = |streams| sql::EventSourced {
        target: target.clone(),
        streams,
    };
    Ok(match protocol {
        Modelled(Protocol::Naive) => work.run(builtin(protocol, known, sql::Naive { target })),
        Sql(SqlOnly::NaiveTransaction) => {
            work.run(builtin(protocol, known, isolation(Isolation::Default)))
        }
        Sql(SqlOnly::NaiveRepeatableRead) => work.run(builtin(
            protocol,
            known,
            isolation(Isolation::RepeatableRead),
        )),
        Sql(SqlOnly::NaiveSerializable) => {
            work.run(builtin(protocol, known, isolation(Isolation::Serializable)))
        }
        Sql(SqlOnly::NaiveOneStatement) => {
            work.run(builtin(protocol, known, sql::NaiveOneStatement { target }))
        }
        Sql(SqlOnly::LockUserRow) => {
            work.run(builtin(protocol, known, sql::LockUserRow { target }))
        }
        Modelled(Protocol::EventSourced) => {
            work.run(builtin(protocol, known, streams(Streams::Global)))
        }
        Modelled(Protocol::EventSourcedPerUser) => {
            work.run(builtin(protocol, known, streams(Streams::PerUser)))
        }
        Modelled(Protocol::EventSourcedPerTeam) => {
            work.run(builtin(protocol, known, streams(Streams::PerTeam)))
        }
        Modelled(Protocol::UniqueMembership) => {
            work.run(builtin(protocol, known, sql::UniqueMembership { target }))
        }
        Modelled(Protocol::UserDocument) => {
            work.run(builtin(protocol, known, sql::UserDocument { target }))
        }
        Modelled(
            Protocol::LeaseLock | Protocol::LeaseLockFenced | Protocol::LeaseLockFencedReads,
        ) => unreachable!("{protocol} has no SQL service: `unavailable` says so"),
    })
}

/// Why `protocol` has no service on `storage`, in words that follow its name; `None` when it has
/// one. The transactions exist only as SQL, the lease locks only in memory.
pub fn unavailable(protocol: CatalogueProtocol, storage: &Storage) -> Option<&'static str> {
    let lease = matches!(
        protocol.model(),
        Some(Protocol::LeaseLock | Protocol::LeaseLockFenced | Protocol::LeaseLockFencedReads)
    );
    match storage {
        Storage::Memory if protocol.model().is_none() => {
            Some("exists only as SQL: its transactions and locks are the database's")
        }
        Storage::Sql(_) if lease => {
            Some("exists in memory only: a lease needs a clock, which the SQL services do not have")
        }
        _ => None,
    }
}

/// Why `lease-lock` breaks, in words.
const EXPIRES: &str = "a lock whose lease can expire under its holder";
/// Why `lease-lock-fenced` breaks, in words.
const UNFENCED: &str = "a lease lock whose check is not fenced";

/// Why a transaction at read committed lets two checks through, in words.
const READ_COMMITTED: &str =
    "a transaction at read committed: each check sees no row until the other commits";
/// Why one at repeatable read does, in words.
const WRITE_SKEW: &str =
    "a transaction at repeatable read: write skew, each inserts a row the other's snapshot lacks";

/// The entry of `protocol`.
fn builtin<S>(protocol: CatalogueProtocol, known: Known, service: S) -> Builtin<S> {
    Builtin {
        protocol,
        service,
        known,
    }
}

fn entry<S>(protocol: Protocol, service: S, known: Known) -> Builtin<S> {
    Builtin {
        protocol: protocol.into(),
        service,
        known,
    }
}

/// What is known about `protocol` on `dialect` (`None`: in memory). A protocol that exists only
/// as SQL is known by what its database makes of its transactions: SQLite has one writer at a
/// time, so each of them holds there.
pub fn known(protocol: CatalogueProtocol, dialect: Option<Dialect>) -> Known {
    struct KnownOf;
    impl WithBuiltin for KnownOf {
        type Output = Known;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Known {
            builtin.known
        }
    }
    let postgres = dialect == Some(Dialect::Postgres);
    match protocol {
        CatalogueProtocol::Modelled(protocol) => with_builtin(protocol, KnownOf),
        CatalogueProtocol::SqlOnly(SqlOnly::NaiveTransaction) if postgres => {
            Known::Broken(READ_COMMITTED)
        }
        CatalogueProtocol::SqlOnly(SqlOnly::NaiveRepeatableRead) if postgres => {
            Known::Broken(WRITE_SKEW)
        }
        CatalogueProtocol::SqlOnly(_) => Known::Correct,
    }
}

/// The protocol named `name`, or one line listing the names.
pub fn named(name: &str) -> Result<CatalogueProtocol, String> {
    CATALOGUE
        .into_iter()
        .find(|protocol| protocol.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = CATALOGUE.iter().map(|p| p.name()).collect();
            format!(
                "unknown protocol `{name}`; the protocols are {}",
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service's own name is the one reports print for it.
    #[test]
    fn every_service_is_registered_under_its_own_name() {
        struct Name;
        impl WithBuiltin for Name {
            type Output = (String, String);
            fn run<S: Service>(self, builtin: Builtin<S>) -> (String, String) {
                let name = JoinService::<Std>::name(&builtin.service);
                (builtin.protocol.name().to_string(), name)
            }
        }
        for protocol in ALL {
            let (registered, service) = with_builtin(protocol, Name);
            assert_eq!(registered, service);
        }
        let sqlite = Storage::Sql(SqlTarget::sqlite().unwrap());
        for protocol in CATALOGUE {
            if let Ok((registered, service)) = with_service(protocol, &sqlite, Name) {
                assert_eq!(registered, service);
            }
        }
    }

    /// Every protocol runs in memory or as SQL, the lease locks in memory only and the
    /// transactions as SQL only.
    #[test]
    fn every_protocol_has_a_service_somewhere_and_says_why_where_not() {
        struct Nothing;
        impl WithBuiltin for Nothing {
            type Output = ();
            fn run<S: Service>(self, _: Builtin<S>) {}
        }
        let sqlite = Storage::Sql(SqlTarget::sqlite().unwrap());
        let missing = |storage: &Storage| -> Vec<String> {
            CATALOGUE
                .into_iter()
                .filter_map(|protocol| with_service(protocol, storage, Nothing).err())
                .collect()
        };
        let sql_only = missing(&Storage::Memory);
        assert_eq!(sql_only.len(), 5);
        assert_eq!(
            sql_only[0],
            "naive-transaction exists only as SQL: its transactions and locks are the database's"
        );
        let memory_only = missing(&sqlite);
        assert_eq!(memory_only.len(), 3);
        assert_eq!(
            memory_only[0],
            "lease-lock exists in memory only: a lease needs a clock, which the SQL services do \
             not have"
        );
    }

    /// The transactions below serializable break on PostgreSQL only, where the article's race
    /// does; every other protocol without a model holds everywhere.
    #[test]
    fn the_sql_only_protocols_break_on_postgres_below_serializable() {
        let article = Sizes::new(2, 1, 2, 1).unwrap();
        let one_team = Sizes::new(2, 1, 1, 1).unwrap();
        let broken: Vec<&str> = CATALOGUE
            .into_iter()
            .filter(|p| p.model().is_none() && p.breaks_at(Some(Dialect::Postgres), article))
            .map(CatalogueProtocol::name)
            .collect();
        assert_eq!(broken, ["naive-transaction", "naive-repeatable-read"]);
        for protocol in CATALOGUE.into_iter().filter(|p| p.model().is_none()) {
            assert!(
                !protocol.breaks_at(Some(Dialect::Sqlite), article),
                "{protocol}"
            );
            assert!(
                !protocol.breaks_at(Some(Dialect::Postgres), one_team),
                "{protocol}"
            );
        }
    }

    /// A protocol is known to be broken, and says why, exactly when its model breaks at some
    /// size: the article's race is the smallest.
    #[test]
    fn a_protocol_says_why_it_breaks_exactly_when_its_model_breaks() {
        let article = Sizes::new(2, 1, 2, 1).unwrap();
        for protocol in ALL {
            let broken = known(protocol.into(), None).why_broken().is_some();
            assert_eq!(broken, protocol.spec().breaks_at(article), "{protocol}");
        }
        assert_eq!(
            known(Protocol::EventSourcedPerTeam.into(), None).why_broken(),
            Some("event sourcing whose expected version does not cover the user")
        );
    }

    /// The lease locks break where their models do (two servers, two teams), and fencing the
    /// check too makes the lock correct.
    #[test]
    fn the_lease_locks_break_where_their_models_do() {
        let sizes = |s, t| Sizes::new(s, 1, t, 1).unwrap();
        for protocol in [Protocol::LeaseLock, Protocol::LeaseLockFenced] {
            let breaks = |s, t| protocol.spec().breaks_at(sizes(s, t));
            assert_eq!(
                (breaks(2, 2), breaks(2, 1), breaks(1, 2)),
                (true, false, false)
            );
        }
        assert_eq!(
            known(Protocol::LeaseLockFenced.into(), None).why_broken(),
            Some("a lease lock whose check is not fenced")
        );
        let fenced_reads = Protocol::LeaseLockFencedReads;
        assert!(!fenced_reads.spec().breaks_at(sizes(3, 3)));
        assert_eq!(known(fenced_reads.into(), None).why_broken(), None);
    }

    #[test]
    fn names_look_up_and_unknown_names_list_the_protocols() {
        assert_eq!(named("event-sourced"), Ok(Protocol::EventSourced.into()));
        assert_eq!(
            named("mongo").unwrap_err(),
            "unknown protocol `mongo`; the protocols are naive, naive-transaction, \
             naive-repeatable-read, naive-serializable, naive-one-statement, lock-user-row, \
             event-sourced, event-sourced-per-user, event-sourced-per-team, unique-membership, \
             user-document, lease-lock, lease-lock-fenced, lease-lock-fenced-reads"
        );
    }
}
