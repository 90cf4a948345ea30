//! RUCKUS One (MSP Services) settings and managed-tenant (MSP-EC) fields.

use crate::model::SecretRef;

/// How mspform gets a RUCKUS One token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuckusAuth {
    /// A static bearer token.
    Token(SecretRef),
    /// Client credentials: `POST /oauth2/token/{tenant_id}`, repeated on a 401.
    ClientCredentials {
        client_id: SecretRef,
        client_secret: SecretRef,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuckusSettings {
    /// The MSP's own tenant id (32 hex).
    pub tenant_id: String,
    pub auth: RuckusAuth,
    /// Where the token is requested, when it is not `base_url` (the official docs
    /// post to `ruckus.cloud`, the SDKs to `api.ruckus.cloud`).
    pub token_url: Option<String>,
    /// The vendor's token bucket size (200) …
    pub burst: u32,
    /// … and refill per second (100). The client sends at most
    /// `min(burst, calls_per_second)` calls in any one second, which never empties
    /// a bucket of `burst` refilled at `calls_per_second`.
    pub calls_per_second: u32,
    /// Activity polling: first interval, doubling up to 8 s.
    pub poll_interval_ms: u64,
    /// How long to wait for one activity to reach SUCCESS or FAIL.
    pub activity_timeout_secs: u64,
    pub request_timeout_secs: u64,
}

impl RuckusSettings {
    pub fn new(tenant_id: String, auth: RuckusAuth) -> Self {
        RuckusSettings {
            tenant_id,
            auth,
            token_url: None,
            burst: 200,
            calls_per_second: 100,
            poll_interval_ms: 500,
            activity_timeout_secs: 300,
            request_timeout_secs: 30,
        }
    }
}

/// The tenant's postal address. A declared address is managed as a whole: a part
/// left out is managed as empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RuckusAddress {
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub zip: Option<String>,
}

/// The tenant's first administrator: invited once, when the tenant is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuckusAdmin {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// e.g. `PRIME_ADMIN`.
    pub role: Option<String>,
}

/// A RUCKUS One managed tenant (MSP-EC). `Customer::name` is `name` (≤255).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuckusCustomer {
    pub address: Option<RuckusAddress>,
    pub phone: Option<String>,
    /// `YYYY-MM-DD`; required by the vendor on create and update: when not
    /// declared, a create sends today and today + 1 year, an update the live value.
    pub service_start: Option<String>,
    pub service_end: Option<String>,
    /// e.g. `GOLD`, `PLATINUM`.
    pub tier: Option<String>,
    pub admin: Option<RuckusAdmin>,
}

/// The tenant type of a tech partner with a configuration `role`
/// (`integrator` → `MSP_INTEGRATOR`, `installer` → `MSP_INSTALLER`).
pub fn partner_type(role: &str) -> Option<&'static str> {
    match role {
        "integrator" => Some("MSP_INTEGRATOR"),
        "installer" => Some("MSP_INSTALLER"),
        _ => None,
    }
}

/// The configuration `role` of a tech partner's tenant type.
pub fn partner_role(tenant_type: &str) -> Option<&'static str> {
    match tenant_type {
        "MSP_INTEGRATOR" => Some("integrator"),
        "MSP_INSTALLER" => Some("installer"),
        _ => None,
    }
}

/// `YYYY-MM-DD` → (year, month, day) when it names a real calendar day.
pub fn parse_day(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| {
        s.get(r)
            .filter(|p| p.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|p| p.parse::<u32>().ok())
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    (y >= 1 && (1..=days).contains(&d)).then_some((i64::from(y), m, d))
}

#[cfg(test)]
mod tests {
    use super::{parse_day, partner_role, partner_type};

    #[test]
    fn days_are_real_calendar_days() {
        assert_eq!(parse_day("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_day("2023-02-29"), None);
        assert_eq!(parse_day("2024-13-01"), None);
        assert_eq!(parse_day("2024-1-01"), None);
        assert_eq!(parse_day("+024-01-01"), None);
        assert_eq!(parse_day("2024-01-01T00:00:00Z"), None);
    }

    #[test]
    fn roles_map_to_tenant_types_and_back() {
        for role in ["integrator", "installer"] {
            assert_eq!(partner_type(role).and_then(partner_role), Some(role));
        }
        assert_eq!(partner_type("reseller"), None);
        assert_eq!(partner_role("MSP_EC"), None);
    }
}
