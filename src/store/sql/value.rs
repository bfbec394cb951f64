//! Values a statement takes and rows it returns, and parameters written into a statement.
//!
//! Both databases run the statement with its parameters written in as literals: the trace then
//! shows exactly what ran, and one text serves SQLite and PostgreSQL alike (SQLite reads `$1`
//! as a named parameter, numbered by first appearance, which would swap `$2, $1`).

use joincheck_models::domain::{TeamId, UserId};
use std::fmt;

/// A value of a column or a parameter: text, a whole number, or `NULL`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A whole number.
    Int(i64),
    /// Text.
    Text(String),
}

impl Value {
    /// The value as an SQL literal: `'sue'` (quotes doubled inside), `3`, `NULL`.
    pub fn literal(&self) -> String {
        match self {
            Value::Null => "NULL".to_string(),
            Value::Int(number) => number.to_string(),
            Value::Text(text) => format!("'{}'", text.replace('\'', "''")),
        }
    }

    /// The text, if the value is text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The whole number, if the value is one (PostgreSQL answers in text: `'3'` reads as 3).
    pub fn int(&self) -> Option<i64> {
        match self {
            Value::Int(number) => Some(*number),
            Value::Text(text) => text.parse().ok(),
            Value::Null => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(number) => write!(f, "{number}"),
            Value::Text(text) => f.write_str(text),
        }
    }
}

/// A user is stored by name: `'sue'`.
impl From<UserId> for Value {
    fn from(user: UserId) -> Value {
        Value::Text(user.to_string())
    }
}

/// A team is stored by name: `'team-A'`.
impl From<TeamId> for Value {
    fn from(team: TeamId) -> Value {
        Value::Text(team.to_string())
    }
}

/// No team is `NULL`.
impl From<Option<TeamId>> for Value {
    fn from(team: Option<TeamId>) -> Value {
        team.map_or(Value::Null, Value::from)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Value {
        Value::Int(number)
    }
}

impl From<u64> for Value {
    fn from(number: u64) -> Value {
        Value::Int(i64::try_from(number).unwrap_or(i64::MAX))
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Value {
        Value::Text(text.to_string())
    }
}

impl From<String> for Value {
    fn from(text: String) -> Value {
        Value::Text(text)
    }
}

/// One row a query returned, column by column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Row(pub Vec<Value>);

impl Row {
    /// Column `index`, `NULL` past the last.
    pub fn get(&self, index: usize) -> &Value {
        self.0.get(index).unwrap_or(&Value::Null)
    }

    /// Column `index` as text.
    pub fn text(&self, index: usize) -> Option<&str> {
        self.get(index).text()
    }

    /// Column `index` as a whole number.
    pub fn int(&self, index: usize) -> Option<i64> {
        self.get(index).int()
    }

    /// Column `index` as a user, by name.
    pub fn user(&self, index: usize) -> Option<UserId> {
        self.text(index).and_then(UserId::parse)
    }

    /// Column `index` as a team, by name.
    pub fn team(&self, index: usize) -> Option<TeamId> {
        self.text(index).and_then(TeamId::parse)
    }
}

/// `sql` with `$1`, `$2`, … replaced by the literals of `params`, leaving quoted text,
/// quoted names and comments alone; an error names a parameter that was not given.
pub fn write_in(sql: &str, params: &[Value]) -> Result<String, String> {
    let mut written = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                written.push(c);
                for (_, inner) in chars.by_ref() {
                    written.push(inner);
                    if inner == c {
                        break;
                    }
                }
            }
            '-' if sql[at..].starts_with("--") => {
                written.push(c);
                for (_, inner) in chars.by_ref() {
                    written.push(inner);
                    if inner == '\n' {
                        break;
                    }
                }
            }
            '$' if chars.peek().is_some_and(|(_, next)| next.is_ascii_digit()) => {
                let mut digits = String::new();
                while let Some((_, digit)) = chars.next_if(|(_, next)| next.is_ascii_digit()) {
                    digits.push(digit);
                }
                let index: usize = digits.parse().map_err(|_| format!("${digits}"))?;
                let value = index
                    .checked_sub(1)
                    .and_then(|index| params.get(index))
                    .ok_or_else(|| {
                        format!(
                            "the statement uses ${index} but {} parameter{} given",
                            params.len(),
                            if params.len() == 1 { " was" } else { "s were" }
                        )
                    })?;
                written.push_str(&value.literal());
            }
            _ => written.push(c),
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_written_in_by_number_wherever_they_stand() {
        let params = [Value::from(UserId(0)), Value::from(TeamId(1))];
        let sql = "INSERT INTO memberships (team, user_id) SELECT $2, $1 \
                   WHERE NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = $1)";
        assert_eq!(
            write_in(sql, &params).unwrap(),
            "INSERT INTO memberships (team, user_id) SELECT 'team-B', 'sue' \
             WHERE NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = 'sue')"
        );
    }

    #[test]
    fn quoted_text_names_and_comments_keep_their_dollars() {
        let params = [Value::Int(7)];
        let sql = "SELECT '$1', \"$1\", $1 -- $1\nFROM t";
        assert_eq!(
            write_in(sql, &params).unwrap(),
            "SELECT '$1', \"$1\", 7 -- $1\nFROM t"
        );
    }

    #[test]
    fn quotes_inside_text_are_doubled_and_missing_parameters_named() {
        assert_eq!(Value::from("o'brien").literal(), "'o''brien'");
        assert_eq!(Value::Null.literal(), "NULL");
        assert_eq!(
            write_in("SELECT $2", &[Value::Int(1)]).unwrap_err(),
            "the statement uses $2 but 1 parameter was given"
        );
    }

    #[test]
    fn rows_read_users_teams_and_numbers_in_either_databases_form() {
        let row = Row(vec![
            Value::from("sue"),
            Value::from("team-B"),
            Value::from("3"),
            Value::Int(4),
        ]);
        assert_eq!(row.user(0), Some(UserId(0)));
        assert_eq!(row.team(1), Some(TeamId(1)));
        assert_eq!(
            (row.int(2), row.int(3), row.int(9)),
            (Some(3), Some(4), None)
        );
    }
}
