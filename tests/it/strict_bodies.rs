//! The simulator is as strict as the fact sheet about every body the four clients
//! send. The clients apply the mixed example and a round of changes (updates,
//! unassignments, moves back, deletes) against a simulator that records the JSON
//! bodies; every recorded body is then sent again with one field name misspelt
//! (the case of its first letter swapped: `shortName` → `ShortName`), which the
//! simulator must refuse naming that field, and once without its JSON content type
//! (415). So a client whose serde name drifts from the documented one fails its
//! apply instead of silently losing the field. Writes without a body carry no
//! content type.

use mspform::diff::Op;
use mspform::model::SiteLocation;
use mspform::sim::RecordedBody;
use reqwest::Method;
use serde_json::{Map, Value};

use crate::support::*;

/// Routes whose bodies the fact sheet does not list field by field: left open.
const OPEN: &[&str] = &[
    "POST /tenants/query",
    "POST /mspecs/query",
    "POST /techpartners/mspecs/query",
    "POST /delegations/query",
    "PATCH /mspIntegrators/*",
    "PUT /tenants/*/tenantDelegations",
];

/// Every body the clients must have sent in the scenario (so the test cannot pass
/// by exercising less).
const EXPECTED: &[&str] = &[
    "aruba POST /msp_api/v2/customers",
    "aruba PUT /msp_api/v2/customers/*",
    "aruba DELETE /msp_api/v1/customers/*",
    "aruba PUT /msp_api/v1/customers/*/devices",
    "aruba POST /platform/licensing/v1/subscriptions/assign",
    "aruba POST /platform/licensing/v1/subscriptions/unassign",
    "aruba POST /platform/licensing/v1/msp/customer/settings/autolicense",
    "aruba DELETE /platform/licensing/v1/msp/customer/settings/autolicense",
    "aruba POST /central/v2/sites",
    "aruba PATCH /central/v2/sites/*",
    "aruba POST /central/v2/sites/associations",
    "aruba DELETE /central/v2/sites/associations",
    "extreme POST /management/v1/oauth2/token",
    "extreme POST /v1/msptenants",
    "extreme PUT /v1/msppartners/*",
    "ruckus POST /tenants",
    "ruckus PUT /tenants/*",
    "ruckus POST /tenants/*/invitations",
    "audiocodes POST /api/v2/customer",
    "audiocodes DELETE /api/v2/customer/*",
];

/// `shortName` → `ShortName`, `customer_name` → `Customer_name`.
fn misspelt(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(c) if c.is_lowercase() => c.to_uppercase().chain(chars).collect(),
        Some(c) if c.is_uppercase() => c.to_lowercase().chain(chars).collect(),
        _ => format!("{key}_"),
    }
}

/// One copy of `v` per member (at any depth), that member renamed; with the new name.
fn misspellings(v: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for (k, inner) in m {
                let wrong = misspelt(k);
                let mut renamed = Map::new();
                for (k2, v2) in m {
                    renamed.insert(if k2 == k { wrong.clone() } else { k2.clone() }, v2.clone());
                }
                out.push((wrong, Value::Object(renamed)));
                for (name, changed) in misspellings(inner) {
                    let mut copy = m.clone();
                    copy.insert(k.clone(), changed);
                    out.push((name, Value::Object(copy)));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                for (name, changed) in misspellings(item) {
                    let mut copy = items.clone();
                    copy[i] = changed;
                    out.push((name, Value::Array(copy)));
                }
            }
        }
        _ => {}
    }
    out
}

async fn replay(
    http: &reqwest::Client,
    base: &str,
    rec: &RecordedBody,
    content_type: &str,
    body: &Value,
) -> (u16, String) {
    let method = Method::from_bytes(rec.method.as_bytes()).expect("method");
    let mut req = http
        .request(method, format!("{base}{}", rec.path))
        .bearer_auth("sim-token")
        .header("content-type", content_type)
        .body(body.to_string());
    for (k, v) in &rec.headers {
        if k != "content-type" {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    let resp = req.send().await.expect("the simulator answers");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_the_clients_send_is_one_the_simulator_checks() {
    let sim = sim(false).await;
    sim.record_bodies(true);
    let dir = tempfile::tempdir().unwrap();
    let conf = write_mixed(&sim, dir.path());
    let mut desired = mspform::config::load(&conf).expect("examples/msp loads");
    aruba_settings(&mut desired, |s| s.calls_per_second = 1000);
    let store = store(dir.path());
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");

    // A round of changes, so update, unassign, move-back and delete bodies go out too.
    desired.edit_specs::<mspform::vendors::aruba::Aruba>(|spec| {
        let a = spec
            .customers
            .get_mut("coffee-shop")
            .expect("coffee-shop is an Aruba customer");
        a.description = "Moved to 16th Street".into();
        a.auto_license.clear();
    });
    let coffee = desired.customers.get_mut("coffee-shop").unwrap();
    coffee.sites.get_mut("roastery").unwrap().location = SiteLocation::Geolocation {
        latitude: 37.5,
        longitude: -122.0,
    };
    desired.devices.get_mut("AP0000001").unwrap().site = Some("roastery".into());
    desired
        .devices
        .get_mut("AP0000002")
        .unwrap()
        .licenses
        .clear();
    desired.devices.remove("AP0000003");
    desired.edit_specs::<mspform::vendors::ruckus::Ruckus>(|spec| {
        let r = spec
            .customers
            .get_mut("bayview-resort")
            .expect("bayview-resort is a RUCKUS customer");
        r.phone = Some("+1 831 555 0199".into());
    });
    desired
        .partners
        .get_mut("westgate")
        .unwrap()
        .customers
        .clear();
    desired
        .customers
        .remove("harbor-clinic")
        .expect("an Aruba customer");
    desired.devices.retain(|_, d| d.customer != "harbor-clinic");
    desired
        .customers
        .remove("retail-voice")
        .expect("an AudioCodes customer");
    let changes = plan(&desired, &store).await;
    assert!(
        changes
            .plan
            .actions
            .iter()
            .any(|a| a.address == "customer.coffee-shop" && a.op == Op::Update),
        "{:#?}",
        changes.plan.actions
    );
    let report = apply(&desired, &store).await;
    assert!(report.ok(), "{report:#?}");
    assert!(!plan(&desired, &store).await.plan.has_changes());

    let recorded = sim.recorded_bodies();
    let seen: std::collections::BTreeSet<String> = recorded
        .iter()
        .map(|r| format!("{} {}", r.vendor, r.route))
        .collect();
    for want in EXPECTED {
        assert!(seen.contains(*want), "no {want} was sent: {seen:#?}");
    }

    let http = reqwest::Client::new();
    let base = sim.url();
    let mut checked = 0;
    for rec in recorded
        .iter()
        .filter(|r| !OPEN.contains(&r.route.as_str()))
    {
        let call = format!("{} {} {}", rec.vendor, rec.method, rec.path);
        if rec.body.is_null() {
            // A call without a body says nothing about a body's type.
            assert!(
                !rec.headers.iter().any(|(k, _)| k == "content-type"),
                "{call} has no body but a content type: {:?}",
                rec.headers
            );
            continue;
        }
        let (status, text) = replay(&http, &base, rec, "text/plain", &rec.body).await;
        assert_eq!(status, 415, "{call} without its JSON content type: {text}");
        for (wrong, body) in misspellings(&rec.body) {
            let (status, text) = replay(&http, &base, rec, "application/json", &body).await;
            assert_eq!(status, 400, "{call} with `{wrong}`: {text}");
            assert!(
                text.contains(&wrong),
                "{call}: the refusal names `{wrong}`: {text}"
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} misspellings were tried");
}
