//! The DPOR engine on generated services (each server a random sequence of reads and writes of
//! a few cells, some under a lock) reaches exactly the outcomes that trying every interleaving
//! reaches.

use joincheck::check::dpor::{self, DporOptions, Next};
use joincheck::check::Scenario;
use joincheck::runtime::{Mutex, Runtime};
use joincheck::service::{JoinService, Server};
use joincheck::store::{Database, Guarded, Membership, Recording};
use joincheck_models::domain::{JoinError, Request, ServerId, TeamId, UserId};
use joincheck_models::footprint::Datum;
use joincheck_models::operation::{CustomOperation, OpResult, Step};
use proptest::prelude::*;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

/// Cells a program reads and writes; each server also has a cell of its own for its result.
const CELLS: u8 = 3;

/// One store operation of a program.
#[derive(Clone, Copy, Debug)]
struct Access {
    cell: u8,
    write: bool,
    /// Run with the service's lock held (consecutive locked operations hold it throughout).
    locked: bool,
}

/// The values of the cells, shown as membership (`(cell, value)` pairs), which is what an
/// execution reports at its end.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
struct Cells(Vec<u8>);

impl Membership for Cells {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        let pairs = self.0.iter().enumerate();
        pairs
            .map(|(cell, value)| (TeamId(cell as u8), UserId(*value)))
            .collect()
    }
}

/// What a read folds into a server's running value, and what a write stores.
fn after_read(local: u8, value: u8) -> u8 {
    local.wrapping_mul(31).wrapping_add(value).wrapping_add(1)
}

fn written(local: u8, server: usize) -> u8 {
    local.wrapping_mul(7).wrapping_add(server as u8 + 1)
}

struct Store<R: Runtime> {
    cells: Guarded<R, Cells>,
    lock: Mutex<R, ()>,
}

impl<R: Runtime> Database for Store<R> {
    fn membership(&self) -> Vec<(TeamId, UserId)> {
        self.cells.membership()
    }
    fn history(&self) -> Vec<Step> {
        self.cells.history()
    }
}

#[derive(Clone)]
struct Programs(Arc<Vec<Vec<Access>>>);

struct Runner<R: Runtime> {
    store: Arc<Store<R>>,
    id: ServerId,
    program: Vec<Access>,
}

fn cell_datum(cell: u8) -> Datum {
    Datum::Named(format!("cell {cell}"))
}

impl<R: Runtime> Runner<R> {
    fn operate(&self, local: u8, access: Access) -> u8 {
        let (verb, cell) = (if access.write { "write" } else { "read" }, access.cell);
        let operation = CustomOperation::new(verb, format!("{verb} cell {cell}"));
        let operation = match access.write {
            true => operation.writes_datum(cell_datum(cell)),
            false => operation.reads_datum(cell_datum(cell)),
        };
        let server = usize::from(self.id.0);
        self.store
            .cells
            .operate(self.id, operation.into(), |cells| {
                let slot = &mut cells.0[usize::from(cell)];
                let local = match access.write {
                    true => {
                        *slot = written(local, server);
                        local
                    }
                    false => after_read(local, *slot),
                };
                (local, OpResult::Custom(String::new()))
            })
    }
}

impl<R: Runtime> Server for Runner<R> {
    fn join(&mut self, _: UserId, _: TeamId) -> Result<(), JoinError> {
        let mut local = 0;
        let mut index = 0;
        while index < self.program.len() {
            if self.program[index].locked {
                let _held = self
                    .store
                    .lock
                    .lock_recorded(self.id, "the lock", &self.store.cells);
                while index < self.program.len() && self.program[index].locked {
                    local = self.operate(local, self.program[index]);
                    index += 1;
                }
            } else {
                local = self.operate(local, self.program[index]);
                index += 1;
            }
        }
        let own = CELLS + self.id.0;
        let report = Access {
            cell: own,
            write: true,
            locked: false,
        };
        // The result cell holds the running value itself.
        self.store.cells.operate(
            self.id,
            CustomOperation::new("report", "report")
                .writes_datum(cell_datum(own))
                .into(),
            |cells| {
                cells.0[usize::from(report.cell)] = local;
                ((), OpResult::Custom(String::new()))
            },
        );
        Ok(())
    }

    fn leave(&mut self, _: UserId, _: TeamId) -> Result<(), JoinError> {
        Ok(())
    }
}

impl<R: Runtime> JoinService<R> for Programs {
    type Database = Store<R>;
    type Server = Runner<R>;

    fn name(&self) -> String {
        "programs".into()
    }

    fn open_database(&self, _: &[(TeamId, UserId)], recording: Recording) -> Arc<Store<R>> {
        let cells = Cells(vec![0; usize::from(CELLS) + self.0.len()]);
        Arc::new(Store {
            cells: Guarded::new(cells, recording),
            lock: Mutex::new(()),
        })
    }

    fn start_server(&self, database: &Arc<Store<R>>, id: ServerId) -> Runner<R> {
        Runner {
            store: Arc::clone(database),
            id,
            program: self.0[usize::from(id.0)].clone(),
        }
    }
}

/// Every interleaving of the programs, the lock taken before a locked run of operations:
/// the final cells of each.
fn every_outcome(programs: &[Vec<Access>]) -> BTreeSet<Vec<u8>> {
    #[derive(Clone, Hash, PartialEq, Eq)]
    struct State {
        next: Vec<usize>,
        local: Vec<u8>,
        cells: Vec<u8>,
        holder: Option<usize>,
    }
    let servers = programs.len();
    let start = State {
        next: vec![0; servers],
        local: vec![0; servers],
        cells: vec![0; usize::from(CELLS) + servers],
        holder: None,
    };
    let (mut outcomes, mut seen, mut stack) = (BTreeSet::new(), HashSet::new(), vec![start]);
    while let Some(state) = stack.pop() {
        if !seen.insert(state.clone()) {
            continue;
        }
        if (0..servers).all(|s| state.next[s] == programs[s].len()) {
            let mut cells = state.cells.clone();
            for s in 0..servers {
                cells[usize::from(CELLS) + s] = state.local[s];
            }
            outcomes.insert(cells);
            continue;
        }
        for s in 0..servers {
            let Some(access) = programs[s].get(state.next[s]) else {
                continue;
            };
            let starts_locked_run =
                access.locked && (state.next[s] == 0 || !programs[s][state.next[s] - 1].locked);
            if starts_locked_run && state.holder.is_some() {
                continue;
            }
            let mut after = state.clone();
            if starts_locked_run {
                after.holder = Some(s);
            }
            let cell = usize::from(access.cell);
            match access.write {
                true => after.cells[cell] = written(after.local[s], s),
                false => after.local[s] = after_read(after.local[s], after.cells[cell]),
            }
            after.next[s] += 1;
            let ends_locked_run = access.locked
                && programs[s]
                    .get(after.next[s])
                    .is_none_or(|next| !next.locked);
            if ends_locked_run {
                after.holder = None;
            }
            stack.push(after);
        }
    }
    outcomes
}

fn access() -> impl Strategy<Value = Access> {
    (0..CELLS, any::<bool>(), prop::bool::weighted(0.3)).prop_map(|(cell, write, locked)| Access {
        cell,
        write,
        locked,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn dpor_reaches_every_outcome_and_no_other(
        programs in prop::collection::vec(prop::collection::vec(access(), 1..4), 2..4)
    ) {
        let expected = every_outcome(&programs);
        let servers = vec![vec![Request::Join { user: UserId(0), team: TeamId(0) }]; programs.len()];
        let scenario = Scenario::new(1, 1, servers, Vec::new()).unwrap();
        let service = Programs(Arc::new(programs.clone()));
        let mut reached = BTreeSet::new();
        let explored = dpor::explore(&service, &scenario, &DporOptions::default(), |run, _| {
            reached.insert(run.membership.iter().map(|(_, value)| value.0).collect::<Vec<u8>>());
            Next::Continue
        });
        prop_assert_eq!(explored.stopped, None);
        prop_assert_eq!(reached, expected);
    }
}
