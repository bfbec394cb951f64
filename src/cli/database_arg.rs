//! `--database`: where the real code's engines run each protocol. `memory` (the in-memory
//! stores), `sqlite` (fresh files in a temporary directory), `sqlite:DIR` (fresh files in DIR),
//! `postgres` (the server `DATABASE_URL` names) or a `postgres://…` URL. A server is asked at
//! once whether it answers and lets this user create a schema, so a bad URL, a server that does
//! not answer or missing privileges are one line before any check runs.

use joincheck::protocols::Storage;
use joincheck::store::sql::SqlTarget;
use std::path::Path;

/// What `--database` takes, for help and errors.
pub const VALUES: &str =
    "memory, sqlite, sqlite:DIR, postgres (DATABASE_URL) or a postgres://… URL";

/// The databases a run uses, and why one of the defaults was left out.
pub struct Databases {
    /// Where the real code runs, in report order.
    pub storages: Vec<Storage>,
    /// Why PostgreSQL is not among the defaults, when it is not.
    pub left_out: Option<String>,
}

/// The server `DATABASE_URL` names, when it is set and not empty.
fn database_url() -> Option<String> {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The databases `given` names (each once), or the defaults without it: `memory,sqlite`, and
/// PostgreSQL when `DATABASE_URL` is set.
pub fn databases(given: &[String]) -> Result<Databases, String> {
    let url = database_url();
    if given.is_empty() {
        let mut names = vec!["memory".to_string(), "sqlite".to_string()];
        let left_out = match &url {
            Some(_) => {
                names.push("postgres".to_string());
                None
            }
            None => Some(
                "postgres not used: DATABASE_URL is not set (set it, or give --database \
                 postgres://…)"
                    .to_string(),
            ),
        };
        let storages = opened(&names, url.as_deref())?;
        return Ok(Databases { storages, left_out });
    }
    Ok(Databases {
        storages: opened(given, url.as_deref())?,
        left_out: None,
    })
}

/// The one database `given` names (none: memory), for a command that runs on one.
pub fn one(given: Option<&str>) -> Result<Storage, String> {
    let url = database_url();
    match given {
        None => Ok(Storage::Memory),
        Some(name) => open(name.trim(), url.as_deref()),
    }
}

/// Where `replay` reruns a file found on `recorded` (`sqlite`, `postgres`; none: in memory):
/// `given` (`--database`) when it is a database of the same kind, else a fresh SQLite directory,
/// or the server `DATABASE_URL` names.
pub fn for_replay(recorded: Option<&str>, given: Option<&str>) -> Result<Storage, String> {
    let url = database_url();
    let storage = match (recorded, given) {
        (None, None) => return Ok(Storage::Memory),
        (Some("sqlite"), None) => open("sqlite", None)?,
        (Some("postgres"), None) => match &url {
            Some(url) => open(url, None)?,
            None => {
                return Err(
                    "the file was found on PostgreSQL: give --database postgres://… or set \
                     DATABASE_URL"
                        .to_string(),
                )
            }
        },
        (Some(other), None) => {
            return Err(format!(
                "`database`: unknown database `{other}`; the databases are sqlite and postgres"
            ))
        }
        (_, Some(given)) => open(given.trim(), url.as_deref())?,
    };
    match storage.name() == recorded.unwrap_or("memory") {
        true => Ok(storage),
        false => Err(format!(
            "the file was found {}, and --database names {}: a replay reruns it where it was \
             found",
            recorded.map_or("in memory".to_string(), |database| format!("on {database}")),
            storage.name()
        )),
    }
}

/// Opens each database `names` names, refusing one named twice.
fn opened(names: &[String], url: Option<&str>) -> Result<Vec<Storage>, String> {
    let mut storages: Vec<Storage> = Vec::new();
    for name in names {
        let storage = open(name.trim(), url)?;
        if storages.iter().any(|s| s.name() == storage.name()) {
            return Err(format!(
                "--database names {} twice: give each database once",
                storage.name()
            ));
        }
        storages.push(storage);
    }
    Ok(storages)
}

/// The database `name` names.
fn open(name: &str, url: Option<&str>) -> Result<Storage, String> {
    let postgres = |url: &str| {
        SqlTarget::postgres(url)
            .map(Storage::Sql)
            .map_err(|error| format!("--database: {error}"))
    };
    match name {
        "" => Err(format!(
            "--database has an empty name: give one or more of {VALUES}, separated by single \
             commas"
        )),
        "memory" => Ok(Storage::Memory),
        "sqlite" => SqlTarget::sqlite()
            .map(Storage::Sql)
            .map_err(|error| format!("--database sqlite: {error}")),
        "postgres" => match url {
            Some(url) => postgres(url),
            None => Err(
                "--database postgres: DATABASE_URL is not set; set it or give the \
                 server's postgres://… URL"
                    .to_string(),
            ),
        },
        _ if name.starts_with("postgres://") || name.starts_with("postgresql://") => postgres(name),
        _ => match name.strip_prefix("sqlite:") {
            Some("") => Err("--database sqlite: needs a directory after the colon".to_string()),
            Some(directory) => {
                let target = SqlTarget::sqlite_in(Path::new(directory))
                    .map_err(|error| format!("--database: {error}"))?;
                let probe = Path::new(directory).join(".joincheck-write-test");
                std::fs::write(&probe, b"")
                    .map_err(|error| format!("--database {name}: cannot write there: {error}"))?;
                let _ = std::fs::remove_file(probe);
                Ok(Storage::Sql(target))
            }
            None => Err(format!(
                "--database: unknown database `{name}`; give {VALUES}"
            )),
        },
    }
}
