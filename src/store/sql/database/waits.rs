//! Statements the database keeps waiting: a PostgreSQL statement blocked on another server's
//! locks is answered when they are given back, or when PostgreSQL breaks a deadlock; an SQLite
//! writer held back goes on once a transaction has ended. No engine ever blocks in the database.

use super::{Inner, Session, Wait};
use crate::store::sql::error::SqlError;
use crate::store::sql::postgres::{await_deadlock_break, PgRan, PgSession};
use crate::store::sql::sqlite::Executed;
use crate::store::sql::target::Fresh;
use joincheck_models::domain::ServerId;

impl Inner {
    /// Each server's PostgreSQL backend.
    pub(super) fn pids(&self) -> Vec<(i32, ServerId)> {
        self.servers
            .iter()
            .filter_map(|(server, connected)| match &connected.session {
                Some(Session::Postgres(session)) => Some((session.pid, *server)),
                _ => None,
            })
            .collect()
    }

    /// Answers the statements PostgreSQL kept waiting whose locks are free now, recording
    /// each; an answered statement may end a transaction and free further locks.
    pub(super) fn settle_blocked(&mut self) {
        while std::mem::take(&mut self.released) {
            let pids = self.pids();
            let Fresh::Postgres(place) = &mut self.fresh else {
                return;
            };
            let mut answered = Vec::new();
            for (server, connected) in &mut self.servers {
                let (Wait::Blocked { blockers, .. }, Some(Session::Postgres(session))) =
                    (&mut connected.wait, connected.session.as_mut())
                else {
                    continue;
                };
                match session.settle(place) {
                    PgRan::Answered(answer) => answered.push((*server, answer)),
                    PgRan::Blocked(now) => *blockers = servers_of(&pids, &now),
                }
            }
            for (server, answer) in answered {
                self.answer_blocked(server, answer);
            }
        }
    }

    /// Records the answer to `server`'s statement that waited, and hands it to the server.
    fn answer_blocked(&mut self, server: ServerId, answer: Result<Executed, SqlError>) {
        let wait = std::mem::replace(&mut self.connected(server).wait, Wait::Ready);
        let Wait::Blocked {
            statement,
            written,
            blockers,
        } = wait
        else {
            unreachable!("only a blocked statement is answered later")
        };
        let names: Vec<String> = blockers.iter().map(ToString::to_string).collect();
        let waited = format!("waited for {}'s lock", names.join(" and "));
        self.took_effect(server, &statement, &written, &answer, Some(waited));
        self.connected(server).wait = Wait::Answered(answer);
        self.wake = true;
    }

    /// When every server still running waits for a lock, only the database can go on: wait
    /// for it to break the cycle (PostgreSQL's deadlock detector); SQLite never makes one.
    pub(super) fn break_a_deadlock_if_everyone_waits(&mut self) {
        let everyone_waits = self
            .servers
            .values()
            .filter(|connected| connected.live())
            .all(|connected| matches!(connected.wait, Wait::Blocked { .. }));
        if !everyone_waits {
            return;
        }
        let mut waiting: Vec<(ServerId, &mut PgSession)> = self
            .servers
            .iter_mut()
            .filter(|(_, connected)| connected.live())
            .filter_map(|(server, connected)| match connected.session.as_mut() {
                Some(Session::Postgres(session)) => Some((*server, session)),
                _ => None,
            })
            .collect();
        let servers: Vec<ServerId> = waiting.iter().map(|(server, _)| *server).collect();
        let mut sessions: Vec<&mut PgSession> = waiting.iter_mut().map(|(_, s)| &mut **s).collect();
        match await_deadlock_break(&mut sessions) {
            Some((index, answer)) => {
                self.answer_blocked(servers[index], answer);
                self.settle_blocked();
            }
            None => panic!(
                "every server waits for a lock another server holds, and PostgreSQL did not \
                 break the wait"
            ),
        }
    }

    /// SQLite held a server back: if every server still running is held back and no
    /// transaction has ended since, none can go on.
    pub(super) fn stuck_unless_someone_can_go(&self) {
        let ended = self.ended;
        let stuck = self
            .servers
            .values()
            .filter(|connected| connected.live())
            .all(|connected| matches!(connected.wait, Wait::HeldBack { ended: e } if e == ended));
        assert!(
            !stuck,
            "every server waits for a lock another server holds: none can go on"
        );
    }
}

/// The servers whose backends are `pids`.
pub(super) fn servers_of(known: &[(i32, ServerId)], pids: &[i32]) -> Vec<ServerId> {
    let mut servers: Vec<ServerId> = known
        .iter()
        .filter(|(pid, _)| pids.contains(pid))
        .map(|(_, server)| *server)
        .collect();
    servers.sort();
    servers
}
