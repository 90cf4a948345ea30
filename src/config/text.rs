//! Small pure string helpers of the loader: edit distance and suggestions, key
//! paths, key syntax, control characters and MAC address normalisation. No TOML,
//! no I/O.

use std::borrow::Cow;

/// Levenshtein distance in characters (strsim).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub(crate) fn closest<'c, I>(word: &str, candidates: I) -> Option<&'c str>
where
    I: IntoIterator<Item = &'c str>,
{
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// "did you mean `x`? " when a candidate is close, else "".
pub(crate) fn did_you_mean<'c, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'c str>,
{
    match closest(word, candidates) {
        Some(c) => format!("did you mean `{c}`? "),
        None => String::new(),
    }
}

/// A comma-separated list of back-quoted names, or "none" when empty.
pub(crate) fn list<'c, I>(names: I) -> String
where
    I: IntoIterator<Item = &'c str>,
{
    let names: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// One segment of a dotted key path, quoted when it is not a TOML bare key.
pub(crate) fn key_segment(key: &str) -> Cow<'_, str> {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        Cow::Borrowed(key)
    } else {
        Cow::Owned(format!("{key:?}"))
    }
}

/// `parent.key`, quoting `key` when needed.
pub(crate) fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key_segment(key).into_owned()
    } else {
        format!("{parent}.{}", key_segment(key))
    }
}

/// Keys of providers, customers and sites: `[a-z0-9][a-z0-9_-]*`.
pub(crate) fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A valid key resembling `key`, for help messages: lower case, other characters
/// replaced by `-`.
pub(crate) fn suggest_key(key: &str) -> String {
    let mapped: String = key
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches(|c| c == '-' || c == '_');
    let mut out = String::new();
    for c in trimmed.chars() {
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    if out.is_empty() {
        "my-key".to_string()
    } else {
        out
    }
}

/// Characters no configuration value may hold: control characters (newline, tab,
/// ESC, BEL, DEL, the C1 range, …) and the invisible ones that break lines or
/// reorder text (U+2028, U+2029, bidirectional embeddings, overrides and
/// isolates). Values go to the vendors as written, and show in their portals.
pub(crate) fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The first forbidden character of `s` and its 1-based position in characters.
pub(crate) fn forbidden_char(s: &str) -> Option<(usize, char)> {
    s.chars()
        .enumerate()
        .find(|(_, c)| is_forbidden_char(*c))
        .map(|(i, c)| (i + 1, c))
}

/// `U+001B (escape)`: a forbidden character named without writing it.
pub(crate) fn describe_char(c: char) -> String {
    let name = match c {
        '\0' => Some("NUL"),
        '\u{7}' => Some("bell"),
        '\u{8}' => Some("backspace"),
        '\t' => Some("tab"),
        '\n' => Some("line feed"),
        '\r' => Some("carriage return"),
        '\u{1b}' => Some("escape"),
        '\u{7f}' => Some("delete"),
        '\u{2028}' => Some("line separator"),
        '\u{2029}' => Some("paragraph separator"),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some("bidirectional text control"),
        _ => None,
    };
    match name {
        Some(name) => format!("U+{:04X} ({name})", u32::from(c)),
        None => format!("U+{:04X}", u32::from(c)),
    }
}

/// Device serials: `[A-Za-z0-9]+`.
pub(crate) fn is_valid_serial(serial: &str) -> bool {
    !serial.is_empty() && serial.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Normalises a MAC address written with `:` or `-` separators, or none, in any
/// case, to upper-case colon form `AA:BB:CC:DD:EE:FF`.
pub(crate) fn normalize_mac(mac: &str) -> Option<String> {
    let bytes = mac.as_bytes();
    let hex: Vec<u8> = match bytes.len() {
        12 => bytes.to_vec(),
        17 => {
            let sep = bytes[2];
            if sep != b':' && sep != b'-' {
                return None;
            }
            let mut hex = Vec::with_capacity(12);
            for (i, b) in bytes.iter().enumerate() {
                if i % 3 == 2 {
                    if *b != sep {
                        return None;
                    }
                } else {
                    hex.push(*b);
                }
            }
            hex
        }
        _ => return None,
    };
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let upper: Vec<String> = hex
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect();
    Some(upper.join(":"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("base_url", "base_ur"), 1);
        assert_eq!(edit_distance("naem", "name"), 2);
        assert_eq!(edit_distance("é", "e"), 1);
    }

    #[test]
    fn closest_only_suggests_near_words() {
        let allowed = ["type", "base_url", "token", "oauth"];
        assert_eq!(closest("base-url", allowed), Some("base_url"));
        assert_eq!(closest("tokn", allowed), Some("token"));
        assert_eq!(closest("TYPE", allowed), Some("type"));
        assert_eq!(closest("something_else", allowed), None);
        assert_eq!(did_you_mean("oath", allowed), "did you mean `oauth`? ");
        assert_eq!(did_you_mean("zzzzzzzz", allowed), "");
    }

    #[test]
    fn key_paths_quote_non_bare_keys() {
        assert_eq!(join_key("", "customers"), "customers");
        assert_eq!(join_key("customers", "acme"), "customers.acme");
        assert_eq!(
            join_key("customers", "Acme Corp"),
            "customers.\"Acme Corp\""
        );
        assert_eq!(join_key("a", ""), "a.\"\"");
    }

    #[test]
    fn key_syntax() {
        assert!(is_valid_key("coffee-shop"));
        assert!(is_valid_key("0_a-b"));
        assert!(!is_valid_key("-a"));
        assert!(!is_valid_key("_a"));
        assert!(!is_valid_key("Acme"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("a b"));
        assert_eq!(suggest_key("Acme Corp!"), "acme-corp");
        assert_eq!(suggest_key("!!"), "my-key");
        assert!(is_valid_serial("BT000001"));
        assert!(!is_valid_serial("BT-1"));
        assert!(!is_valid_serial(""));
    }

    #[test]
    fn control_and_invisible_characters_are_found_and_named() {
        assert_eq!(forbidden_char("Coffee Shop"), None);
        assert_eq!(forbidden_char("Café – Ünïcödé 咖啡"), None);
        assert_eq!(forbidden_char("a\nb"), Some((2, '\n')));
        assert_eq!(forbidden_char("ab\u{1b}[31m"), Some((3, '\u{1b}')));
        assert_eq!(forbidden_char("\u{7}"), Some((1, '\u{7}')));
        assert_eq!(forbidden_char("x\u{85}"), Some((2, '\u{85}')));
        assert_eq!(forbidden_char("evil\u{202E}txt"), Some((5, '\u{202E}')));
        assert_eq!(forbidden_char("tab\there"), Some((4, '\t')));
        assert_eq!(describe_char('\u{1b}'), "U+001B (escape)");
        assert_eq!(describe_char('\u{7}'), "U+0007 (bell)");
        assert_eq!(describe_char('\u{85}'), "U+0085");
    }

    #[test]
    fn mac_normalisation() {
        let want = Some("00:11:AA:BB:33:CC".to_string());
        assert_eq!(normalize_mac("00:11:AA:BB:33:CC"), want);
        assert_eq!(normalize_mac("00:11:aa:bb:33:cc"), want);
        assert_eq!(normalize_mac("00-11-aa-BB-33-cc"), want);
        assert_eq!(normalize_mac("0011aabb33cc"), want);
        assert_eq!(normalize_mac("0011AABB33CC"), want);
        assert_eq!(normalize_mac("00:11-aa:bb:33:cc"), None);
        assert_eq!(normalize_mac("00.11.aa.bb.33.cc"), None);
        assert_eq!(normalize_mac("00:11:aa:bb:33"), None);
        assert_eq!(normalize_mac("00:11:aa:bb:33:cg"), None);
        assert_eq!(normalize_mac("0011aabb33c"), None);
        assert_eq!(normalize_mac("0:011:aa:bb:33:cc"), None);
        assert_eq!(normalize_mac("é0:11:aa:bb:33:c"), None);
        assert_eq!(normalize_mac(""), None);
    }
}
