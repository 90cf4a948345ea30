//! The RUCKUS One request bodies the fact sheet documents field by field (§3.4–3.5): the
//! simulator refuses any other field (`strict::layer`). Left open, because the fact sheet
//! does not list their fields: the query bodies (an R1 convention read from the web UI),
//! the tech-partner assignment (`PATCH /mspIntegrators/{id}`, a gap) and the contents of
//! `licenses.assignments`, `delegations`, `admin_delegations` and `privilege_group_ids`.
//! Data only.

use super::super::strict::Shape::{self, Any, List, Object};

/// The EC request fields of create items and updates (§3.4), exactly these.
const EC: Shape = Object(&[
    ("name", Any),
    ("street_address", Any),
    ("city", Any),
    ("state", Any),
    ("country", Any),
    ("postal_code", Any),
    ("phone_number", Any),
    ("fax_number", Any),
    ("mapping_url", Any),
    ("service_effective_date", Any),
    ("service_expiration_date", Any),
    (
        "licenses",
        Object(&[
            ("trialAction", Any),
            ("assignments", Any),
            ("subscription_start_date", Any),
            ("subscription_end_date", Any),
        ]),
    ),
    ("tier", Any),
    (
        "privacyFeatures",
        List(&Object(&[
            ("featureName", Any),
            ("status", Any),
            ("isEnabled", Any),
        ])),
    ),
    ("admin_email", Any),
    ("admin_firstname", Any),
    ("admin_lastname", Any),
    ("admin_role", Any),
    ("delegations", Any),
    ("admin_delegations", Any),
    ("privilege_group_ids", Any),
    ("number_of_days", Any),
    ("isManageAllEcs", Any),
    ("tenant_type", Any),
]);

/// `POST /tenants`: `{"data": [EC, …]}`.
const CREATE: Shape = Object(&[("data", List(&EC))]);

/// The administrator invitation.
const INVITE: Shape = Object(&[("admin_email", Any), ("resend", Any)]);

/// The answer to a delegation.
const RESPOND: Shape = Object(&[("accept", Any)]);

/// The documented body of a route key, if any.
pub(crate) fn documented_body(route: &str) -> Option<&'static Shape> {
    Some(match route {
        "POST /tenants" | "POST /mspCustomers" => &CREATE,
        "PUT /tenants/*" | "PUT /mspCustomers/*" => &EC,
        "POST /tenants/*/invitations"
        | "POST /mspCustomers/*/invitations"
        | "GET /tenants/*/invitations"
        | "GET /mspCustomers/*/invitations" => &INVITE,
        "PUT /tenants/delegations/*" => &RESPOND,
        _ => return None,
    })
}
