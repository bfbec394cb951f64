//! The protocols joincheck knows, by name.

use std::fmt;

/// A join protocol: how a server turns "add user to team" into database operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// Check-then-act: read "is the user on a team?", then push the user into the team.
    /// Broken once two servers run it: both checks can pass before either push.
    Naive,
    /// Event sourcing over one global stream: read the log's version, append `Joined` expecting
    /// that version, reread and retry on conflict. Any concurrent append conflicts.
    EventSourced,
    /// Event sourcing with one stream per user: only appends about the same user conflict.
    EventSourcedPerUser,
}

impl Protocol {
    /// Every protocol, in the order the CLI lists them.
    pub const ALL: [Protocol; 3] = [
        Protocol::Naive,
        Protocol::EventSourced,
        Protocol::EventSourcedPerUser,
    ];

    /// The protocol's name as the CLI takes it and traces print it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Naive => "naive",
            Protocol::EventSourced => "event-sourced",
            Protocol::EventSourcedPerUser => "event-sourced-per-user",
        }
    }

    /// The protocol named `name` (as [`Protocol::name`] prints it), if any.
    pub fn parse(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for protocol in Protocol::ALL {
            assert_eq!(Protocol::parse(protocol.name()), Some(protocol));
            assert_eq!(protocol.to_string(), protocol.name());
        }
        assert_eq!(
            Protocol::parse("event-sourced"),
            Some(Protocol::EventSourced)
        );
        assert_eq!(Protocol::parse("Naive"), None);
    }
}
