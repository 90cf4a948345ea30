//! ExtremeCloud field rules (fact sheet §2.2, seed 001): account names, contacts,
//! administrator ids, countries, time zones, entitlement strings. Pure functions.

use std::fmt;

use super::super::common::is_iso_alpha2;

/// A broken field rule: which property, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub property: &'static str,
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.property, self.message)
    }
}

pub(crate) type FieldResult<T = ()> = Result<T, FieldError>;

pub(crate) fn fail<T>(property: &'static str, message: impl Into<String>) -> FieldResult<T> {
    Err(FieldError {
        property,
        message: message.into(),
    })
}

const FORBIDDEN: [char; 3] = [';', ':', '&'];

fn no_forbidden(property: &'static str, s: &str) -> FieldResult {
    if s.contains(FORBIDDEN) {
        return fail(property, "must not contain ';', ':' or '&'");
    }
    Ok(())
}

/// `accountName`: not null, 1–64 characters.
pub(crate) fn account_name(s: &str) -> FieldResult {
    let n = s.chars().count();
    if !(1..=64).contains(&n) {
        return fail(
            "accountName",
            format!("length must be between 1 and 64, got {n}"),
        );
    }
    Ok(())
}

/// `contactName`: 1–128 characters, no `;` `:` `&`.
pub(crate) fn contact_name(s: &str) -> FieldResult {
    let n = s.chars().count();
    if !(1..=128).contains(&n) {
        return fail(
            "contactName",
            format!("length must be between 1 and 128, got {n}"),
        );
    }
    no_forbidden("contactName", s)
}

/// A syntactically valid e-mail address (one `@`, non-empty local part, dotted domain,
/// no whitespace).
pub(crate) fn email(s: &str, property: &'static str) -> FieldResult {
    let Some((local, domain)) = s.split_once('@') else {
        return fail(property, format!("{s:?} is not a valid email address"));
    };
    let labels_ok = domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if local.is_empty()
        || domain.contains('@')
        || !labels_ok
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return fail(property, format!("{s:?} is not a valid email address"));
    }
    Ok(())
}

/// `userId`: an e-mail, 1–128 characters, local part ≤ 63, domain ≤ 64, no `;` `:` `&`.
/// (Uniqueness across ExtremeCloud is checked against the state by the caller.)
pub(crate) fn user_id(s: &str) -> FieldResult {
    let n = s.chars().count();
    if !(1..=128).contains(&n) {
        return fail(
            "userId",
            format!("length must be between 1 and 128, got {n}"),
        );
    }
    no_forbidden("userId", s)?;
    email(s, "userId")?;
    let (local, domain) = s.split_once('@').unwrap_or((s, ""));
    if local.chars().count() > 63 {
        return fail("userId", "the local part must be at most 63 characters");
    }
    if domain.chars().count() > 64 {
        return fail("userId", "the domain must be at most 64 characters");
    }
    Ok(())
}

/// `entitlementId` / `serialNumber`: non-empty, no `;` `:` `&`.
pub(crate) fn entitlement_text(property: &'static str, s: &str) -> FieldResult {
    if s.is_empty() {
        return fail(property, "must not be empty");
    }
    no_forbidden(property, s)
}

/// `country`: an ISO 3166-1 alpha-2 code, upper case as sent (the fact sheet only says
/// "valid country codes"; alpha-2 is the assumption).
pub(crate) fn country(s: &str) -> FieldResult<String> {
    if is_iso_alpha2(s) {
        return Ok(s.to_string());
    }
    fail(
        "country",
        format!("{s:?} is not a valid country code (ISO 3166-1 alpha-2, upper case)"),
    )
}

const TZ_AREAS: [&str; 11] = [
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
    "Etc",
];

/// `timeZone`: an IANA zone name (`Area/Location[/Sub]` with a known area, or `UTC`/`GMT`).
pub(crate) fn time_zone(s: &str) -> FieldResult {
    if matches!(s, "UTC" | "GMT") {
        return Ok(());
    }
    let mut parts = s.split('/');
    let area = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    let ok = TZ_AREAS.contains(&area)
        && !rest.is_empty()
        && rest.len() <= 2
        && rest.iter().all(|p| {
            p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        });
    if !ok {
        return fail(
            "timeZone",
            format!("{s:?} is not a valid time zone (IANA name such as Europe/Berlin)"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_limits() {
        let local63 = "a".repeat(63);
        let dom = format!("{}.com", "b".repeat(60));
        assert!(user_id(&format!("{local63}@{dom}")).is_ok());
        assert!(user_id(&format!("{}@x.com", "a".repeat(64))).is_err());
        assert!(user_id(&format!("a@{}.com", "b".repeat(61))).is_err());
        assert!(user_id("a;b@x.com").is_err());
        assert!(user_id("not-an-email").is_err());
        assert!(user_id("").is_err());
    }

    #[test]
    fn names_countries_zones() {
        assert!(account_name("").is_err());
        assert!(account_name(&"x".repeat(64)).is_ok());
        assert!(account_name(&"x".repeat(65)).is_err());
        assert!(contact_name("A & B").is_err());
        assert!(contact_name(&"x".repeat(129)).is_err());
        assert_eq!(country("DE").as_deref(), Ok("DE"));
        assert!(country("de").is_err());
        assert!(country("XX").is_err());
        assert!(time_zone("Europe/Berlin").is_ok());
        assert!(time_zone("America/Argentina/Buenos_Aires").is_ok());
        assert!(time_zone("UTC").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
        assert!(time_zone("Europe").is_err());
    }
}
