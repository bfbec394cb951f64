//! The schemas executions run in: made ahead by a factory on a connection and thread of its own,
//! dropped after use, and those a killed run left behind dropped at the next connect.

use super::lock;
use postgres::{Client, SimpleQueryMessage};
use std::collections::BTreeMap;
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The statements that create schema `name` with the tables of `create`.
pub(super) fn creation(name: &str, create: &[&str]) -> String {
    let mut sql = format!("CREATE SCHEMA {name}; SET search_path TO {name};");
    for statement in create {
        sql.push_str(statement);
        sql.push(';');
    }
    sql
}

/// Creates fresh schemas ahead of the executions that take them, and drops the ones used, on a
/// connection and a thread of its own: creating tables costs more than an execution's
/// statements, and this way it overlaps with them. Every schema it made and did not hand out,
/// and every one handed back, is dropped before it stops.
pub(super) struct Factory {
    jobs: Option<Sender<Job>>,
    /// Schemas ready, by the address of the `create` statements they hold.
    ready: Arc<Mutex<BTreeMap<usize, Vec<String>>>>,
    worker: Option<JoinHandle<()>>,
}

enum Job {
    Prepare(&'static [&'static str], String),
    Drop(String),
}

impl Factory {
    pub(super) fn start(mut client: Client) -> Factory {
        let ready: Arc<Mutex<BTreeMap<usize, Vec<String>>>> = Arc::default();
        let (jobs, jobs_in) = mpsc::channel::<Job>();
        let shelf = Arc::clone(&ready);
        let worker = std::thread::Builder::new()
            .name("postgres-schemas".to_string())
            .spawn(move || {
                for job in jobs_in {
                    match job {
                        Job::Prepare(create, name) => {
                            if client.batch_execute(&creation(&name, create)).is_ok() {
                                let key = create.as_ptr() as usize;
                                lock(&shelf).entry(key).or_default().push(name);
                            }
                        }
                        Job::Drop(name) => drop_schema(&mut client, &name),
                    }
                }
                for name in std::mem::take(&mut *lock(&shelf)).into_values().flatten() {
                    drop_schema(&mut client, &name);
                }
            })
            .ok();
        Factory {
            jobs: worker.as_ref().map(|_| jobs),
            ready,
            worker,
        }
    }

    /// A schema made ahead with the tables of `create`, if one is ready.
    pub(super) fn take(&self, create: &'static [&'static str]) -> Option<String> {
        lock(&self.ready)
            .get_mut(&(create.as_ptr() as usize))?
            .pop()
    }

    /// Makes schema `name` with the tables of `create`, for a later execution to take.
    pub(super) fn prepare(&self, create: &'static [&'static str], name: String) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(Job::Prepare(create, name));
        }
    }

    /// Drops schema `name`, soon: returns at once.
    pub(super) fn discard(&self, name: String) -> Result<(), String> {
        match &self.jobs {
            Some(jobs) => jobs.send(Job::Drop(name)).map_err(|error| error.0.name()),
            None => Err(name),
        }
    }
}

impl Job {
    fn name(self) -> String {
        match self {
            Job::Prepare(_, name) | Job::Drop(name) => name,
        }
    }
}

/// The factory drops what it holds before the server goes.
impl Drop for Factory {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

pub(super) fn drop_schema(client: &mut Client, name: &str) {
    let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"));
}

/// A tag of this machine for schema names, so that a run on another machine sharing the
/// server never takes this machine's schemas for its own.
pub(super) fn host_tag() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let hash = host
        .trim()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
        });
    format!("{:08x}", hash as u32)
}

/// Drops the schemas of runs of joincheck on this machine whose process is gone (killed before
/// it could drop its own).
pub(super) fn drop_stale_schemas(monitor: &mut Client) {
    let ours = format!("joincheck_{}_", host_tag());
    let Ok(rows) = monitor.simple_query(&format!(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE '{ours}%'"
    )) else {
        return;
    };
    for message in rows {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let Some(name) = row.get(0) else { continue };
        let pid = name[ours.len()..].split('_').next().unwrap_or("");
        let alive = pid.parse::<u32>().is_ok_and(|pid| {
            pid == std::process::id() || std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
        if !alive {
            drop_schema(monitor, name);
        }
    }
}
