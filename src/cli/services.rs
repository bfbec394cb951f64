//! The built-in services by protocol: one generic dispatch for every engine.

use joincheck::runtime::{Loom, Shuttle, Std};
use joincheck::service::{EventSourced, JoinService, Naive};
use joincheck_models::Protocol;

/// A built-in service: runs on every runtime, and is cheap to copy into a checked run.
pub trait Builtin:
    JoinService<Loom> + JoinService<Shuttle> + JoinService<Std> + Clone + Copy + Send + Sync + 'static
{
}

impl<S> Builtin for S where
    S: JoinService<Loom>
        + JoinService<Shuttle>
        + JoinService<Std>
        + Clone
        + Copy
        + Send
        + Sync
        + 'static
{
}

/// Work to do with whichever service implements a protocol.
pub trait WithService {
    /// What the work returns.
    type Output;
    /// Does the work with `service`.
    fn run<S: Builtin>(self, service: S) -> Self::Output;
}

/// Runs `work` with the built-in service of `protocol`.
pub fn with_service<W: WithService>(protocol: Protocol, work: W) -> W::Output {
    match protocol {
        Protocol::Naive => work.run(Naive),
        Protocol::EventSourced => work.run(EventSourced::GLOBAL),
        Protocol::EventSourcedPerUser => work.run(EventSourced::PER_USER),
    }
}

/// The protocol named `name`, or one line listing the names.
pub fn parse_protocol(name: &str) -> Result<Protocol, String> {
    Protocol::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
        format!(
            "unknown protocol `{name}`; the protocols are {}",
            names.join(", ")
        )
    })
}
