//! Every built-in service, alone on one server, follows the sequential specification of joins and
//! leaves, and names itself as reports print it.

use joincheck::check::{run_once, Scenario};
use joincheck::runtime::Std;
use joincheck::service::UserDocument;
use joincheck::service::{EventSourced, JoinService, LeaseLock, Naive, UniqueMembership};
use joincheck::store::Recording;
use joincheck_models::domain::{JoinError, Request, TeamId, UserId};

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// Join sue to team-A, then to team-B; leave team-B, team-A, team-A again; join team-B.
fn requests() -> Vec<Request> {
    let join = |team| Request::Join { user: SUE, team };
    let leave = |team| Request::Leave { user: SUE, team };
    vec![join(A), join(B), leave(B), leave(A), leave(A), join(B)]
}

/// The answers the specification gives, with the refusal of a join of a user already on a team.
fn expected(already: JoinError) -> Vec<Result<(), JoinError>> {
    vec![
        Ok(()),
        Err(already),
        Err(JoinError::NotOnTeam),
        Ok(()),
        Err(JoinError::NotOnTeam),
        Ok(()),
    ]
}

fn follows_the_specification<S: JoinService<Std>>(service: S, name: &str, already: JoinError) {
    assert_eq!(service.name(), name);
    let scenario = Scenario::new(1, 2, vec![requests()], Vec::new()).unwrap();
    let run = run_once::<Std, _>(&service, &scenario, Recording::On);
    assert_eq!(run.answers, [expected(already)], "{name}");
    assert_eq!(run.membership, [(B, SUE)], "{name}");
    let last = run.history.last().expect("a recorded run");
    assert_eq!(last.membership_after, [(B, SUE)], "{name}");
}

#[test]
fn every_builtin_service_alone_follows_the_sequential_specification() {
    let on_a = JoinError::AlreadyOnTeam { team: A };
    follows_the_specification(Naive, "naive", on_a);
    follows_the_specification(EventSourced::GLOBAL, "event-sourced", on_a);
    let per_user = "event-sourced-per-user";
    follows_the_specification(EventSourced::PER_USER, per_user, on_a);
    let per_team = "event-sourced-per-team";
    follows_the_specification(EventSourced::PER_TEAM, per_team, on_a);
    follows_the_specification(LeaseLock::PLAIN, "lease-lock", on_a);
    follows_the_specification(LeaseLock::FENCED, "lease-lock-fenced", on_a);
    let fenced_reads = "lease-lock-fenced-reads";
    follows_the_specification(LeaseLock::FENCED_READS, fenced_reads, on_a);
    follows_the_specification(UniqueMembership, "unique-membership", on_a);
    follows_the_specification(UserDocument, "user-document", JoinError::AlreadyOnSomeTeam);
}
