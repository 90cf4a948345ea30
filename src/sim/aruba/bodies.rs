//! The Aruba request bodies the fact sheet documents field by field (§1.5–1.9): the
//! simulator refuses any other field (`strict::layer`). Data only.

use super::super::strict::Shape::{self, Any, List, Object};

const ADDRESS: Shape = Object(&[("street_address", Any), ("city", Any), ("state", Any)]);

/// `POST /msp_api/v2/customers`, `PUT /msp_api/v2/customers/{id}` (§1.5).
const CUSTOMER: Shape = Object(&[
    ("customer_name", Any),
    ("country_name", Any),
    ("address", ADDRESS),
    ("zip_postal_code", Any),
    ("group", Object(&[("name", Any)])),
    ("description", Any),
    ("lock_msp_ssids", Any),
]);

const DEVICE_REF: Shape = Object(&[("serial", Any), ("mac", Any)]);

/// `PUT /msp_api/v1/customers/{id}/devices` (§1.6): `group` is a string here.
const MOVE: Shape = Object(&[("devices", List(&DEVICE_REF)), ("group", Any)]);

/// `POST /platform/licensing/v1/subscriptions/assign|unassign` (§1.7).
const LICENSE: Shape = Object(&[("serials", Any), ("services", Any)]);

/// The MSP licence jobs and auto-licence settings (§1.7).
const SCOPE: Shape = Object(&[
    ("services", Any),
    ("include_customers", Any),
    ("exclude_customers", Any),
]);

/// `POST /central/v2/sites`, `PATCH /central/v2/sites/{id}` (§1.8).
const SITE: Shape = Object(&[
    ("site_name", Any),
    (
        "site_address",
        Object(&[
            ("address", Any),
            ("city", Any),
            ("state", Any),
            ("country", Any),
            ("zipcode", Any),
        ]),
    ),
    (
        "geolocation",
        Object(&[("latitude", Any), ("longitude", Any)]),
    ),
]);

/// `POST`/`DELETE /central/v2/sites/associations` (§1.9).
const ASSOCIATION: Shape = Object(&[("site_id", Any), ("device_type", Any), ("device_ids", Any)]);

/// The documented body of a route key (`METHOD /path` with `*` for ids), if any.
pub(crate) fn documented_body(route: &str) -> Option<&'static Shape> {
    Some(match route {
        "POST /msp_api/v2/customers" | "PUT /msp_api/v2/customers/*" => &CUSTOMER,
        "PUT /msp_api/v1/customers/*/devices" => &MOVE,
        "POST /platform/licensing/v1/subscriptions/assign"
        | "POST /platform/licensing/v1/subscriptions/unassign" => &LICENSE,
        "POST /platform/licensing/v1/msp/subscriptions/devices/all"
        | "DELETE /platform/licensing/v1/msp/subscriptions/devices/all"
        | "POST /platform/licensing/v1/msp/customer/settings/autolicense"
        | "DELETE /platform/licensing/v1/msp/customer/settings/autolicense" => &SCOPE,
        "POST /central/v2/sites" | "PATCH /central/v2/sites/*" => &SITE,
        "POST /central/v2/sites/associations" | "DELETE /central/v2/sites/associations" => {
            &ASSOCIATION
        }
        _ => return None,
    })
}
