//! The protocols as stateright [`Model`]s, driven by the same transition code as joincheck's own
//! checker ([`ProtocolModel`]), so that stateright's checkers and its Explorer web UI can be
//! pointed at them.
//!
//! Mind the traps of stateright 0.31 (`docs/ARCHITECTURE.md`): an early stop (timeout, state or
//! depth target) looks like a proof, `symmetry()` is ignored by BFS, and BFS counterexamples are
//! not always the shortest. [`crate::check`] has none of these; use this for exploring and cross-checking.

use crate::action::Action;
use crate::model::ProtocolModel;
use crate::sizes::Sizes;
use crate::state::State;
use crate::Protocol;
use stateright::{Model, Property};

/// A protocol at given sizes, as a stateright model.
#[derive(Clone, Copy, Debug)]
pub struct StaterightModel {
    model: ProtocolModel,
}

/// The stateright model of `protocol` at `sizes`.
///
/// ```
/// use joincheck_models::{stateright_model, Protocol, Sizes};
/// use stateright::{Checker, Model};
///
/// let sizes = Sizes::new(2, 1, 2, 1).unwrap();
/// let checker = stateright_model(Protocol::EventSourced, sizes).checker().spawn_bfs().join();
/// assert_eq!(checker.unique_state_count(), 31);
/// checker.assert_no_discovery("a user is on at most one team");
/// ```
///
/// To click through the naive race in stateright's Explorer (a web UI):
///
/// ```no_run
/// # use joincheck_models::{stateright_model, Protocol, Sizes};
/// # use stateright::Model;
/// let sizes = Sizes::new(2, 1, 2, 1).unwrap();
/// stateright_model(Protocol::Naive, sizes).checker().serve("localhost:3000");
/// ```
pub fn stateright_model(protocol: Protocol, sizes: Sizes) -> StaterightModel {
    StaterightModel::of(ProtocolModel::new(protocol, sizes))
}

impl StaterightModel {
    /// The stateright model of `model`: with leaves, say.
    ///
    /// ```
    /// use joincheck_models::{Protocol, ProtocolModel, Sizes, StaterightModel};
    /// use stateright::{Checker, Model};
    ///
    /// let sizes = Sizes::new(2, 1, 2, 1).unwrap();
    /// let model = ProtocolModel::new(Protocol::EventSourced, sizes).with_leaves().unwrap();
    /// let checker = StaterightModel::of(model).checker().spawn_bfs().join();
    /// assert_eq!(checker.unique_state_count(), 44);
    /// checker.assert_no_discovery("a user is on at most one team");
    /// ```
    pub fn of(model: ProtocolModel) -> StaterightModel {
        StaterightModel { model }
    }

    /// The underlying protocol model.
    pub fn protocol_model(&self) -> &ProtocolModel {
        &self.model
    }
}

impl Model for StaterightModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        vec![self.model.initial_state()]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.model.actions(state, actions);
    }

    fn next_state(&self, state: &State, action: Action) -> Option<State> {
        self.model.next_state(state, action)
    }

    /// `server-1 check sue → team-A`, as counterexample paths print actions.
    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    /// `server-1  check  is sue on a team?  → no`, in the trace renderer's words.
    fn format_step(&self, state: &State, action: Action) -> Option<String> {
        let (step, _) = self.model.step(state, action)?;
        Some(format!(
            "{}  {}  {}  → {}",
            step.server,
            step.operation.verb(),
            step.operation,
            step.result
        ))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("a user is on at most one team", |_, state: &State| {
                !state.breaks_invariant()
            }),
            Property::sometimes("a user joined a team", |_, state: &State| {
                state.someone_joined()
            }),
            // Sound here despite stateright's false negatives on cycles and DAG joins: the models
            // are acyclic (see `crate::checker`), and the condition holds only at a path's end,
            // so every path reaching a state has seen it false until then and a join loses
            // nothing.
            Property::eventually(
                "every request completes",
                |model: &StaterightModel, state: &State| {
                    state.all_requests_done(model.model.sizes())
                },
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::{check, CheckOptions};
    use stateright::Checker;

    #[test]
    fn states_read_like_the_trace_in_the_explorer() {
        let model = stateright_model(Protocol::EventSourced, Sizes::new(2, 1, 2, 1).unwrap());
        let pm = model.protocol_model();
        let (user, team) = (crate::domain::UserId(0), crate::domain::TeamId(1));
        let read = Action::Read {
            server: crate::domain::ServerId(1),
            user,
            team,
        };
        let state = pm.next_state(&pm.initial_state(), read).unwrap();
        assert_eq!(
            format!("{state:?}"),
            "State { server-1: idle, 0 done, server-2: read v0 for sue → team-B, append next, \
             0 done, members: {} }"
        );
        let appended = pm
            .next_state(
                &state,
                Action::Append {
                    server: crate::domain::ServerId(1),
                },
            )
            .unwrap();
        assert_eq!(
            format!("{appended:?}"),
            "State { server-1: idle, 0 done, server-2: idle, 1 done, members: {sue ∈ team-B}, \
             log: [Joined(sue, team-B)] }"
        );
    }

    #[test]
    fn a_leave_reads_as_one_in_the_explorer() {
        let sizes = Sizes::new(2, 1, 2, 1).unwrap();
        let model = ProtocolModel::new(Protocol::LeaseLock, sizes)
            .with_leaves()
            .unwrap();
        let action = Action::parse("server-2 acquire sue ← team-B").unwrap();
        let state = model.next_state(&model.initial_state(), action).unwrap();
        assert_eq!(
            format!("{state:?}"),
            "State { server-1: idle, 0 done, server-2: acquired the lock for sue ← team-B, pull \
             next, holds the lease, 0 done, members: {} }"
        );
        let model = StaterightModel::of(model);
        let pull = Action::parse("server-2 pull").unwrap();
        assert_eq!(model.format_action(&pull), "server-2 pull");
        assert_eq!(
            model.format_step(&state, pull).unwrap(),
            "server-2  pull  pull sue ← team-B  → not a member"
        );
    }

    /// A fenced lock's holder shows its token (a pending append's version is shown as the read
    /// it came from instead), and the state its users' tokens.
    #[test]
    fn a_token_reads_as_one_in_the_explorer() {
        let model = ProtocolModel::new(
            Protocol::LeaseLockFencedReads,
            Sizes::new(2, 1, 2, 1).unwrap(),
        );
        let action = Action::parse("server-1 acquire sue → team-A").unwrap();
        let state = model.next_state(&model.initial_state(), action).unwrap();
        assert_eq!(
            format!("{state:?}"),
            "State { server-1: acquired the lock for sue → team-A, check next (token 1), holds \
             the lease, 0 done, members: {}, tokens: {sue: issued 1, seen 0} }"
        );
    }

    #[test]
    fn steps_read_like_the_trace() {
        let model = stateright_model(Protocol::Naive, Sizes::new(2, 1, 2, 1).unwrap());
        let state = model.protocol_model().initial_state();
        let action = Action::Check {
            server: crate::domain::ServerId(0),
            user: crate::domain::UserId(0),
            team: crate::domain::TeamId(1),
        };
        assert_eq!(model.format_action(&action), "server-1 check sue → team-B");
        assert_eq!(
            model.format_step(&state, action).unwrap(),
            "server-1  check  is sue on a team?  → no"
        );
    }

    /// stateright's BFS and joincheck's checker walk the same transitions and must agree on the
    /// number of distinct states.
    #[test]
    fn stateright_counts_the_same_states() {
        let holding = [
            Protocol::EventSourced,
            Protocol::EventSourcedPerUser,
            Protocol::LeaseLockFencedReads,
        ];
        for protocol in holding {
            for [s, u, t, n] in [[1, 2, 2, 2], [2, 2, 2, 2], [3, 2, 2, 1], [2, 3, 3, 1]] {
                let sizes = Sizes::new(s, u, t, n).unwrap();
                let ours = check(protocol, sizes, &CheckOptions::default());
                assert_eq!(ours.kind(), "holds", "{protocol} {sizes}");
                let theirs = stateright_model(protocol, sizes)
                    .checker()
                    .spawn_bfs()
                    .join();
                assert_eq!(
                    Some(theirs.unique_state_count() as u64),
                    ours.stats().unique_states,
                    "{protocol} {sizes}"
                );
                theirs.assert_no_discovery("a user is on at most one team");
                theirs.assert_no_discovery("every request completes");
                theirs.assert_any_discovery("a user joined a team");
            }
        }
    }

    #[test]
    fn stateright_finds_the_naive_race() {
        let sizes = Sizes::new(2, 1, 2, 1).unwrap();
        let checker = stateright_model(Protocol::Naive, sizes)
            .checker()
            .spawn_bfs()
            .join();
        // The naive model breaks the invariant but not liveness, so stateright explores it all.
        assert_eq!(checker.unique_state_count(), 24);
        let path = checker.discovery("a user is on at most one team").unwrap();
        assert_eq!(
            path.last_state().violation().unwrap().to_string(),
            "sue ∈ {team-A, team-B}"
        );
        checker.assert_no_discovery("every request completes");
    }
}
