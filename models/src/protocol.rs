//! What a join protocol is to the models: one type implementing [`JoinProtocol`].
//!
//! The model ([`crate::ProtocolModel`]), the packing of states, symmetry reduction, both checkers
//! and the stateright adapter only ever go through this trait; the built-in protocols implement it
//! in [`crate::protocols`], one file each.

use crate::action::Action;
use crate::domain::{Request, ServerId};
use crate::operation::{OpResult, Operation};
use crate::renaming::Renaming;
use crate::sizes::Sizes;
use crate::state::State;
use std::fmt;

/// A join protocol as a state machine over [`State`]: how a server turns "add user to team" into
/// atomic database operations, and what it keeps in the shared database.
///
/// A state machine only, so that transitions are all the checkers see: `next_state` is the hot
/// path (no allocation), `step` writes the same transition down as the store would record it.
pub trait JoinProtocol: fmt::Debug + Send + Sync + 'static {
    /// The protocol's name as the CLI takes it and traces print it: `naive`, `event-sourced`, …
    fn name(&self) -> &'static str;

    /// The action that starts `request` (a join, or in a model with leaves a leave) at an idle
    /// `server`.
    fn first_action(&self, server: ServerId, request: Request) -> Action;

    /// The state after `action`, or `None` when it is not enabled in `state`. The model has
    /// already checked that `action.server()` is one of the `sizes.servers` servers, and that a
    /// leave starts only in a model with leaves.
    fn next_state(&self, sizes: Sizes, state: &State, action: Action) -> Option<State>;

    /// Like [`JoinProtocol::next_state`], with the operation the action performed and what the
    /// database returned, as the real store records them.
    fn step(
        &self,
        sizes: Sizes,
        state: &State,
        action: Action,
    ) -> Option<(State, Operation, OpResult)>;

    /// The part of [`State`]'s database this protocol uses at `sizes`, and how large it gets
    /// when requests are joins only, or joins and leaves (`leaves`): what packing a state into
    /// as few bits as possible needs to know.
    fn database(&self, sizes: Sizes, leaves: bool) -> Database;

    /// Renames the users and teams in `state`'s database (the caller renames the servers'
    /// requests), keeping whatever order the protocol stores its database in.
    fn rename_database(&self, sizes: Sizes, state: &mut State, renaming: &Renaming);

    /// True when the database keeps one order over all its events (a global log). Symmetry
    /// reduction then fixes users and teams by their first appearance in it, which no renaming
    /// can change, instead of trying their orders.
    fn orders_all_events(&self) -> bool;

    /// The expected verdict at `sizes`: true when some interleaving puts a user on two teams.
    /// The same with leaves: the checker finds so on every size the tests cover.
    fn breaks_at(&self, sizes: Sizes) -> bool;
}

/// Which part of [`State`]'s shared database a protocol uses, and its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Database {
    /// Each team's member set.
    MemberSets,
    /// An event log of at most `capacity` events, whose streams a server reads at versions up
    /// to `max_version`.
    EventLog {
        /// The most events the log can hold at these sizes.
        capacity: u8,
        /// The largest version a server can have read.
        max_version: u8,
    },
    /// Each team's member set, with a lock per user held under a lease (each server's record
    /// says whether it holds its user's lease) and, when `max_token` is not 0, fencing tokens.
    LeasedMemberSets {
        /// The newest fencing token a lock can hand out at these sizes; 0 without tokens.
        max_token: u8,
    },
}
