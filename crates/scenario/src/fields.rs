//! The parser's tools: errors at byte offsets, offsets to line:column, and typed access to
//! TOML tables and values with messages that name the key and what was found.

use toml_edit::{Item, TableLike, Value};

use crate::Loc;

/// A validation failure at a byte offset.
pub(crate) struct Fail {
    pub(crate) at: usize,
    pub(crate) message: String,
}

pub(crate) type R<T> = Result<T, Fail>;

pub(crate) fn fail<T>(at: usize, message: impl Into<String>) -> R<T> {
    Err(Fail { at, message: message.into() })
}

/// Maps byte offsets to 1-based line and character column.
pub(crate) struct LineIndex<'t> {
    pub(crate) text: &'t str,
    /// Byte offset of the start of each line.
    pub(crate) starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub(crate) fn loc(&self, at: usize) -> Loc {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= at).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = self.text.get(start..at).map_or(0, |s| s.chars().count()) + 1;
        Loc { line: to_u32(line), col: to_u32(col) }
    }
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A table (regular or inline) with where it starts and how to name it in messages.
pub(crate) struct Tbl<'a> {
    pub(crate) t: &'a dyn TableLike,
    pub(crate) at: usize,
    pub(crate) what: String,
}

/// A value found under a key.
pub(crate) struct Field<'a> {
    pub(crate) name: &'a str,
    pub(crate) item: &'a Item,
    /// Where the value starts (or its key, when the value has no span).
    pub(crate) at: usize,
}

impl<'a> Tbl<'a> {
    pub(crate) fn key_at(&self, key: &str) -> usize {
        self.t.get_key_value(key).and_then(|(k, _)| k.span()).map_or(self.at, |s| s.start)
    }

    pub(crate) fn opt(&self, name: &'a str) -> Option<Field<'a>> {
        let (key, item) = self.t.get_key_value(name)?;
        if item.is_none() {
            return None;
        }
        let key_at = key.span().map_or(self.at, |s| s.start);
        Some(Field { name, item, at: item.span().map_or(key_at, |s| s.start) })
    }

    pub(crate) fn req(&self, name: &'a str) -> R<Field<'a>> {
        match self.opt(name) {
            Some(f) => Ok(f),
            None => fail(self.at, format!("{} is missing key `{name}`", self.what)),
        }
    }

    pub(crate) fn check_keys(&self, allowed: &[&str]) -> R<()> {
        for (k, _) in self.t.iter() {
            if !allowed.contains(&k) {
                return fail(
                    self.key_at(k),
                    format!("unknown key {} in {} (expected one of: {})", key_text(k), self.what, allowed.join(", ")),
                );
            }
        }
        Ok(())
    }
}

impl<'a> Field<'a> {
    pub(crate) fn int(&self) -> R<u64> {
        match self.item.as_value() {
            Some(Value::Integer(i)) => {
                let v = *i.value();
                u64::try_from(v).or_else(|_| fail(self.at, format!("`{}` must not be negative, found {v}", self.name)))
            }
            _ => fail(self.at, format!("`{}`: expected an integer, found {}", self.name, item_desc(self.item))),
        }
    }

    pub(crate) fn boolean(&self) -> R<bool> {
        match self.item.as_value() {
            Some(Value::Boolean(b)) => Ok(*b.value()),
            _ => fail(self.at, format!("`{}`: expected true or false, found {}", self.name, item_desc(self.item))),
        }
    }

    pub(crate) fn string(&self) -> R<&'a str> {
        match self.item.as_value() {
            Some(Value::String(s)) => Ok(s.value().as_str()),
            _ => fail(self.at, format!("`{}`: expected a string, found {}", self.name, item_desc(self.item))),
        }
    }

    pub(crate) fn table(&self, what: &str) -> R<Tbl<'a>> {
        match self.item.as_table_like() {
            Some(t) => Ok(Tbl { t, at: self.at, what: what.to_string() }),
            None => fail(self.at, format!("`{}`: expected a table, found {}", self.name, item_desc(self.item))),
        }
    }

    /// The tables of an array of tables (`[[x]]`) or of an array of inline tables (`x = [{...}]`).
    pub(crate) fn tables(&self) -> R<Vec<(&'a dyn TableLike, usize)>> {
        match self.item {
            Item::ArrayOfTables(a) => {
                Ok(a.iter().map(|t| (t as &dyn TableLike, t.span().map_or(self.at, |s| s.start))).collect())
            }
            Item::Value(Value::Array(array)) => {
                let mut out = Vec::with_capacity(array.len());
                for v in array.iter() {
                    let at = v.span().map_or(self.at, |s| s.start);
                    match v {
                        Value::InlineTable(t) => out.push((t as &dyn TableLike, at)),
                        other => {
                            return fail(at, format!("`{}`: expected a table, found {}", self.name, value_desc(other)))
                        }
                    }
                }
                Ok(out)
            }
            Item::Table(_) => fail(
                self.at,
                format!("`{0}`: expected an array of tables, found a table (write [[{0}]] for each entry)", self.name),
            ),
            other => fail(self.at, format!("`{}`: expected an array of tables, found {}", self.name, item_desc(other))),
        }
    }
}

pub(crate) fn item_desc(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(v) => value_desc(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

pub(crate) fn value_desc(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}

/// toml_edit messages may span lines; keep ours on one.
pub(crate) fn one_line(message: &str) -> String {
    message.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ")
}

/// A key as it appears in a one-line message: backquoted, or Rust-escaped if it holds
/// characters that would break the line (a quoted TOML key may contain a newline).
pub(crate) fn key_text(k: &str) -> String {
    if k.chars().all(|c| !c.is_control() && c != '`') {
        format!("`{k}`")
    } else {
        format!("{k:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(crate) fn line_index_counts_chars() {
        let text = "ab\nçé x\n\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.loc(0), Loc { line: 1, col: 1 });
        assert_eq!(idx.loc(2), Loc { line: 1, col: 3 });
        assert_eq!(idx.loc(3), Loc { line: 2, col: 1 });
        // 'ç' and 'é' are two bytes each; 'x' is at byte 8, character column 4.
        assert_eq!(idx.loc(8), Loc { line: 2, col: 4 });
        // Inside a multi-byte character: snaps back to its start.
        assert_eq!(idx.loc(4), Loc { line: 2, col: 1 });
        assert_eq!(idx.loc(text.len()), Loc { line: 4, col: 1 });
        assert_eq!(idx.loc(usize::MAX), Loc { line: 4, col: 1 });
        assert_eq!(LineIndex::new("").loc(5), Loc { line: 1, col: 1 });
    }

    #[test]
    pub(crate) fn one_line_joins() {
        assert_eq!(one_line("invalid key\nexpected `=`\n"), "invalid key; expected `=`");
    }
}
