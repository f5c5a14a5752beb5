//! Which relation a `SELECT` loads, and how, read from the SQL an ORM generates for it.
//!
//! SeaORM knows the relation only while it builds a statement; what reaches the connection is
//! SQL. Each of its loaders writes a recognisable shape, and the join or filter condition names
//! the foreign key, which names the relationship:
//! - lazy (`model.find_related(..)`): the loaded table joined to the parent's, filtered on one
//!   parent key: `FROM messages INNER JOIN agents ON agents.id = messages.agent_id
//!   WHERE agents.id = ?`;
//! - joined (`find_also_related`, `find_with_related`, the entity loader's joins): the columns
//!   of both sides aliased `A_..`, `B_..`, the related table `LEFT JOIN`ed;
//! - select-in (`load_one`, `load_many`, `load_many_to_many`, the entity loader's other
//!   relations): one filter `key IN (..)` over many parents.
//!
//! The relationship key is `{parent}.{loaded}`: the foreign key's name without `_id` and the
//! other side's table (`agent_id` → `agent.messages` for an agent's messages; `messages.agent`
//! for a message's agent), the same for every loader of one relation.

use std::borrow::Cow;
use std::sync::Arc;

use crate::metrics::bound::kept_text;

use super::super::summary::{Token, find_top_level, keyword, name_at, tokenize};

/// How a relation was loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoaderType {
    /// One statement per parent, when the relation is first asked for.
    Lazy,
    /// In the parent's statement, joined.
    Joined,
    /// One statement for many parents, `IN (..)` their keys.
    SelectIn,
}

impl LoaderType {
    /// `db.orm.loader.type`: `lazy`, `joined`, `selectin` (the original's names).
    pub fn as_str(self) -> &'static str {
        match self {
            LoaderType::Lazy => "lazy",
            LoaderType::Joined => "joined",
            LoaderType::SelectIn => "selectin",
        }
    }
}

/// A relation load read from a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Load {
    /// How it is loaded.
    pub loader: LoaderType,
    /// `{parent}.{loaded}`, e.g. `agent.messages` (shared: every load's span holds it).
    pub relationship: Arc<str>,
    /// The table of the loaded entity (shared).
    pub entity: Arc<str>,
    /// The span's name, `load {relationship}`, kept for the life of the process (at most 1,024
    /// names; past that each load copies its own).
    pub span_name: Cow<'static, str>,
}

impl Load {
    fn new(loader: LoaderType, relationship: String, entity: &str) -> Self {
        let span_name = kept_text("load span name", relationship.as_str(), || {
            format!("load {relationship}")
        });
        Load {
            loader,
            relationship: relationship.into(),
            entity: entity.into(),
            span_name,
        }
    }
}

/// A column as written, `table.column` or `column`.
struct Column {
    table: Option<String>,
    name: String,
}

impl Column {
    fn parse(qualified: &str) -> Self {
        match qualified.rsplit_once('.') {
            Some((table, name)) => Column {
                table: Some(table.rsplit('.').next().unwrap_or(table).to_owned()),
                name: name.to_owned(),
            },
            None => Column {
                table: None,
                name: qualified.to_owned(),
            },
        }
    }

    /// The entity a foreign key names: `agent_id` → `agent`.
    fn referenced(&self) -> Option<&str> {
        self.name
            .strip_suffix("_id")
            .or_else(|| self.name.strip_suffix("Id"))
            .filter(|name| !name.is_empty())
    }

    fn is_key(&self) -> bool {
        self.name.eq_ignore_ascii_case("id")
    }
}

/// The relation load `sql` is, if it is one.
pub fn classify(sql: &str) -> Option<Load> {
    let tokens = tokenize(sql);
    if keyword(tokens.first()).as_deref() != Some("SELECT") {
        return None;
    }
    let from = find_top_level(&tokens, 0, "FROM")?;
    let (table, after_from) = name_at(&tokens, from + 1)?;
    let table = Column::parse(&format!("{table}.x")).table.unwrap_or(table);
    let filter = find_top_level(&tokens, after_from, "WHERE");
    let end_of_joins = filter
        .or_else(|| find_top_level(&tokens, after_from, "ORDER"))
        .or_else(|| find_top_level(&tokens, after_from, "LIMIT"))
        .unwrap_or(tokens.len());
    let joins = joins(&tokens[after_from..end_of_joins]);
    if aliased_pairs(&tokens[1..from]) {
        let (joined, on) = joins.first()?;
        return joined_load(&table, joined, on);
    }
    let filter = filter?;
    let condition = &tokens[filter + 1..];
    if let Some(column) = in_filter(condition) {
        let relationship = match column.referenced() {
            Some(parent) => format!("{parent}.{table}"),
            None => table.clone(),
        };
        return Some(Load::new(LoaderType::SelectIn, relationship, &table));
    }
    let parent = equality_filter(condition)?;
    let parent_table = parent.table?;
    if parent_table == table {
        return None;
    }
    let (_, on) = joins.iter().find(|(joined, _)| *joined == parent_table)?;
    let relationship = relationship_of(&table, &parent_table, on)?;
    Some(Load::new(LoaderType::Lazy, relationship, &table))
}

/// The `JOIN`s of a `FROM` clause: each joined table and its `ON` condition's two columns.
fn joins(tokens: &[Token]) -> Vec<(String, Option<(Column, Column)>)> {
    let mut joins = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if keyword(tokens.get(i)).as_deref() == Some("JOIN") {
            if let Some((name, next)) = name_at(tokens, i + 1) {
                let table = Column::parse(&format!("{name}.x")).table.unwrap_or(name);
                let on = (keyword(tokens.get(next)).as_deref() == Some("ON"))
                    .then(|| equality(&tokens[next + 1..]))
                    .flatten();
                joins.push((table, on));
                i = next;
                continue;
            }
        }
        i += 1;
    }
    joins
}

/// `a = b` at the start of `tokens`, both columns (parentheses around either skipped).
fn equality(tokens: &[Token]) -> Option<(Column, Column)> {
    let (left, next) = column_at(tokens, 0)?;
    if tokens.get(next) != Some(&Token::Punct('=')) {
        return None;
    }
    let (right, _) = column_at(tokens, next + 1)?;
    Some((left, right))
}

fn column_at(tokens: &[Token], mut i: usize) -> Option<(Column, usize)> {
    let mut open = 0;
    while tokens.get(i) == Some(&Token::Punct('(')) {
        open += 1;
        i += 1;
    }
    let (name, mut next) = name_at(tokens, i)?;
    while open > 0 && tokens.get(next) == Some(&Token::Punct(')')) {
        open -= 1;
        next += 1;
    }
    Some((Column::parse(&name), next))
}

/// The column of a `column IN (..)` filter (`(column) IN ((..), (..))` as PostgreSQL gets it).
fn in_filter(condition: &[Token]) -> Option<Column> {
    let (column, next) = column_at(condition, 0)?;
    (keyword(condition.get(next)).as_deref() == Some("IN")).then_some(column)
}

/// The column of a `table.column = ?` filter on one value.
fn equality_filter(condition: &[Token]) -> Option<Column> {
    let (column, next) = column_at(condition, 0)?;
    if condition.get(next) != Some(&Token::Punct('=')) {
        return None;
    }
    matches!(condition.get(next + 1), Some(Token::Param | Token::Literal)).then_some(column)
}

/// The select list aliases columns in `A_`/`B_` pairs, as SeaORM's joined selects do.
fn aliased_pairs(select_list: &[Token]) -> bool {
    let mut related = false;
    for pair in select_list.windows(2) {
        if keyword(pair.first()).as_deref() == Some("AS") {
            if let Some(Token::Word(alias) | Token::Quoted(alias)) = pair.get(1) {
                related |= alias.starts_with("B_");
            }
        }
    }
    related
}

fn joined_load(table: &str, joined: &str, on: &Option<(Column, Column)>) -> Option<Load> {
    let relationship =
        relationship_of(joined, table, on).or_else(|| Some(format!("{table}.{joined}")))?;
    Some(Load::new(LoaderType::Joined, relationship, joined))
}

/// The relationship by which `parent` reaches `loaded`, from the join condition `on` between
/// them (or between `parent` and a junction table): the foreign key names the side it points to.
fn relationship_of(loaded: &str, parent: &str, on: &Option<(Column, Column)>) -> Option<String> {
    let (left, right) = on.as_ref()?;
    let (parent_side, other) = if left.table.as_deref() == Some(parent) {
        (left, right)
    } else if right.table.as_deref() == Some(parent) {
        (right, left)
    } else {
        return None;
    };
    // The parent holds the foreign key (a message's agent): `messages.agent`.
    if !parent_side.is_key() && other.is_key() {
        if let Some(referenced) = parent_side.referenced() {
            return Some(format!("{parent}.{referenced}"));
        }
    }
    // The loaded side (or a junction) holds it (an agent's messages): `agent.messages`.
    Some(match other.referenced() {
        Some(referenced) => format!("{referenced}.{loaded}"),
        None => format!("{parent}.{loaded}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(sql: &str) -> Option<(LoaderType, String, String)> {
        classify(sql).map(|l| (l.loader, l.relationship.to_string(), l.entity.to_string()))
    }

    fn some(
        loader: LoaderType,
        relationship: &str,
        entity: &str,
    ) -> Option<(LoaderType, String, String)> {
        Some((loader, relationship.to_owned(), entity.to_owned()))
    }

    #[test]
    fn lazy_loads_join_the_parent_and_filter_on_its_key() {
        assert_eq!(
            load(
                r#"SELECT "messages"."id", "messages"."agent_id" FROM "messages" INNER JOIN "agents" ON "agents"."id" = "messages"."agent_id" WHERE "agents"."id" = ?"#
            ),
            some(LoaderType::Lazy, "agent.messages", "messages")
        );
        assert_eq!(
            load(
                r#"SELECT "agents"."id" FROM "agents" INNER JOIN "messages" ON "messages"."agent_id" = "agents"."id" WHERE "messages"."id" = $1"#
            ),
            some(LoaderType::Lazy, "messages.agent", "agents")
        );
        assert_eq!(
            load(
                r#"SELECT "tools"."id" FROM "tools" INNER JOIN "agent_tools" ON "agent_tools"."tool_id" = "tools"."id" INNER JOIN "agents" ON "agents"."id" = "agent_tools"."agent_id" WHERE "agents"."id" = ?"#
            ),
            some(LoaderType::Lazy, "agent.tools", "tools")
        );
    }

    #[test]
    fn joined_loads_alias_both_sides() {
        assert_eq!(
            load(
                r#"SELECT "agents"."id" AS "A_id", "messages"."id" AS "B_id" FROM "agents" LEFT JOIN "messages" ON "agents"."id" = "messages"."agent_id" ORDER BY "agents"."id" ASC"#
            ),
            some(LoaderType::Joined, "agent.messages", "messages")
        );
    }

    #[test]
    fn select_in_loads_filter_on_many_keys() {
        assert_eq!(
            load(
                r#"SELECT "messages"."id" FROM "messages" WHERE "messages"."agent_id" IN (?, ?, ?)"#
            ),
            some(LoaderType::SelectIn, "agent.messages", "messages")
        );
        assert_eq!(
            load(
                r#"SELECT "messages"."id" FROM "messages" WHERE ("messages"."agent_id") IN (($1), ($2))"#
            ),
            some(LoaderType::SelectIn, "agent.messages", "messages")
        );
        assert_eq!(
            load(
                r#"SELECT "tools"."id", "agent_tools"."agent_id" FROM "tools" INNER JOIN "agent_tools" ON "agent_tools"."tool_id" = "tools"."id" WHERE "agent_tools"."agent_id" IN (?, ?)"#
            ),
            some(LoaderType::SelectIn, "agent.tools", "tools")
        );
    }

    #[test]
    fn other_statements_are_no_loads() {
        for sql in [
            r#"SELECT "agents"."id" FROM "agents""#,
            r#"SELECT "agents"."id" FROM "agents" WHERE "agents"."id" = ?"#,
            r#"INSERT INTO "messages" ("id") VALUES (?)"#,
            "UPDATE agents SET name = ? WHERE id = ?",
            "not sql at all",
        ] {
            assert_eq!(load(sql), None, "{sql}");
        }
    }
}
