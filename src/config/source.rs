//! Source files, byte spans → line/column, the error sink, and a small walker
//! over `toml::de::DeTable` that reports wrong types, unknown and missing keys
//! with their positions. Knows TOML values, not the mspform schema.

use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use crate::model::{SecretRef, SecretRule, SecretUse};

use super::error::ConfigError;
use super::text::{closest, describe_char, did_you_mean, forbidden_char, join_key, list};

/// One configuration file: its path, text and line starts.
#[derive(Debug)]
pub struct SourceFile {
    /// Position of the file in load order; orders "first" and "second" definitions.
    pub index: usize,
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(index: usize, path: PathBuf, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            index,
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line.saturating_sub(1)];
        let column = self.text[start..offset].chars().count() + 1;
        (line.max(1), column)
    }

    /// `path:line:col` of a byte offset, for messages naming another place.
    pub fn place(&self, offset: usize) -> String {
        let (line, column) = self.line_col(offset);
        format!("{}:{line}:{column}", self.path.display())
    }

    /// The directory relative file references are resolved against.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new(""))
    }
}

/// Collects every error of one load, and every secret reference with its place.
#[derive(Debug, Default)]
pub struct Sink {
    pub errors: Vec<ConfigError>,
    /// "missing required key" errors: (index in `errors`, table path, key).
    missing: Vec<(usize, String, String)>,
    /// Unknown keys whose suggestion is a known key: (table path, suggested key).
    suggested: Vec<(String, String)>,
    pub secrets: Vec<SecretUse>,
}

impl Sink {
    /// An error at byte offset `offset` of `src`.
    pub fn at(
        &mut self,
        src: &SourceFile,
        offset: usize,
        key: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) {
        let (line, column) = src.line_col(offset);
        self.errors.push(ConfigError {
            file: src.path.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
            help,
            also: Vec::new(),
        });
    }

    /// An error about a whole file (it cannot be read, or holds nothing).
    pub fn file(&mut self, path: &Path, message: impl Into<String>, help: Option<String>) {
        self.errors.push(ConfigError {
            file: path.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message: message.into(),
            help,
            also: Vec::new(),
        });
    }

    /// Records a secret reference made at `node`.
    pub fn secret(
        &mut self,
        node: &Node<'_>,
        reference: SecretRef,
        rule: Option<SecretRule>,
        demo: Option<&'static str>,
    ) {
        let (line, column) = node.src.line_col(node.value_start());
        self.secrets.push(SecretUse {
            reference,
            file: node.src.path.clone(),
            line,
            column,
            key: node.path.clone(),
            rule,
            demo,
        });
    }

    /// Sorted by file, line and column, identical errors folded; a required key
    /// that is missing because it is misspelt is reported once, as the unknown
    /// key with its suggestion, not also as missing.
    pub fn into_sorted(self) -> Vec<ConfigError> {
        let Sink {
            errors,
            missing,
            suggested,
            ..
        } = self;
        let misspelt: std::collections::BTreeSet<usize> = missing
            .into_iter()
            .filter(|(_, table, key)| suggested.iter().any(|(t, k)| t == table && k == key))
            .map(|(i, _, _)| i)
            .collect();
        let errors = errors
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !misspelt.contains(i))
            .map(|(_, e)| e)
            .collect();
        super::error::ConfigErrors::new(errors).0
    }
}

/// "a string", "an integer", … for type errors.
pub fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// A value in a file with its dotted key path and the span of the key naming it.
#[derive(Clone)]
pub struct Node<'a> {
    pub src: &'a SourceFile,
    /// The key as written (empty for array elements).
    pub name: &'a str,
    pub path: String,
    /// The span of the key (or, for array elements, of the element).
    pub key_span: Range<usize>,
    pub value: &'a Spanned<DeValue<'a>>,
}

impl<'a> Node<'a> {
    pub fn new(
        src: &'a SourceFile,
        parent_path: &str,
        key: &'a Spanned<DeString<'a>>,
        value: &'a Spanned<DeValue<'a>>,
    ) -> Self {
        Node {
            src,
            name: key.get_ref().as_ref(),
            path: join_key(parent_path, key.get_ref()),
            key_span: key.span(),
            value,
        }
    }

    /// Position in load order, for "defined first" decisions.
    pub fn position(&self) -> (usize, usize) {
        (self.src.index, self.key_span.start)
    }

    /// Where the key is, as `file:line:col`.
    pub fn place(&self) -> String {
        self.src.place(self.key_span.start)
    }

    pub fn value_start(&self) -> usize {
        self.value.span().start
    }

    /// An error at the key naming this value.
    pub fn error_at_key(&self, sink: &mut Sink, message: impl Into<String>, help: Option<String>) {
        sink.at(self.src, self.key_span.start, &self.path, message, help);
    }

    /// An error at the value itself.
    pub fn error(&self, sink: &mut Sink, message: impl Into<String>, help: Option<String>) {
        sink.at(self.src, self.value_start(), &self.path, message, help);
    }

    pub fn type_error(&self, sink: &mut Sink, expected: &str, help: Option<String>) {
        let found = type_name(self.value.get_ref());
        let help = help.or_else(|| Some(format!("give `{}` {expected}", self.last_key())));
        self.error(sink, format!("expected {expected}, found {found}"), help);
    }

    /// The key naming this value, for help texts (the array's key for elements).
    pub fn last_key(&self) -> &str {
        if self.name.is_empty() {
            let base = self.path.split('[').next().unwrap_or(&self.path);
            base.rsplit('.').next().unwrap_or(base)
        } else {
            self.name
        }
    }

    /// A string without control characters (see [`forbidden_char`]): every
    /// string of the configuration is a name, an address, a reference or a
    /// value sent to a vendor, and none of them may hold one.
    pub fn string(&self, sink: &mut Sink) -> Option<&'a str> {
        match self.value.get_ref() {
            DeValue::String(s) => {
                let s: &'a str = s.as_ref();
                if let Some((at, c)) = forbidden_char(s) {
                    self.error(
                        sink,
                        format!(
                            "contains the control character {} at character {at}",
                            describe_char(c)
                        ),
                        Some(format!(
                            "remove it from `{}`: newlines, tabs, escape sequences and other control or invisible characters are not accepted in values (they would reach the vendor as written)",
                            self.last_key()
                        )),
                    );
                    return None;
                }
                Some(s)
            }
            _ => {
                self.type_error(sink, "a string", None);
                None
            }
        }
    }

    /// A string that is not empty (nor only white space).
    pub fn nonempty_string(&self, sink: &mut Sink) -> Option<&'a str> {
        let s = self.string(sink)?;
        if s.trim().is_empty() {
            self.error(
                sink,
                "must not be empty",
                Some(format!(
                    "give `{}` a value, e.g. {} = \"…\"",
                    self.last_key(),
                    self.last_key()
                )),
            );
            return None;
        }
        Some(s)
    }

    pub fn boolean(&self, sink: &mut Sink) -> Option<bool> {
        match self.value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.type_error(
                    sink,
                    "a boolean",
                    Some(format!(
                        "write {} = true or {} = false",
                        self.last_key(),
                        self.last_key()
                    )),
                );
                None
            }
        }
    }

    /// An integer within `range` (inclusive).
    pub fn integer_in(&self, sink: &mut Sink, range: RangeInclusive<i64>) -> Option<i64> {
        let DeValue::Integer(i) = self.value.get_ref() else {
            self.type_error(sink, "an integer", None);
            return None;
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if range.contains(&n) => Some(n),
            _ => {
                self.error(
                    sink,
                    format!("must be between {} and {}", range.start(), range.end()),
                    Some(format!(
                        "set `{}` to an integer from {} to {}, or remove it to use the default",
                        self.last_key(),
                        range.start(),
                        range.end()
                    )),
                );
                None
            }
        }
    }

    /// A float or integer within `range` (inclusive).
    pub fn number_in(&self, sink: &mut Sink, range: RangeInclusive<f64>) -> Option<f64> {
        let n = match self.value.get_ref() {
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            _ => {
                self.type_error(sink, "a number", None);
                return None;
            }
        };
        match n {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.error(
                    sink,
                    format!("must be between {} and {}", range.start(), range.end()),
                    Some(format!(
                        "set `{}` to a number from {} to {}",
                        self.last_key(),
                        range.start(),
                        range.end()
                    )),
                );
                None
            }
        }
    }

    /// The elements of an array.
    pub fn array(&self, sink: &mut Sink) -> Option<Vec<Node<'a>>> {
        let DeValue::Array(items) = self.value.get_ref() else {
            self.type_error(
                sink,
                "an array",
                Some(format!("write {} = [\"…\"]", self.last_key())),
            );
            return None;
        };
        Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| Node {
                    src: self.src,
                    name: "",
                    path: format!("{}[{i}]", self.path),
                    key_span: item.span(),
                    value: item,
                })
                .collect(),
        )
    }

    /// A table, checked for unknown keys against `allowed`.
    pub fn table(&self, sink: &mut Sink, allowed: &'static [&'static str]) -> Option<Table<'a>> {
        let table = self.table_any(sink)?;
        table.check_unknown(sink, allowed);
        Some(table)
    }

    /// A table whose keys are names chosen by the user (no unknown-key check).
    pub fn table_any(&self, sink: &mut Sink) -> Option<Table<'a>> {
        match self.value.get_ref() {
            DeValue::Table(table) => Some(Table {
                src: self.src,
                path: self.path.clone(),
                key_span: self.key_span.clone(),
                table,
            }),
            _ => {
                self.type_error(sink, "a table", None);
                None
            }
        }
    }
}

/// A table in a file, with the span of the key (or header key) naming it.
#[derive(Clone)]
pub struct Table<'a> {
    pub src: &'a SourceFile,
    pub path: String,
    pub key_span: Range<usize>,
    pub table: &'a DeTable<'a>,
}

impl<'a> Table<'a> {
    /// Every entry, as nodes.
    pub fn entries(&self) -> Vec<Node<'a>> {
        self.table
            .iter()
            .map(|(k, v)| Node::new(self.src, &self.path, k, v))
            .collect()
    }

    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.table
            .get_key_value(key)
            .map(|(k, v)| Node::new(self.src, &self.path, k, v))
    }

    /// A required entry; when it is missing, an error points at this table's key.
    pub fn required(&self, sink: &mut Sink, key: &str, example: &str) -> Option<Node<'a>> {
        let node = self.get(key);
        if node.is_none() {
            self.missing(sink, key, example);
        }
        node
    }

    /// Reports that `key` is missing (at this table's key). When an unknown key
    /// of this table is reported with `key` as its suggestion, this error is
    /// dropped: the misspelling is the one error.
    pub fn missing(&self, sink: &mut Sink, key: &str, example: &str) {
        sink.missing
            .push((sink.errors.len(), self.path.clone(), key.to_string()));
        sink.at(
            self.src,
            self.key_span.start,
            &join_key(&self.path, key),
            format!("missing required key `{key}`"),
            Some(format!("add {example} to `{}`", self.path)),
        );
    }

    pub fn check_unknown(&self, sink: &mut Sink, allowed: &[&str]) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if allowed.contains(&name) {
                continue;
            }
            let help = format!(
                "{}allowed keys here: {}",
                did_you_mean(name, allowed.iter().copied()),
                list(allowed.iter().copied())
            );
            self.unknown(sink, key, Some(help), allowed);
        }
    }

    /// For a table whose schema is not known (its provider type is unknown):
    /// reports only the keys that look like misspellings of `expected` keys.
    pub fn check_misspelt(&self, sink: &mut Sink, expected: &[&str]) {
        for (key, _) in self.table.iter() {
            let name: &str = key.get_ref();
            if expected.contains(&name) {
                continue;
            }
            if let Some(near) = closest(name, expected.iter().copied()) {
                self.unknown(sink, key, Some(format!("did you mean `{near}`?")), expected);
            }
        }
    }

    fn unknown(
        &self,
        sink: &mut Sink,
        key: &Spanned<DeString<'_>>,
        help: Option<String>,
        allowed: &[&str],
    ) {
        let name: &str = key.get_ref();
        if let Some(near) = closest(name, allowed.iter().copied()) {
            sink.suggested.push((self.path.clone(), near.to_string()));
        }
        sink.at(
            self.src,
            key.span().start,
            &join_key(&self.path, name),
            format!("unknown key `{name}`"),
            help,
        );
    }

    pub fn nonempty_string(&self, sink: &mut Sink, key: &str, example: &str) -> Option<&'a str> {
        self.required(sink, key, example)?.nonempty_string(sink)
    }

    /// An optional non-empty string.
    pub fn opt_nonempty_string(&self, sink: &mut Sink, key: &str) -> Option<&'a str> {
        self.get(key)?.nonempty_string(sink)
    }
}

/// Whether a repeated entry of a string list is an error or silently dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Repeats {
    Error,
    Drop,
}

/// A list of non-empty strings with their nodes, in file order (repeats dropped
/// or reported at the repeat). Invalid elements are reported and left out, so
/// the valid ones can still be checked.
pub fn string_list<'a>(
    node: &Node<'a>,
    sink: &mut Sink,
    repeats: Repeats,
) -> Option<Vec<(String, Node<'a>)>> {
    let mut out: Vec<(String, Node<'a>)> = Vec::new();
    for item in node.array(sink)? {
        let Some(s) = item.nonempty_string(sink) else {
            continue;
        };
        if let Some((_, first)) = out.iter().find(|(seen, _)| seen == s) {
            if repeats == Repeats::Error {
                item.error(
                    sink,
                    format!("`{s}` is listed twice (first at {})", first.place()),
                    Some(format!(
                        "remove the second `{s}` from `{}`",
                        node.last_key()
                    )),
                );
            }
            continue;
        }
        out.push((s.to_string(), item));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(0, PathBuf::from("a.toml"), text.to_string())
    }

    #[test]
    fn spans_become_one_based_lines_and_character_columns() {
        let f = file("ab\ncd\r\né = 1\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(1), (1, 2));
        assert_eq!(f.line_col(2), (1, 3));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 3));
        assert_eq!(f.line_col(7), (3, 1));
        // 'é' is two bytes but one column.
        assert_eq!(f.line_col(9), (3, 2));
        // Inside a multi-byte character: rounds down.
        assert_eq!(f.line_col(8), (3, 1));
        // End of file, and beyond.
        assert_eq!(f.line_col(f.text.len()), (4, 1));
        assert_eq!(f.line_col(1000), (4, 1));
        assert_eq!(file("").line_col(0), (1, 1));
        assert_eq!(f.place(3), "a.toml:2:1");
    }

    #[test]
    fn sink_sorts_by_file_line_column() {
        let a = file("x\ny\n");
        let b = SourceFile::new(1, PathBuf::from("b.toml"), "z".to_string());
        let mut sink = Sink::default();
        sink.at(&b, 0, "k", "m3", None);
        sink.at(&a, 2, "k", "m2", None);
        sink.at(&a, 0, "k", "m1", None);
        sink.at(&a, 0, "k", "m1", None);
        let messages: Vec<String> = sink.into_sorted().into_iter().map(|e| e.message).collect();
        assert_eq!(messages, ["m1", "m2", "m3"]);
    }
}
