//! The AudioCodes request bodies the fact sheet documents field by field (§4.2): the
//! simulator refuses any other field, by exact name and case (`strict::layer`): request
//! bodies are camelCase as documented, although GET answers are PascalCase. The keys of
//! `scriptParameters` are checked by the handler (switch `strict_script_parameters`).
//! Data only.

use super::super::strict::Shape::{self, Any, Object, OneOrList};

/// The site of an Essentials create: an object (the example) or a one-element array (the
/// table says "list array").
const SITE_REF: Shape = Object(&[
    ("sbcId", Any),
    ("sbcOnboardingScript", Any),
    ("sbcCleanupScript", Any),
]);

/// `POST /api/v2/customer`.
const CREATE: Shape = Object(&[
    ("shortName", Any),
    ("fullName", Any),
    ("siteLocation", OneOrList(&SITE_REF)),
    ("ovocCustomerType", Any),
    ("msTenantId", Any),
    ("channelId", Any),
    ("lcCustomerId", Any),
    ("scriptParameters", Any),
]);

/// `POST /api/v3/customer` (create from lead).
const LEAD: Shape = Object(&[
    ("configurationName", Any),
    ("customerShortName", Any),
    ("customerFullName", Any),
    ("msTenantId", Any),
    ("scriptParameters", Any),
]);

/// `POST /api/v2/customer/{id}/sitelocation/`.
const ADD_SITE: Shape = Object(&[
    ("siteLocationName", Any),
    ("ovocCustomerType", Any),
    ("sbcId", Any),
    ("sbcOnboardingScript", Any),
    ("sbcCleanupScript", Any),
    ("scriptParameters", Any),
]);

/// The documented body of a route key, if any.
pub(crate) fn documented_body(route: &str) -> Option<&'static Shape> {
    Some(match route {
        "POST /api/v2/customer" => &CREATE,
        "POST /api/v3/customer" => &LEAD,
        "POST /api/v2/customer/*/sitelocation" | "POST /api/v2/customer/*/sitelocation/" => {
            &ADD_SITE
        }
        _ => return None,
    })
}
