//! ExtremeCloud (legacy, MSP REST API) settings and customer (tenant) fields.

use crate::model::SecretRef;

/// How mspform logs in to ExtremeCloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtremeAuth {
    /// A static bearer access token (no re-login possible).
    Token(SecretRef),
    /// The password grant: `POST /management/v1/oauth2/token`, repeated on expiry
    /// and on the idle timeout. The account needs the MSP Power Admin role.
    Password {
        user_id: String,
        password: SecretRef,
        scope: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExtremeSettings {
    pub auth: ExtremeAuth,
    /// Path prefix of the MSP resources (`/v1` in the docs; the real one is ambiguous).
    pub msp_prefix: String,
    /// Path of the token endpoint (or a full URL).
    pub token_path: String,
    /// The MSP's own id (`Msp-tenantid-…`), only for accounts that want it in the
    /// path of the partner PUT instead of the partner's id (the docs are ambiguous).
    pub msp_id: Option<String>,
    /// Client-side call budget per second (the vendor documents none).
    pub calls_per_second: u32,
    pub request_timeout_secs: u64,
}

impl ExtremeSettings {
    pub fn new(auth: ExtremeAuth) -> Self {
        ExtremeSettings {
            auth,
            msp_prefix: "/v1".into(),
            token_path: "/management/v1/oauth2/token".into(),
            msp_id: None,
            calls_per_second: 10,
            request_timeout_secs: 30,
        }
    }
}

/// The MSP contact of a tenant (`mspContact`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtremeContact {
    pub email: String,
    /// 1–128 characters, no `;` `:` `&`.
    pub name: String,
    /// No validation at the vendor; empty when not given.
    pub phone: String,
}

/// An ExtremeCloud MSP tenant (end customer). `Customer::name` is `accountName` (1–64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtremeCustomer {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// IANA time zone, e.g. `Europe/Amsterdam`.
    pub time_zone: String,
    /// `mspContact`; when not declared, not sent and not compared.
    pub contact: Option<ExtremeContact>,
    /// `userId`: the tenant's first power admin (an email, unique across ExtremeCloud).
    /// Sent on create only: the vendor does not return it.
    pub admin_user: String,
}
