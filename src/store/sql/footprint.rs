//! What an SQL statement that runs on its own touches, table by table: what the DPOR engine
//! orders statements by.
//!
//! Only a statement outside any transaction, with no other server waiting on the database, is
//! given a footprint here: inside a transaction what a statement sees depends on when the
//! transaction took its snapshot and which locks it holds, so such a statement is taken to write
//! the whole database, as is any statement this cannot read. A read (`SELECT`) reads every table
//! of the schema it names; a write writes every table it names. That is sound as long as a
//! statement touches no table it does not name: a schema with views or rules (a read of one
//! reads others) gets no footprint at all, and one with triggers or foreign keys (a write of one
//! reads or writes others) none for its writes.

use super::schema::Schema;
use joincheck_models::footprint::{Access, Datum, Footprint};

/// The tables of a schema, and which statements on them can be given a footprint.
#[derive(Clone, Debug)]
pub(crate) struct Tables {
    /// Each table's name, in upper case.
    names: Vec<String>,
    /// A read touches only the tables it names.
    reads_named_only: bool,
    /// A write touches only the tables it names.
    writes_named_only: bool,
}

/// The words of `sql`, in upper case: names, keywords and numbers, without punctuation.
fn words(sql: &str) -> Vec<String> {
    sql.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_uppercase)
        .collect()
}

impl Tables {
    /// The tables `schema` creates.
    pub(crate) fn of(schema: &Schema) -> Tables {
        let mut tables = Tables {
            names: Vec::new(),
            reads_named_only: true,
            writes_named_only: true,
        };
        for create in schema.create {
            let words = words(create);
            let has = |word: &str| words.iter().any(|w| w == word);
            if has("VIEW") || has("RULE") {
                tables.reads_named_only = false;
            }
            if has("VIEW") || has("RULE") || has("TRIGGER") || has("REFERENCES") {
                tables.writes_named_only = false;
            }
            if words.first().map(String::as_str) == Some("CREATE") && has("TABLE") {
                let after = words.iter().skip_while(|w| *w != "TABLE").skip(1);
                let mut after = after.skip_while(|w| ["IF", "NOT", "EXISTS"].contains(&w.as_str()));
                if let Some(name) = after.next() {
                    tables.names.push(name.clone());
                }
            }
        }
        tables
    }

    /// What `sql`, run on its own, touches; `None` when this cannot tell (it is then taken to
    /// write the whole database).
    pub(crate) fn footprint(&self, sql: &str) -> Option<Footprint> {
        let words = words(sql);
        let writes = ["INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "UPSERT"];
        let any = |list: &[&str]| words.iter().any(|word| list.contains(&word.as_str()));
        // `SELECT … FOR UPDATE` (or SHARE) locks the rows it reads: taken as a write.
        let locks = words.windows(2).any(|pair| {
            pair[0] == "FOR" && ["UPDATE", "SHARE", "NO", "KEY"].contains(&pair[1].as_str())
        });
        let access = match words.first().map(String::as_str) {
            Some("SELECT" | "WITH" | "VALUES") if !any(&writes) && !locks => Access::Read,
            Some("SELECT" | "WITH" | "INSERT" | "UPDATE" | "DELETE" | "REPLACE") => Access::Write,
            _ => return None,
        };
        let named_only = match access {
            Access::Read => self.reads_named_only,
            Access::Write => self.writes_named_only,
        };
        if !named_only {
            return None;
        }
        let named: Vec<&String> = self
            .names
            .iter()
            .filter(|name| words.contains(name))
            .collect();
        if access == Access::Write && named.is_empty() {
            return None;
        }
        let mut footprint = Footprint::default();
        for name in named {
            footprint.add(access, Datum::Table(name.to_ascii_lowercase()));
        }
        Some(footprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use joincheck_models::domain::{TeamId, UserId};

    fn schema(create: &'static [&'static str]) -> Tables {
        fn seed(_: &[(TeamId, UserId)]) -> Vec<String> {
            Vec::new()
        }
        Tables::of(&Schema {
            create,
            seed,
            membership: "SELECT team, user_id FROM memberships",
        })
    }

    const TWO_TABLES: &[&str] = &[
        "CREATE TABLE memberships (team TEXT NOT NULL, user_id TEXT NOT NULL)",
        "CREATE UNIQUE INDEX one_team ON memberships (user_id)",
        "CREATE TABLE IF NOT EXISTS events (stream TEXT, version INTEGER)",
    ];

    fn table(access: Access, name: &str) -> Footprint {
        let mut footprint = Footprint::default();
        footprint.add(access, Datum::Table(name.to_string()));
        footprint
    }

    #[test]
    fn a_read_reads_the_tables_it_names_and_a_write_writes_them() {
        let tables = schema(TWO_TABLES);
        assert_eq!(
            tables.footprint("SELECT team FROM memberships WHERE user_id = 'sue'"),
            Some(table(Access::Read, "memberships"))
        );
        assert_eq!(
            tables.footprint("insert into Events (stream, version) values ('all', 1)"),
            Some(table(Access::Write, "events"))
        );
        let mut both = table(Access::Write, "memberships");
        both.add(Access::Write, Datum::Table("events".to_string()));
        assert_eq!(
            tables.footprint(
                "INSERT INTO memberships SELECT 'a', 'sue' WHERE NOT EXISTS (SELECT 1 FROM events)"
            ),
            Some(both)
        );
        assert_eq!(tables.footprint("SELECT 1"), Some(Footprint::default()));
    }

    #[test]
    fn a_locking_read_is_a_write_and_what_cannot_be_read_is_none() {
        let tables = schema(TWO_TABLES);
        assert_eq!(
            tables.footprint("SELECT team FROM memberships WHERE user_id = $1 FOR UPDATE"),
            Some(table(Access::Write, "memberships"))
        );
        assert_eq!(tables.footprint("BEGIN"), None);
        assert_eq!(tables.footprint("PRAGMA busy_timeout = 0"), None);
        assert_eq!(tables.footprint("DELETE FROM nowhere"), None);
    }

    #[test]
    fn views_triggers_and_foreign_keys_touch_tables_unnamed() {
        const WITH_VIEW: &[&str] = &[
            "CREATE TABLE memberships (team TEXT, user_id TEXT)",
            "CREATE VIEW teams AS SELECT team FROM memberships",
        ];
        assert_eq!(schema(WITH_VIEW).footprint("SELECT * FROM teams"), None);
        const WITH_KEY: &[&str] = &[
            "CREATE TABLE teams (name TEXT PRIMARY KEY)",
            "CREATE TABLE users (id TEXT PRIMARY KEY, team TEXT REFERENCES teams (name))",
        ];
        let tables = schema(WITH_KEY);
        assert_eq!(tables.footprint("UPDATE users SET team = 'a'"), None);
        assert_eq!(
            tables.footprint("SELECT team FROM users"),
            Some(table(Access::Read, "users"))
        );
    }
}
