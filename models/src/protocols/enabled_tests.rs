//! An action is enabled exactly when the model would take it: replay takes whatever action a path
//! names (an edited replay file, a path of another protocol or other sizes), so each guard must
//! refuse what the checker never explores, and say what was enabled instead.
use crate::action::Action;
use crate::checker::replay;
use crate::domain::{ServerId, TeamId, UserId};
use crate::model::ReplayError;
use crate::reference::{model, reachable_in, sizes};
use crate::Protocol;

/// Every action of every protocol by the first `servers` servers, about the first `users` users
/// and `teams` teams.
fn every_action(servers: u8, users: u8, teams: u8) -> Vec<Action> {
    let mut all = Vec::new();
    for server in (0..servers).map(ServerId) {
        all.extend([
            Action::Act { server },
            Action::Append { server },
            Action::Reread { server },
            Action::CheckLocked { server },
            Action::Release { server },
            Action::Expire { server },
            Action::PullLocked { server },
        ]);
        for user in (0..users).map(UserId) {
            for team in (0..teams).map(TeamId) {
                all.extend([
                    Action::Check { server, user, team },
                    Action::Read { server, user, team },
                    Action::Insert { server, user, team },
                    Action::Update { server, user, team },
                    Action::Acquire { server, user, team },
                    Action::Pull { server, user, team },
                    Action::Delete { server, user, team },
                    Action::UpdateLeave { server, user, team },
                    Action::ReadLeave { server, user, team },
                    Action::AcquireLeave { server, user, team },
                ]);
            }
        }
    }
    all
}

/// In every reachable state of every protocol, joins only and with leaves, any action about one
/// server, user or team more than the sizes have is tried: those the model takes are exactly its
/// successors, `step` agrees with `next_state`, and a state with every request done lists nothing.
#[test]
fn the_model_takes_exactly_the_actions_it_lists() {
    for protocol in Protocol::ALL {
        for sizes in [sizes(2, 2, 2, 1), sizes(2, 1, 2, 2)] {
            let candidates = every_action(sizes.servers + 1, sizes.users + 1, sizes.teams + 1);
            for leaves in [false, true] {
                let model = model(protocol, sizes, leaves);
                for state in reachable_in(&model) {
                    let mut successors: Vec<Action> = model
                        .successors(&state)
                        .into_iter()
                        .map(|(action, _, _)| action)
                        .collect();
                    let mut taken: Vec<Action> = candidates
                        .iter()
                        .copied()
                        .filter(|action| {
                            let next = model.next_state(&state, *action);
                            let step = model.step(&state, *action).map(|(_, next)| next);
                            assert_eq!(step, next, "{protocol} {sizes}: {action}");
                            next.is_some()
                        })
                        .collect();
                    successors.sort();
                    taken.sort();
                    assert_eq!(taken, successors, "{protocol} {sizes} {leaves}: {state:?}");
                    if state.all_requests_done(sizes) {
                        let mut listed = Vec::new();
                        model.actions(&state, &mut listed);
                        assert_eq!(listed, [], "{protocol} {sizes} {leaves}");
                    }
                }
            }
        }
    }
}

/// Why replaying `path` on `protocol` at `sizes` fails, in words.
fn refused(protocol: Protocol, sizes: crate::Sizes, path: &[&str]) -> String {
    let path: Vec<String> = path.iter().map(ToString::to_string).collect();
    replay(protocol, sizes, &path).unwrap_err().to_string()
}

/// Replay refuses an action the model does not take there, and names the ones it would take: a
/// finished server starting another request, a push without a check, a user or a team the sizes
/// do not have, an action after the last request.
#[test]
fn replay_refuses_a_disabled_action_and_names_the_enabled_ones() {
    let one = sizes(1, 1, 1, 1);
    let finished = [
        "server-1 check sue → team-A",
        "server-1 act",
        "server-1 check sue → team-A",
    ];
    assert_eq!(
        refused(Protocol::Naive, sizes(2, 1, 1, 1), &finished),
        "step 3: `server-1 check sue → team-A` is not enabled here; enabled: server-2 check sue \
         → team-A"
    );
    assert_eq!(
        refused(Protocol::Naive, one, &["server-1 act"]),
        "step 1: `server-1 act` is not enabled here; enabled: server-1 check sue → team-A"
    );
    assert_eq!(
        refused(Protocol::Naive, one, &["server-1 check john → team-A"]),
        "step 1: `server-1 check john → team-A` is not enabled here; enabled: server-1 check \
         sue → team-A"
    );
    assert_eq!(
        refused(Protocol::EventSourced, one, &["server-1 read sue → team-B"]),
        "step 1: `server-1 read sue → team-B` is not enabled here; enabled: server-1 read sue \
         → team-A"
    );
    assert_eq!(
        refused(
            Protocol::EventSourced,
            one,
            &["server-1 read sue → team-A", "server-1 reread"]
        ),
        "step 2: `server-1 reread` is not enabled here; enabled: server-1 append"
    );
    let twice = [
        "server-1 insert sue → team-A",
        "server-1 insert sue → team-A",
    ];
    assert_eq!(
        refused(Protocol::UniqueMembership, one, &twice),
        "step 2: `server-1 insert sue → team-A` is not enabled here; enabled: none (every \
         request is done)"
    );
    let held = [
        "server-1 acquire sue → team-A",
        "server-2 acquire sue → team-A",
    ];
    assert_eq!(
        refused(Protocol::LeaseLock, sizes(2, 1, 1, 1), &held),
        "step 2: `server-2 acquire sue → team-A` is not enabled here; enabled: server-1 check, \
         server-1 lease expires"
    );
    let error = replay(Protocol::Naive, one, &["server-1 act".to_string()]).unwrap_err();
    assert_eq!(
        error,
        ReplayError::NotEnabled {
            index: 0,
            action: "server-1 act".to_string(),
            enabled: vec!["server-1 check sue → team-A".to_string()],
        }
    );
}
