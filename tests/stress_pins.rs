//! The stress engine's report, pinned with services whose every run does the same thing on real
//! threads whatever the OS does: one server alone, so its figures are exact.

use joincheck::check::stress::{self, StressOptions};
use joincheck::check::{Limits, Scenario};
use joincheck::runtime::Runtime;
use joincheck::service::{JoinService, Server};
use joincheck::store::Recording;
use joincheck::store::{EventStore, EventStoreConnection, TeamsCollection, TeamsConnection};
use joincheck_models::domain::{Event, JoinError, Request, ServerId, TeamId, UserId};
use joincheck_models::operation::StreamKey;
use joincheck_models::verdict::{Replay, Verdict};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const SUE: UserId = UserId(0);
const JOHN: UserId = UserId(1);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// Appends without reading first, at a version it guesses wrong, then at the version the
/// conflict names: one refused append per request, on one server.
#[derive(Clone, Copy)]
struct GuessesTheVersion;

struct Guesser<R: Runtime>(EventStoreConnection<R>);

impl<R: Runtime> Guesser<R> {
    fn append(&self, event: Event) -> Result<(), JoinError> {
        let conflict = self
            .0
            .append(StreamKey::Global, u64::MAX, vec![event])
            .expect_err("no log is that long");
        self.0
            .append(StreamKey::Global, conflict.actual, vec![event])
            .map(|_| ())
            .map_err(JoinError::from)
    }
}

impl<R: Runtime> Server for Guesser<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.append(Event::Joined { user, team })
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.append(Event::Left { user, team })
    }
}

impl<R: Runtime> JoinService<R> for GuessesTheVersion {
    type Database = EventStore<R>;
    type Server = Guesser<R>;

    fn name(&self) -> String {
        "guesses-the-version".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(EventStore::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<EventStore<R>>, id: ServerId) -> Guesser<R> {
        Guesser(database.connect(id))
    }
}

/// Pushes the user onto the team asked for and onto team-B: broken on one server, every run.
#[derive(Clone, Copy)]
struct AlsoTeamB;

struct AlsoTeamBServer<R: Runtime>(TeamsConnection<R>);

impl<R: Runtime> Server for AlsoTeamBServer<R> {
    fn join(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.0.push_member(team, user);
        self.0.push_member(B, user);
        Ok(())
    }

    fn leave(&mut self, user: UserId, team: TeamId) -> Result<(), JoinError> {
        self.0.pull_member(team, user);
        Ok(())
    }
}

impl<R: Runtime> JoinService<R> for AlsoTeamB {
    type Database = TeamsCollection<R>;
    type Server = AlsoTeamBServer<R>;

    fn name(&self) -> String {
        "also-team-b".to_string()
    }

    fn open_database(
        &self,
        initial: &[(TeamId, UserId)],
        recording: Recording,
    ) -> Arc<Self::Database> {
        Arc::new(TeamsCollection::with_members(initial, recording))
    }

    fn start_server(&self, database: &Arc<TeamsCollection<R>>, id: ServerId) -> Self::Server {
        AlsoTeamBServer(database.connect(id))
    }
}

/// One server: join sue → team-A, join john → team-A.
fn one_server_two_joins() -> Scenario {
    let joins = vec![
        Request::Join { user: SUE, team: A },
        Request::Join {
            user: JOHN,
            team: A,
        },
    ];
    Scenario::new(2, 2, vec![joins], Vec::new()).unwrap()
}

#[test]
fn every_refused_append_of_every_run_is_counted() {
    let scenario = one_server_two_joins();
    let report = stress::run(
        &GuessesTheVersion,
        &scenario,
        &StressOptions::default().runs(7),
    );
    assert_eq!((report.runs, report.conflicts), (7, 14));
    assert_eq!((report.violations, report.stopped.as_deref()), (0, None));
    assert_eq!(report.protocol, "guesses-the-version");
    assert!(report.seconds > 0.0, "{report:?}");
    let verdict = report.verdict();
    let Verdict::Holds { scope, stats, .. } = &verdict else {
        panic!("expected holds, got {verdict:?}");
    };
    assert_eq!(
        scope,
        "no violation in 7 runs on real threads of server-1: join sue → team-A, join john → \
         team-A (evidence, not proof)"
    );
    assert_eq!(stats.iterations, Some(7));
    assert_eq!(stats.seconds, report.seconds);
}

#[test]
fn every_broken_run_is_counted_and_the_first_is_reported() {
    let scenario = one_server_two_joins();
    let report = stress::run(&AlsoTeamB, &scenario, &StressOptions::default().runs(5));
    assert_eq!(
        (report.runs, report.violations, report.conflicts),
        (5, 5, 0)
    );
    let found = report.first_violation.as_ref().expect("every run breaks");
    assert_eq!(found.replay, Replay::StressRun { run: 0 });
    assert_eq!(found.steps.len(), 2);
    assert_eq!(found.violation.to_string(), "sue ∈ {team-A, team-B}");
    let verdict = report.verdict();
    assert_eq!(verdict.counterexample(), Some(found));
    assert_eq!(verdict.stats().iterations, Some(5));
}

#[test]
fn no_run_made_is_inconclusive_and_says_why() {
    let scenario = one_server_two_joins();
    let none = stress::run(&AlsoTeamB, &scenario, &StressOptions::default().runs(0));
    assert_eq!((none.runs, none.violations), (0, 0));
    let Verdict::Inconclusive { reason, stats, .. } = none.verdict() else {
        panic!("no run proves nothing");
    };
    assert_eq!(reason, "no run was made; nothing is proved");
    assert_eq!(stats.iterations, Some(0));
    let stop = Limits::default().stop(Arc::new(AtomicBool::new(true)));
    let options = StressOptions::default().runs(5).limits(stop);
    let stopped = stress::run(&GuessesTheVersion, &scenario, &options);
    assert_eq!(
        stopped.stopped.as_deref(),
        Some("stopped by the stop request after 0 of 5 runs")
    );
    let Verdict::Inconclusive { reason, .. } = stopped.verdict() else {
        panic!("a stopped run proves nothing");
    };
    assert_eq!(
        reason,
        "stopped by the stop request after 0 of 5 runs; nothing is proved"
    );
}
