//! The ExtremeCloud request bodies the fact sheet documents field by field (§2.1–2.2):
//! the simulator refuses any other field (`strict::layer`). A PUT sends the whole
//! Partner document, so it may carry every member of that document. Data only.

use super::super::strict::Shape::{self, Any, List, Object};

/// `mspContact` of a create body.
const CONTACT_NEW: Shape = Object(&[
    ("contactEmail", Any),
    ("contactName", Any),
    ("contactPhoneNumber", Any),
]);

/// `mspContact` inside a document read back (ids included).
const CONTACT_DOC: Shape = Object(&[
    ("custId", Any),
    ("id", Any),
    ("contactEmail", Any),
    ("contactName", Any),
    ("contactPhoneNumber", Any),
]);

const ENTITLEMENT: Shape = Object(&[("entitlementId", Any), ("serialNumber", Any)]);

/// `POST …/msptenants`.
const TENANT_NEW: Shape = Object(&[
    ("accountName", Any),
    ("country", Any),
    ("timeZone", Any),
    ("mspContact", CONTACT_NEW),
    ("userId", Any),
]);

/// `POST …/msppartners` (`tenants` as in the Partner document).
const PARTNER_NEW: Shape = Object(&[
    ("accountName", Any),
    ("entitlements", List(&ENTITLEMENT)),
    ("country", Any),
    ("timeZone", Any),
    ("mspContact", CONTACT_NEW),
    ("userId", Any),
    ("tenants", Any),
]);

/// The Tenant document (`PUT …/msptenants/{id}`, served only with `tenant_item_routes`).
const TENANT_DOC: Shape = Object(&[
    ("custId", Any),
    ("id", Any),
    ("accountName", Any),
    ("country", Any),
    ("timeZone", Any),
    ("mspContact", CONTACT_DOC),
    ("userId", Any),
]);

/// The Partner document (`PUT …/msppartners/{id}`).
const PARTNER_DOC: Shape = Object(&[
    ("custId", Any),
    ("id", Any),
    ("accountName", Any),
    ("country", Any),
    ("timeZone", Any),
    ("mspContact", CONTACT_DOC),
    ("userId", Any),
    ("tenants", Any),
    ("entitlements", List(&ENTITLEMENT)),
]);

/// The login: the password grant, or the `[assumed]` refresh grant.
const LOGIN: Shape = Object(&[
    ("grantType", Any),
    ("userId", Any),
    ("password", Any),
    ("scope", Any),
    ("refreshToken", Any),
]);

/// The documented body of a route key (canonical `/v1/…` form), if any.
pub(crate) fn documented_body(route: &str) -> Option<&'static Shape> {
    Some(match route {
        "POST /management/v1/oauth2/token" => &LOGIN,
        "POST /v1/msptenants" => &TENANT_NEW,
        "PUT /v1/msptenants/*" => &TENANT_DOC,
        "POST /v1/msppartners" => &PARTNER_NEW,
        "PUT /v1/msppartners/*" => &PARTNER_DOC,
        _ => return None,
    })
}
