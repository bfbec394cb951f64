//! The Team Joiner domain, defined once and shared by the models and the real implementations.
//!
//! Indices are zero-based and small (`u8`): a user, team or server is a position in a bounded
//! configuration. Display names are what every trace prints: users `sue`, `john`, `mary`, …;
//! teams `team-A`, `team-B`, …; servers `server-1`, `server-2`, … (one-based, as people count).

use std::fmt;

/// Display names of the first users; later ones print as `user-N`.
const USER_NAMES: [&str; 8] = ["sue", "john", "mary", "omar", "lena", "raj", "ines", "kofi"];

/// A user who can join a team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub u8);

/// A team that users join.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TeamId(pub u8);

/// One of the horizontally scaled servers handling requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerId(pub u8);

impl UserId {
    /// The user's display name, as traces print it.
    pub fn name(self) -> String {
        match USER_NAMES.get(usize::from(self.0)) {
            Some(name) => (*name).to_string(),
            None => format!("user-{}", u16::from(self.0) + 1),
        }
    }

    /// Parses a display name (`sue`) or `user-N` (one-based) back into an id.
    pub fn parse(text: &str) -> Option<UserId> {
        if let Some(index) = USER_NAMES.iter().position(|name| *name == text) {
            return Some(UserId(index as u8));
        }
        let number: u16 = text.strip_prefix("user-")?.parse().ok()?;
        u8::try_from(number.checked_sub(1)?).ok().map(UserId)
    }
}

impl TeamId {
    /// Parses `team-A`, `A` (letters past `Z` are `team-27`, …) back into an id.
    pub fn parse(text: &str) -> Option<TeamId> {
        let text = text.strip_prefix("team-").unwrap_or(text);
        match text.as_bytes() {
            [letter @ b'A'..=b'Z'] => Some(TeamId(letter - b'A')),
            _ => {
                let number: u16 = text.parse().ok()?;
                u8::try_from(number.checked_sub(1)?).ok().map(TeamId)
            }
        }
    }
}

impl ServerId {
    /// Parses `server-N` or `N` (one-based) back into an id.
    pub fn parse(text: &str) -> Option<ServerId> {
        let text = text.strip_prefix("server-").unwrap_or(text);
        let number: u16 = text.parse().ok()?;
        u8::try_from(number.checked_sub(1)?).ok().map(ServerId)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.name())
    }
}

impl fmt::Display for TeamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 26 {
            f.pad(&format!("team-{}", char::from(b'A' + self.0)))
        } else {
            f.pad(&format!("team-{}", u16::from(self.0) + 1))
        }
    }
}

impl fmt::Display for ServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("server-{}", u16::from(self.0) + 1))
    }
}

/// What a user asks a server to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Request {
    /// Add `user` to `team`, unless the user is already on a team.
    Join {
        /// The user asking to join.
        user: UserId,
        /// The team asked for.
        team: TeamId,
    },
    /// Remove `user` from `team`.
    Leave {
        /// The user asking to leave.
        user: UserId,
        /// The team to leave.
        team: TeamId,
    },
}

impl Request {
    /// The user the request is about.
    pub fn user(self) -> UserId {
        match self {
            Request::Join { user, .. } | Request::Leave { user, .. } => user,
        }
    }

    /// The team the request is about.
    pub fn team(self) -> TeamId {
        match self {
            Request::Join { team, .. } | Request::Leave { team, .. } => team,
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Join { user, team } => write!(f, "join {user} → {team}"),
            Request::Leave { user, team } => write!(f, "leave {user} ← {team}"),
        }
    }
}

/// One fact in the event log. Membership is the fold of these events in log order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// `user` joined `team`.
    Joined {
        /// Who joined.
        user: UserId,
        /// The team joined.
        team: TeamId,
    },
    /// `user` left `team`.
    Left {
        /// Who left.
        user: UserId,
        /// The team left.
        team: TeamId,
    },
}

impl Event {
    /// The user the event is about.
    pub fn user(self) -> UserId {
        match self {
            Event::Joined { user, .. } | Event::Left { user, .. } => user,
        }
    }

    /// The team the event is about.
    pub fn team(self) -> TeamId {
        match self {
            Event::Joined { team, .. } | Event::Left { team, .. } => team,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Joined { user, team } => write!(f, "Joined({user}, {team})"),
            Event::Left { user, team } => write!(f, "Left({user}, {team})"),
        }
    }
}

/// Why a request did not take effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinError {
    /// The check found the user on a team already.
    AlreadyOnTeam {
        /// The team the check found the user on.
        team: TeamId,
    },
    /// A leave for a user who is not on that team.
    NotOnTeam,
    /// An append expected the stream at `expected`, but it had moved on to `actual`.
    Conflict {
        /// The version the append expected: the one read.
        expected: u64,
        /// The version the stream was at.
        actual: u64,
    },
    /// A conditional update changed nothing: the user is on a team already, and the answer
    /// ("0 rows") does not say which.
    AlreadyOnSomeTeam,
    /// A fenced operation was rejected: the store had seen a newer token for the user's lock
    /// than this server's lease came with.
    StaleToken {
        /// The token the operation carried.
        token: u64,
        /// The newest token the store had seen.
        newest: u64,
    },
    /// The database refused a statement, and the service gave up on the request.
    Database(DatabaseError),
}

/// Why an SQL database refused a statement, by the database's own error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatabaseError {
    /// A unique index already holds the key (PostgreSQL `23505`, SQLite `SQLITE_CONSTRAINT_UNIQUE`
    /// or `SQLITE_CONSTRAINT_PRIMARYKEY`).
    DuplicateKey,
    /// Serializable isolation could not order the transaction with the others (PostgreSQL
    /// `40001`): retry the whole transaction.
    SerializationFailure,
    /// The database broke a cycle of transactions waiting for each other's locks (PostgreSQL
    /// `40P01`): retry the whole transaction.
    Deadlock,
    /// Another connection holds the lock and the database would not wait for it (SQLite
    /// `SQLITE_BUSY`): retry the whole transaction.
    Busy,
    /// The connection was cut before the answer came (PostgreSQL `57P01`, a closed socket):
    /// whether the statement took effect is unknown.
    ConnectionLost,
    /// Any other error.
    Other,
}

impl DatabaseError {
    /// Whether the whole transaction may succeed if tried again.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            DatabaseError::SerializationFailure | DatabaseError::Deadlock | DatabaseError::Busy
        )
    }
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatabaseError::DuplicateKey => "duplicate key",
            DatabaseError::SerializationFailure => "serialization failure",
            DatabaseError::Deadlock => "deadlock detected",
            DatabaseError::Busy => "database is busy",
            DatabaseError::ConnectionLost => "connection lost",
            DatabaseError::Other => "database error",
        })
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::AlreadyOnTeam { team } => write!(f, "already on a team ({team})"),
            JoinError::NotOnTeam => write!(f, "not on that team"),
            JoinError::Conflict { expected, actual } => {
                write!(f, "conflict: expected v{expected}, stream is at v{actual}")
            }
            JoinError::AlreadyOnSomeTeam => write!(f, "already on a team"),
            JoinError::StaleToken { token, newest } => {
                write!(f, "rejected: token {token} is older than token {newest}")
            }
            JoinError::Database(error) => write!(f, "the database refused: {error}"),
        }
    }
}

impl std::error::Error for JoinError {}

/// A broken invariant: `user` is on more than one team.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OnSeveralTeams {
    /// The user on several teams.
    pub user: UserId,
    /// Every team that lists the user, in team order.
    pub teams: Vec<TeamId>,
}

impl fmt::Display for OnSeveralTeams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let teams: Vec<String> = self.teams.iter().map(ToString::to_string).collect();
        write!(f, "{} ∈ {{{}}}", self.user, teams.join(", "))
    }
}

/// Checks "a user is on at most one team" over any membership snapshot: `(team, members)` pairs.
///
/// Returns the first user (in user order) listed by more than one team, with all of their teams.
pub fn user_on_several_teams<'a, I, M>(membership: I) -> Option<OnSeveralTeams>
where
    I: IntoIterator<Item = (TeamId, M)>,
    M: IntoIterator<Item = &'a UserId>,
{
    let mut teams_of: std::collections::BTreeMap<UserId, Vec<TeamId>> = Default::default();
    for (team, members) in membership {
        for user in members {
            let teams = teams_of.entry(*user).or_default();
            if !teams.contains(&team) {
                teams.push(team);
            }
        }
    }
    teams_of
        .into_iter()
        .find(|(_, teams)| teams.len() > 1)
        .map(|(user, mut teams)| {
            teams.sort();
            OnSeveralTeams { user, teams }
        })
}

/// Membership after folding events in log order: `Joined` adds, `Left` removes.
pub fn fold_membership<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<(TeamId, UserId)> {
    let mut pairs: Vec<(TeamId, UserId)> = Vec::new();
    for event in events {
        match *event {
            Event::Joined { user, team } => {
                if !pairs.contains(&(team, user)) {
                    pairs.push((team, user));
                }
            }
            Event::Left { user, team } => pairs.retain(|pair| *pair != (team, user)),
        }
    }
    pairs.sort();
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_well_and_parse_back() {
        assert_eq!(UserId(0).to_string(), "sue");
        assert_eq!(UserId(1).to_string(), "john");
        assert_eq!(UserId(8).to_string(), "user-9");
        assert_eq!(TeamId(0).to_string(), "team-A");
        assert_eq!(ServerId(0).to_string(), "server-1");
        for i in 0..40 {
            assert_eq!(UserId::parse(&UserId(i).to_string()), Some(UserId(i)));
            assert_eq!(TeamId::parse(&TeamId(i).to_string()), Some(TeamId(i)));
            assert_eq!(ServerId::parse(&ServerId(i).to_string()), Some(ServerId(i)));
        }
        assert_eq!(UserId::parse("nobody"), None);
        assert_eq!(ServerId::parse("server-0"), None);
        assert_eq!(TeamId::parse("team-0"), None);
    }

    #[test]
    fn invariant_names_the_user_and_all_their_teams() {
        let (sue, john) = (UserId(0), UserId(1));
        let (a, b, c) = (TeamId(0), TeamId(1), TeamId(2));
        let fine = [(a, vec![sue]), (b, vec![john]), (c, vec![])];
        assert_eq!(
            user_on_several_teams(fine.iter().map(|(t, m)| (*t, m))),
            None
        );
        let broken = [(c, vec![john, sue]), (a, vec![sue]), (b, vec![john])];
        let found = user_on_several_teams(broken.iter().map(|(t, m)| (*t, m))).unwrap();
        assert_eq!(
            found,
            OnSeveralTeams {
                user: sue,
                teams: vec![a, c]
            }
        );
        assert_eq!(found.to_string(), "sue ∈ {team-A, team-C}");
    }

    #[test]
    fn fold_applies_events_in_order() {
        let (sue, a, b) = (UserId(0), TeamId(0), TeamId(1));
        let log = [
            Event::Joined { user: sue, team: a },
            Event::Left { user: sue, team: a },
            Event::Joined { user: sue, team: b },
        ];
        assert_eq!(fold_membership(&log), vec![(b, sue)]);
        assert_eq!(fold_membership(&log[..1]), vec![(a, sue)]);
    }

    /// A refused request says why, in the words the CLI and the traces print.
    #[test]
    fn a_refusal_says_why() {
        let refusals = [
            JoinError::AlreadyOnTeam { team: TeamId(1) },
            JoinError::NotOnTeam,
            JoinError::Conflict {
                expected: 1,
                actual: 2,
            },
            JoinError::AlreadyOnSomeTeam,
            JoinError::StaleToken {
                token: 2,
                newest: 3,
            },
        ];
        let words: Vec<String> = refusals.iter().map(ToString::to_string).collect();
        assert_eq!(
            words,
            [
                "already on a team (team-B)",
                "not on that team",
                "conflict: expected v1, stream is at v2",
                "already on a team",
                "rejected: token 2 is older than token 3",
            ]
        );
    }
}
