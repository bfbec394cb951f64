//! The built-in protocols: for each, the models' [`Protocol`], the real service that implements
//! it, and what checking it must conclude.
//!
//! Every command finds its protocols here. [`with_builtin`] matches every [`Protocol`], so a
//! protocol the models know but the registry does not is a compile error, not a protocol some
//! command silently leaves out. Adding one is one line there.

use crate::runtime::{Dpor, Loom, Shuttle, Std};
use crate::service::{EventSourced, JoinService, LeaseLock, Naive, UniqueMembership, UserDocument};
use joincheck_models::Protocol;

/// Every built-in protocol, in the order reports list them.
pub const ALL: [Protocol; 9] = Protocol::ALL;

/// The service behind a built-in protocol, for [`with_builtin`]: the engines take it by value,
/// on any runtime, and copy it into every checked run.
pub trait Service:
    JoinService<Loom>
    + JoinService<Shuttle>
    + JoinService<Std>
    + JoinService<Dpor>
    + Copy
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
        + Copy
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

/// One built-in protocol: its model, its real service, what is known about it.
#[derive(Clone, Copy, Debug)]
pub struct Builtin<S> {
    /// The protocol's model (and name).
    pub protocol: Protocol,
    /// The real service implementing it.
    pub service: S,
    /// What checking it must conclude.
    pub known: Known,
}

/// Work to do with a built-in protocol, whatever the type of its service: the engines are generic
/// over the service, so [`with_builtin`] hands each entry to `run` with its own type.
pub trait WithBuiltin {
    /// What the work returns.
    type Output;
    /// Does the work with `builtin`.
    fn run<S: Service>(self, builtin: Builtin<S>) -> Self::Output;
}

/// The registry: runs `work` with the built-in entry of `protocol`.
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

/// Why `lease-lock` breaks, in words.
const EXPIRES: &str = "a lock whose lease can expire under its holder";
/// Why `lease-lock-fenced` breaks, in words.
const UNFENCED: &str = "a lease lock whose check is not fenced";

fn entry<S>(protocol: Protocol, service: S, known: Known) -> Builtin<S> {
    Builtin {
        protocol,
        service,
        known,
    }
}

/// What is known about `protocol`.
pub fn known(protocol: Protocol) -> Known {
    struct KnownOf;
    impl WithBuiltin for KnownOf {
        type Output = Known;
        fn run<S: Service>(self, builtin: Builtin<S>) -> Known {
            builtin.known
        }
    }
    with_builtin(protocol, KnownOf)
}

/// The protocol named `name`, or one line listing the names.
pub fn named(name: &str) -> Result<Protocol, String> {
    ALL.into_iter()
        .find(|protocol| protocol.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|p| p.name()).collect();
            format!(
                "unknown protocol `{name}`; the protocols are {}",
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use joincheck_models::Sizes;

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
    }

    /// A protocol is known to be broken, and says why, exactly when its model breaks at some
    /// size: the article's race is the smallest.
    #[test]
    fn a_protocol_says_why_it_breaks_exactly_when_its_model_breaks() {
        let article = Sizes::new(2, 1, 2, 1).unwrap();
        for protocol in ALL {
            let broken = known(protocol).why_broken().is_some();
            assert_eq!(broken, protocol.spec().breaks_at(article), "{protocol}");
        }
        assert_eq!(
            known(Protocol::EventSourcedPerTeam).why_broken(),
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
            known(Protocol::LeaseLockFenced).why_broken(),
            Some("a lease lock whose check is not fenced")
        );
        let fenced_reads = Protocol::LeaseLockFencedReads;
        assert!(!fenced_reads.spec().breaks_at(sizes(3, 3)));
        assert_eq!(known(fenced_reads).why_broken(), None);
    }

    #[test]
    fn names_look_up_and_unknown_names_list_the_protocols() {
        assert_eq!(named("event-sourced"), Ok(Protocol::EventSourced));
        assert_eq!(
            named("mongo").unwrap_err(),
            "unknown protocol `mongo`; the protocols are naive, event-sourced, \
             event-sourced-per-user, event-sourced-per-team, unique-membership, user-document, \
             lease-lock, lease-lock-fenced, lease-lock-fenced-reads"
        );
    }
}
