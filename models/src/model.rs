//! A protocol at given sizes as a state machine: its initial state, its enabled actions in a
//! fixed order, and what each action does.
//!
//! The fast checker, stateright's checker, replay and the conformance work all go through
//! [`ProtocolModel`]; what each action does is the protocol's ([`JoinProtocol`]).

use crate::action::Action;
use crate::domain::{Request, ServerId, TeamId, UserId};
use crate::layout::{Layout, StateTooWide};
use crate::operation::Step;
use crate::protocol::{Database, JoinProtocol};
use crate::protocols::Protocol;
use crate::sizes::{SizeError, Sizes};
use crate::state::{Phase, State, MAX};
use std::fmt;

/// One protocol at one size: the state machine the checkers explore. Its requests are joins,
/// or with [`ProtocolModel::with_leaves`] joins and leaves.
///
/// `P` is the protocol's type, so that the checker's hot loop is compiled for it; the default,
/// `dyn JoinProtocol`, is the one type for every built-in protocol ([`ProtocolModel::new`]).
pub struct ProtocolModel<P: JoinProtocol + ?Sized = dyn JoinProtocol> {
    protocol: &'static P,
    sizes: Sizes,
    leaves: bool,
    layout: Layout,
}

impl<P: JoinProtocol + ?Sized> Clone for ProtocolModel<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: JoinProtocol + ?Sized> Copy for ProtocolModel<P> {}

impl<P: JoinProtocol + ?Sized> fmt::Debug for ProtocolModel<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtocolModel")
            .field("protocol", &self.protocol.name())
            .field("sizes", &self.sizes)
            .field("leaves", &self.leaves)
            .finish()
    }
}

/// Why a path of actions could not be replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// The text is not an action of any protocol.
    Unrecognized {
        /// Zero-based position in the path.
        index: usize,
        /// The text as given.
        text: String,
    },
    /// The sizes are not acceptable, so there is no model to replay on.
    InvalidSizes(SizeError),
    /// The action exists but is not enabled at that point of the path (wrong protocol, sizes,
    /// or a path that was edited).
    NotEnabled {
        /// Zero-based position in the path.
        index: usize,
        /// The action as given.
        action: String,
        /// The actions that were enabled there.
        enabled: Vec<String>,
    },
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::InvalidSizes(error) => write!(f, "cannot replay: {error}"),
            ReplayError::Unrecognized { index, text } => write!(
                f,
                "step {}: `{text}` is not an action (expected e.g. `server-1 check sue → team-A` \
                 or `server-2 append`)",
                index + 1
            ),
            ReplayError::NotEnabled {
                index,
                action,
                enabled,
            } => write!(
                f,
                "step {}: `{action}` is not enabled here; enabled: {}",
                index + 1,
                if enabled.is_empty() {
                    "none (every request is done)".to_string()
                } else {
                    enabled.join(", ")
                }
            ),
        }
    }
}

impl std::error::Error for ReplayError {}

/// What a model's requests are, in the words reports add after its sizes: nothing for joins
/// only, ` (joins and leaves)` with leaves.
pub fn requests_in_words(leaves: bool) -> &'static str {
    match leaves {
        true => " (joins and leaves)",
        false => "",
    }
}

impl ProtocolModel {
    /// The model of the built-in `protocol` at `sizes`, which must have come from [`Sizes::new`].
    ///
    /// # Panics
    ///
    /// If `sizes` was built field by field and is invalid, or the protocol's event log could
    /// outgrow a state at these sizes (event-sourced-per-team beyond 8 requests in all and 8
    /// user-team pairs). [`ProtocolModel::try_new`] returns the error instead: use it for sizes
    /// a user chose.
    pub fn new(protocol: Protocol, sizes: Sizes) -> ProtocolModel {
        match ProtocolModel::try_new(protocol, sizes) {
            Ok(model) => model,
            Err(error) => panic!("invalid model sizes: {error}"),
        }
    }

    /// The model of the built-in `protocol` at `sizes`, or why the sizes are not acceptable.
    pub fn try_new(protocol: Protocol, sizes: Sizes) -> Result<ProtocolModel, SizeError> {
        ProtocolModel::of(protocol.spec(), sizes)
    }
}

/// Whether `protocol`'s event log, if it has one, fits in a state at `sizes`.
fn log_fits<P: JoinProtocol + ?Sized>(
    protocol: &P,
    sizes: Sizes,
    leaves: bool,
) -> Result<(), SizeError> {
    match protocol.database(sizes, leaves) {
        Database::EventLog { capacity, .. } if usize::from(capacity) > MAX => {
            Err(SizeError::LogTooLong {
                protocol: protocol.name(),
                leaves,
                events: capacity,
                room: MAX as u8,
            })
        }
        _ => Ok(()),
    }
}

impl<P: JoinProtocol + ?Sized> ProtocolModel<P> {
    /// The model of `protocol` at `sizes`, or why the sizes are not acceptable.
    /// Refused when the protocol's event log could outgrow the room a state has for it.
    pub fn of(protocol: &'static P, sizes: Sizes) -> Result<ProtocolModel<P>, SizeError> {
        let sizes = sizes.validate()?;
        log_fits(protocol, sizes, false)?;
        Ok(ProtocolModel {
            protocol,
            sizes,
            leaves: false,
            layout: Layout::new(protocol, sizes, false),
        })
    }

    /// The same model with leaves: each request is a join or a leave (of any user from any
    /// team), chosen as freely as the user and team are. Refused when the protocol's event log
    /// could then outgrow the room a state has for it (one event per request).
    pub fn with_leaves(self) -> Result<ProtocolModel<P>, SizeError> {
        log_fits(self.protocol, self.sizes, true)?;
        Ok(ProtocolModel {
            leaves: true,
            layout: Layout::new(self.protocol, self.sizes, true),
            ..self
        })
    }

    /// Whether a request may be a leave as well as a join.
    pub fn leaves(&self) -> bool {
        self.leaves
    }

    /// The protocol modelled.
    pub fn protocol(&self) -> &'static P {
        self.protocol
    }

    /// The sizes modelled.
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }

    /// Whether joincheck's checker can explore this model: it stores every state packed into
    /// 127 bits, and the protocol's state at these sizes may need more. Replay, conformance and
    /// stateright work on unpacked states and take any model.
    pub fn checkable(&self) -> Result<(), StateTooWide> {
        self.layout.fits(self.protocol.name())
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Every server idle with all its requests ahead, and an empty database.
    pub fn initial_state(&self) -> State {
        State::initial()
    }

    /// Appends the actions enabled in `state` to `out`, in a fixed order: by server, then (for a
    /// request's first operation) joins before leaves, by user, then by team. Shortest
    /// counterexamples are the first in this order, so it must never depend on anything but the
    /// state.
    pub fn actions(&self, state: &State, out: &mut Vec<Action>) {
        for (index, server) in state.servers(self.sizes).iter().enumerate() {
            let id = ServerId(index as u8);
            match server.phase {
                Phase::Idle if server.done < self.sizes.requests => {
                    self.first_actions(id, |user, team| Request::Join { user, team }, out);
                    if self.leaves {
                        self.first_actions(id, |user, team| Request::Leave { user, team }, out);
                    }
                }
                Phase::Idle => {}
                Phase::Checked => out.push(Action::Act { server: id }),
                Phase::Pending => out.push(Action::Append { server: id }),
                Phase::Retrying => out.push(Action::Reread { server: id }),
                Phase::Acquired if server.leaving => out.push(Action::PullLocked { server: id }),
                Phase::Acquired => out.push(Action::CheckLocked { server: id }),
                Phase::Releasing => out.push(Action::Release { server: id }),
            }
            if server.lease {
                out.push(Action::Expire { server: id });
            }
        }
    }

    /// The actions that start `request(user, team)` at the idle server `id`, by user, then by
    /// team.
    fn first_actions(
        &self,
        id: ServerId,
        request: impl Fn(UserId, TeamId) -> Request,
        out: &mut Vec<Action>,
    ) {
        for user in 0..self.sizes.users {
            for team in 0..self.sizes.teams {
                let request = request(UserId(user), TeamId(team));
                out.push(self.protocol.first_action(id, request));
            }
        }
    }

    /// True when `action` can be one of this model's: its server is one of the model's, and it
    /// starts no leave unless the model has leaves.
    fn admits(&self, action: Action) -> bool {
        action.server().0 < self.sizes.servers && (self.leaves || !action.starts_leave())
    }

    /// The state after `action`, or `None` when it is not enabled in `state`.
    pub fn next_state(&self, state: &State, action: Action) -> Option<State> {
        if !self.admits(action) {
            return None;
        }
        self.protocol.next_state(self.sizes, state, action)
    }

    /// The [`Step`] `action` records from `state` (operation, result, membership after) and the
    /// state it leads to, or `None` when it is not enabled.
    pub fn step(&self, state: &State, action: Action) -> Option<(Step, State)> {
        if !self.admits(action) {
            return None;
        }
        let (next, operation, result) = self.protocol.step(self.sizes, state, action)?;
        let step = Step {
            server: action.server(),
            operation,
            result,
            membership_after: next.membership(),
        };
        Some((step, next))
    }

    /// Every enabled action in `state`, in [`ProtocolModel::actions`] order, with the step it
    /// records and the state it leads to. This is how a recorded history of the real code is
    /// matched against the model: at each point, find the successor whose step equals the
    /// recorded one.
    pub fn successors(&self, state: &State) -> Vec<(Action, Step, State)> {
        let mut actions = Vec::new();
        self.actions(state, &mut actions);
        actions
            .into_iter()
            .filter_map(|action| {
                let (step, next) = self.step(state, action)?;
                Some((action, step, next))
            })
            .collect()
    }

    /// Re-executes a path of actions (as [`Action`]'s `Display` prints them) from the initial
    /// state, returning the steps.
    pub fn replay(&self, actions: &[String]) -> Result<Vec<Step>, ReplayError> {
        let mut state = self.initial_state();
        let mut steps = Vec::with_capacity(actions.len());
        for (index, text) in actions.iter().enumerate() {
            let action = Action::parse(text).ok_or_else(|| ReplayError::Unrecognized {
                index,
                text: text.clone(),
            })?;
            let (step, next) =
                self.step(&state, action)
                    .ok_or_else(|| ReplayError::NotEnabled {
                        index,
                        action: text.clone(),
                        enabled: self
                            .successors(&state)
                            .iter()
                            .map(|(action, _, _)| action.to_string())
                            .collect(),
                    })?;
            steps.push(step);
            state = next;
        }
        Ok(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Event;
    use crate::operation::OpResult;

    fn model(protocol: Protocol, s: u8, u: u8, t: u8, n: u8) -> ProtocolModel {
        ProtocolModel::new(protocol, Sizes::new(s, u, t, n).unwrap())
    }

    #[test]
    fn successors_come_in_server_user_team_order() {
        let naive = model(Protocol::Naive, 2, 2, 2, 1);
        let names: Vec<String> = naive
            .successors(&naive.initial_state())
            .iter()
            .map(|(action, _, _)| action.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "server-1 check sue → team-A",
                "server-1 check sue → team-B",
                "server-1 check john → team-A",
                "server-1 check john → team-B",
                "server-2 check sue → team-A",
                "server-2 check sue → team-B",
                "server-2 check john → team-A",
                "server-2 check john → team-B",
            ]
        );
        let (_, step, next) = &naive.successors(&naive.initial_state())[3];
        assert_eq!(step.operation.to_string(), "is john on a team?");
        assert_eq!(step.result.to_string(), "no");
        let phases: Vec<Phase> = next
            .servers(naive.sizes())
            .iter()
            .map(|s| s.phase)
            .collect();
        assert_eq!(phases, [Phase::Checked, Phase::Idle]);
    }

    #[test]
    fn a_server_with_all_requests_done_has_nothing_to_do() {
        let es = model(Protocol::EventSourced, 1, 1, 1, 1);
        let steps = es
            .replay(&[
                "server-1 read sue → team-A".into(),
                "server-1 append".into(),
            ])
            .unwrap();
        assert_eq!(steps[1].result, OpResult::Appended { version: 1 });
        let mut state = es.initial_state();
        for (action, _, next) in es.successors(&state) {
            assert_eq!(action.to_string(), "server-1 read sue → team-A");
            state = next;
        }
        let (_, _, done) = es.successors(&state).remove(0);
        assert!(es.successors(&done).is_empty());
        assert!(done.all_requests_done(es.sizes()));
        assert_eq!(
            done.events(),
            vec![Event::Joined {
                user: UserId(0),
                team: TeamId(0)
            }]
        );
    }

    /// Per-user streams have no order between them: the same joins in either order are one
    /// state. The global log remembers the order.
    #[test]
    fn only_the_global_log_remembers_the_order_of_joins() {
        let sue_first = [
            "server-1 read sue → team-A",
            "server-1 append",
            "server-2 read john → team-B",
            "server-2 append",
        ];
        let john_first = [
            "server-2 read john → team-B",
            "server-2 append",
            "server-1 read sue → team-A",
            "server-1 append",
        ];
        let end = |protocol, path: &[&str]| {
            let model = model(protocol, 2, 2, 2, 1);
            let mut state = model.initial_state();
            for text in path {
                let action = Action::parse(text).unwrap();
                state = model.next_state(&state, action).unwrap();
            }
            state
        };
        assert_eq!(
            end(Protocol::EventSourcedPerUser, &sue_first),
            end(Protocol::EventSourcedPerUser, &john_first)
        );
        assert_ne!(
            end(Protocol::EventSourced, &sue_first),
            end(Protocol::EventSourced, &john_first)
        );
    }

    /// The packing limit is a property of one protocol's model: at 8,8,4,2 the global log, the
    /// per-team streams and the fenced lease locks are too wide for the checker, naive, per-user
    /// streams, the one-step fixes and the plain lease lock are not, and all can be replayed.
    #[test]
    fn only_a_model_too_wide_to_pack_is_refused_by_the_checker() {
        let sizes = Sizes::new(8, 8, 4, 2).unwrap();
        // Per-team streams could log 16 events here, more than a state holds: no model at all.
        let checkable: Vec<Option<bool>> = Protocol::ALL
            .map(|protocol| {
                let model = ProtocolModel::try_new(protocol, sizes).ok();
                model.map(|model| model.checkable().is_ok())
            })
            .to_vec();
        let (yes, no) = (Some(true), Some(false));
        assert_eq!(checkable, [yes, no, yes, None, yes, yes, yes, no, no]);
        let global = ProtocolModel::new(Protocol::EventSourced, sizes);
        assert_eq!(
            global.checkable().unwrap_err().to_string(),
            "one state of the event-sourced protocol at these sizes needs 148 bits, more than \
             the 127 a packed state holds; use fewer servers, users, teams or requests"
        );
        let steps = global
            .replay(&[
                "server-8 read user-8 → team-D".into(),
                "server-8 append".into(),
            ])
            .unwrap();
        assert_eq!(steps[1].result, OpResult::Appended { version: 1 });
    }
}
