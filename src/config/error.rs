//! The error types of the configuration loader: one located error, and the list
//! of all errors found in one pass (sorted, and identical errors folded into one
//! that lists every place). Pure data and formatting.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

/// At most this many further places are listed under a folded error.
const MAX_ALSO: usize = 20;

/// One problem in the configuration, located at a file, line and column.
///
/// `line` and `column` are 1-based (the column counts characters). A `line` of 0
/// means the error concerns the whole file (it could not be read, for instance);
/// an empty `key` means no key is involved (a TOML syntax error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// Dotted key path, e.g. `customers.acme.sites.hq.address.city`.
    pub key: String,
    pub message: String,
    pub help: Option<String>,
    /// The same message (and help) at other places, e.g. one misspelt licence
    /// name used by eight devices: one error, the other seven places here.
    pub also: Vec<Place>,
}

/// Another place of a folded error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", clean(&self.file.display().to_string()))?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, " ({})", clean(&self.key))?;
        }
        Ok(())
    }
}

/// Control characters (and the invisible ones that reorder or break lines) are
/// shown escaped, so a hostile file cannot write escape sequences to a terminal
/// through an error message that quotes it.
fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(super::text::is_forbidden_char) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if super::text::is_forbidden_char(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", clean(&self.file.display().to_string()))?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        f.write_str(": ")?;
        if !self.key.is_empty() {
            write!(f, "{}: ", clean(&self.key))?;
        }
        f.write_str(&clean(&self.message))?;
        if !self.also.is_empty() {
            let shown: Vec<String> = self
                .also
                .iter()
                .take(MAX_ALSO)
                .map(Place::to_string)
                .collect();
            write!(f, "\n  also at: {}", shown.join(", "))?;
            if self.also.len() > MAX_ALSO {
                write!(f, " and {} more", self.also.len() - MAX_ALSO)?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {}", clean(help))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Every error found in the configuration, sorted by file, line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Sorts by file, line and column, drops exact repeats, and folds errors
    /// with the same message and help into the first, listing the other places.
    pub fn new(mut errors: Vec<ConfigError>) -> Self {
        errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
        errors.dedup();
        let mut out: Vec<ConfigError> = Vec::with_capacity(errors.len());
        let mut first: std::collections::HashMap<(String, Option<String>), usize> =
            Default::default();
        for error in errors {
            let id = (error.message.clone(), error.help.clone());
            match first.get(&id) {
                Some(&i) => {
                    out[i].also.push(Place {
                        file: error.file,
                        line: error.line,
                        column: error.column,
                        key: error.key,
                    });
                    out[i].also.extend(error.also);
                }
                None => {
                    first.insert(id, out.len());
                    out.push(error);
                }
            }
        }
        ConfigErrors(out)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for error in &self.0 {
            writeln!(f, "{error}\n")?;
        }
        let n = self.0.len();
        let noun = if n == 1 { "error" } else { "errors" };
        write!(
            f,
            "{n} {noun} in the configuration; no vendor call was made."
        )
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(file: &str, line: usize, key: &str, message: &str) -> ConfigError {
        ConfigError {
            file: file.into(),
            line,
            column: 3,
            key: key.into(),
            message: message.into(),
            help: Some("fix it".into()),
            also: Vec::new(),
        }
    }

    #[test]
    fn identical_errors_fold_into_the_first_listing_the_other_places() {
        let errors = ConfigErrors::new(vec![
            error("b.toml", 2, "devices.B.licenses[0]", "unknown licence `X`"),
            error("a.toml", 9, "customers.a.name", "must not be empty"),
            error("a.toml", 5, "devices.A.licenses[0]", "unknown licence `X`"),
            error("c.toml", 1, "devices.C.licenses[0]", "unknown licence `X`"),
        ]);
        assert_eq!(errors.len(), 2, "{errors}");
        let first = &errors.0[0];
        assert_eq!(
            (first.line, first.key.as_str()),
            (5, "devices.A.licenses[0]")
        );
        let also: Vec<String> = first.also.iter().map(Place::to_string).collect();
        assert_eq!(
            also,
            [
                "b.toml:2:3 (devices.B.licenses[0])",
                "c.toml:1:3 (devices.C.licenses[0])"
            ]
        );
        assert_eq!(
            first.to_string(),
            "a.toml:5:3: devices.A.licenses[0]: unknown licence `X`\n  also at: b.toml:2:3 (devices.B.licenses[0]), c.toml:1:3 (devices.C.licenses[0])\n  help: fix it"
        );
        assert!(
            errors
                .to_string()
                .ends_with("\n2 errors in the configuration; no vendor call was made.")
        );
        // A different help is a different error.
        let mut other = error("d.toml", 1, "k", "unknown licence `X`");
        other.help = None;
        let errors = ConfigErrors::new(vec![error("a.toml", 1, "k", "unknown licence `X`"), other]);
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn control_characters_are_escaped_when_shown() {
        let mut e = error(
            "a\u{1b}.toml",
            1,
            "customers.\"a\u{7}\"",
            "unknown key `x\u{1b}[31my`",
        );
        e.help = Some("bell \u{7} and \u{202e}".into());
        let text = e.to_string();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("x\\u{1b}[31my"), "{text}");
        assert!(
            text.contains("\\u{7}") && text.contains("\\u{202e}"),
            "{text}"
        );
    }

    #[test]
    fn a_long_fold_lists_twenty_places_and_counts_the_rest() {
        let errors = ConfigErrors::new((1..=30).map(|i| error("a.toml", i, "k", "same")).collect());
        let text = errors.0[0].to_string();
        assert!(text.contains(" and 9 more"), "{text}");
        assert_eq!(errors.0[0].also.len(), 29);
    }
}
