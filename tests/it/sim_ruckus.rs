//! The RUCKUS One simulator, probed over HTTP with reqwest exactly as an independent
//! client would (fact sheet §3 and checklist items 36–47, 56).

use std::sync::Arc;

use mspform::sim::{FaultKind, FaultSpec, Inventory, RuckusEdit, SimOptions, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::sim_http::{Resp, local};

const MSP: &str = "8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60";
const INTEGRATOR: &str = "4b7e21d9c0a34f5e8d6c1a2b3f4e5d60";
const INSTALLER: &str = "9a3c5e7f1b2d4a6c8e0f1a2b3c4d5e61";
const INTEGRATOR2: &str = "c2e4a6b8d0f14e3a9b5c7d1e2f3a4b62";
const SEASIDE: &str = "1f2e3d4c5b6a47988796a5b4c3d2e1f0";
const LAKEVIEW: &str = "2a4c6e8f0b1d43e5a7c9e1f3b5d7f9a1";

struct H {
    sim: Simulator,
    http: reqwest::Client,
    base: String,
}

fn opts(data_dir: Option<std::path::PathBuf>) -> SimOptions {
    SimOptions {
        data_dir,
        ..SimOptions::new(local(), Inventory::embedded())
    }
}

/// A simulator whose activities complete only by polling, and as soon as polled enough
/// (deterministic tests: no time involved).
async fn start() -> H {
    let h = start_default().await;
    h.sim.ruckus_switches(|s| {
        s.activity_settle_ms = 0;
        s.activity_min_ms = 0;
    });
    h
}

/// A simulator with the inventory's switches untouched.
async fn start_default() -> H {
    let sim = Simulator::start(opts(None))
        .await
        .expect("simulator starts");
    let base = sim.base_url("ruckus");
    H {
        sim,
        http: reqwest::Client::new(),
        base,
    }
}

fn ec_body(name: &str) -> Value {
    json!({
        "name": name,
        "street_address": "350 W Java Dr",
        "city": "Sunnyvale",
        "state": "CA",
        "country": "US",
        "postal_code": "95089",
        "phone_number": "650-123-4567",
        "service_effective_date": "2025-01-01 00:00:00.000Z",
        "service_expiration_date": "2026-01-01 00:00:00.000Z",
        "admin_email": "admin@example.com",
        "admin_firstname": "Ada",
        "admin_lastname": "Admin",
        "tier": "GOLD",
    })
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&")
}

impl H {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        tenant: Option<&str>,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(t) = tenant {
            req = req.header("x-rks-tenantid", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::read(req.send().await.expect("request completes")).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.send(method, path, body, None, Some("sim-token")).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn raw(&self, method: Method, path: &str, content_type: &str, body: &str) -> Resp {
        let req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth("sim-token")
            .header("content-type", content_type)
            .body(body.to_string());
        Resp::read(req.send().await.expect("request completes")).await
    }

    async fn token(&self, tenant: &str, content_type: &str, body: &str) -> Resp {
        let req = self
            .http
            .post(format!("{}/oauth2/token/{tenant}", self.base))
            .header("content-type", content_type)
            .body(body.to_string());
        Resp::read(req.send().await.expect("request completes")).await
    }

    /// Poll an activity until it is terminal; its final body.
    async fn finish(&self, request_id: &str) -> Value {
        for _ in 0..20 {
            let r = self.get(&format!("/activities/{request_id}")).await;
            assert_eq!(r.status, 200, "{}", r.text);
            let s = r.body["status"].as_str().expect("status").to_string();
            if s == "SUCCESS" || s == "FAIL" {
                return r.body;
            }
        }
        panic!("activity {request_id} never finished");
    }

    /// Create one EC and wait for its activity; its tenant id.
    async fn ec(&self, name: &str) -> String {
        let r = self
            .post("/tenants", json!({"data": [ec_body(name)]}))
            .await;
        assert_eq!(r.status, 202, "{}", r.text);
        let id = r.body["data"][0]["tenantId"]
            .as_str()
            .expect("id")
            .to_string();
        let rid = r.body["data"][0]["requestId"].as_str().expect("rid");
        assert_eq!(self.finish(rid).await["status"], "SUCCESS");
        id
    }

    async fn query(&self, path: &str, body: Value) -> Resp {
        let r = self.post(path, body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r
    }

    async fn assigned(&self, partner: &str, dtype: &str) -> Vec<String> {
        let r = self
            .get(&format!("/mspIntegrators/{partner}?delegationType={dtype}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["delegation_type"], dtype);
        serde_json::from_value(r.body["mspec_list"].clone()).expect("mspec_list")
    }

    async fn control(&self, path: &str, body: Value) -> Resp {
        let req = self
            .http
            .post(format!("{}/_sim/{path}", self.sim.url()))
            .json(&body);
        Resp::read(req.send().await.expect("control call")).await
    }
}

fn names(r: &Resp) -> Vec<String> {
    r.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|row| row["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn assert_error_a(r: &Resp) {
    assert!(r.body["requestId"].is_string(), "format A: {}", r.text);
    assert!(
        r.body["errors"][0]["code"].is_string() && r.body["errors"][0]["message"].is_string(),
        "format A: {}",
        r.text
    );
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[test]
fn embedded_inventory_has_the_ruckus_account() {
    let inv = Inventory::embedded();
    let r = &inv.ruckus;
    assert_eq!(r.msp_tenant_id, MSP);
    assert_eq!(r.oauth.client_id, "sim-r1-client");
    assert_eq!(r.oauth.client_secret, "sim-r1-secret");
    assert_eq!(r.tech_partners.len(), 3);
    assert_eq!(r.ecs.len(), 2);
    assert_eq!(r.switches, mspform::sim::RuckusSwitches::default());
    // An inventory without [ruckus] still loads, with the defaults.
    let text = include_str!("../../examples/sim-inventory.toml");
    let cut = text.find("\n[ruckus]").expect("ruckus table");
    let inv = Inventory::from_toml_str(&text[..cut]).expect("inventory without ruckus");
    assert_eq!(inv.ruckus.msp_tenant_id, MSP);
    assert!(inv.ruckus.ecs.is_empty());
    // Validation.
    let bad = text.replace(
        "msp_tenant_id = \"8d1f0c7e2b4a4f6c9e3d5a7b1c2e4f60\"",
        "msp_tenant_id = \"XYZ\"",
    );
    assert!(Inventory::from_toml_str(&bad).is_err());
    let bad = text.replace("type = \"MSP_INSTALLER\"", "type = \"VAR\"");
    assert!(Inventory::from_toml_str(&bad).is_err());
}

// Item 36: token endpoint.
#[tokio::test]
async fn token_endpoint_takes_form_client_credentials() {
    let h = start().await;
    let good = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "sim-r1-client"),
        ("client_secret", "sim-r1-secret"),
    ]);
    let form_ct = "application/x-www-form-urlencoded";
    let r = h.token(MSP, form_ct, &good).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    let token = r.body["access_token"].as_str().expect("token").to_string();
    assert_eq!(token.split('.').count(), 3, "JWT-looking: {token}");

    let ok = h
        .send(Method::GET, "/mspCustomers", None, None, Some(&token))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body.as_array().expect("array").len(), 2);

    // JSON body, bad secret, other tenant, wrong grant, missing field.
    let json_body = json!({"grant_type": "client_credentials", "client_id": "sim-r1-client",
        "client_secret": "sim-r1-secret"})
    .to_string();
    assert_eq!(
        h.token(MSP, "application/json", &json_body).await.status,
        400
    );
    let wrong = form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "sim-r1-client"),
        ("client_secret", "nope"),
    ]);
    let r = h.token(MSP, form_ct, &wrong).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_client");
    assert_eq!(h.token(SEASIDE, form_ct, &good).await.status, 401);
    let grant = good.replace("client_credentials", "password");
    assert_eq!(h.token(MSP, form_ct, &grant).await.status, 400);
    assert_eq!(
        h.token(MSP, form_ct, "grant_type=client_credentials")
            .await
            .status,
        400
    );

    // Unknown / missing bearer → 401 in error format (A).
    let r = h
        .send(Method::GET, "/mspCustomers", None, None, Some("nope"))
        .await;
    assert_eq!(r.status, 401);
    assert_error_a(&r);
    assert_eq!(
        h.send(Method::GET, "/mspCustomers", None, None, None)
            .await
            .status,
        401
    );

    // The issued token expires with the sim clock; the static token does not.
    h.sim.advance_clock(3590);
    let r = h
        .send(Method::GET, "/mspCustomers", None, None, Some(&token))
        .await;
    assert_eq!(r.status, 200);
    h.sim.advance_clock(11);
    let r = h
        .send(Method::GET, "/mspCustomers", None, None, Some(&token))
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(h.get("/mspCustomers").await.status, 200);

    // Switches: opaque tokens, no expires_in, other error statuses, shorter lifetime.
    h.sim.ruckus_switches(|s| {
        s.token_format = mspform::sim::ruckus::TokenFormat::Opaque;
        s.token_expires_in = false;
        s.token_bad_request_status = 415;
        s.token_bad_secret_status = 400;
        s.token_lifetime_secs = 60;
    });
    let r = h.token(MSP, form_ct, &good).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("expires_in").is_none());
    let opaque = r.body["access_token"].as_str().expect("token").to_string();
    assert!(is_hex32(&opaque), "{opaque}");
    assert_eq!(
        h.token(MSP, "application/json", &json_body).await.status,
        415
    );
    assert_eq!(h.token(MSP, form_ct, &wrong).await.status, 400);
    h.sim.advance_clock(61);
    let r = h
        .send(Method::GET, "/mspCustomers", None, None, Some(&opaque))
        .await;
    assert_eq!(r.status, 401);
}

// Item 37: create validation and the 202 body.
#[tokio::test]
async fn create_validates_items_and_answers_in_order() {
    let h = start().await;
    let r = h.post("/tenants", json!({"data": []})).await;
    assert_eq!(r.status, 400);
    assert_error_a(&r);
    let many: Vec<Value> = (0..101).map(|i| ec_body(&format!("EC {i}"))).collect();
    assert_eq!(h.post("/tenants", json!({"data": many})).await.status, 400);
    let dup = json!({"data": [ec_body("Twin"), ec_body("Twin")]});
    assert_eq!(h.post("/tenants", dup).await.status, 400);
    assert_eq!(h.post("/tenants", json!({"nodata": 1})).await.status, 400);
    assert_eq!(h.post("/tenants", json!({"data": [1]})).await.status, 400);
    let r = h
        .raw(Method::POST, "/tenants", "application/json", "{not json")
        .await;
    assert_eq!(r.status, 400);
    assert_error_a(&r);
    assert_eq!(
        h.raw(Method::POST, "/tenants", "application/json", "")
            .await
            .status,
        400
    );
    for missing in [
        "name",
        "service_effective_date",
        "service_expiration_date",
        "admin_email",
    ] {
        let mut b = ec_body("Missing");
        b.as_object_mut().expect("obj").remove(missing);
        let r = h.post("/tenants", json!({"data": [b]})).await;
        assert_eq!(r.status, 400, "without {missing}: {}", r.text);
    }
    let mut b = ec_body("Bad date");
    b["service_effective_date"] = json!("next tuesday");
    assert_eq!(h.post("/tenants", json!({"data": [b]})).await.status, 400);
    let mut b = ec_body("Bad email");
    b["admin_email"] = json!("nobody");
    assert_eq!(h.post("/tenants", json!({"data": [b]})).await.status, 400);
    let mut b = ec_body("Long");
    b["city"] = json!("x".repeat(256));
    assert_eq!(h.post("/tenants", json!({"data": [b]})).await.status, 400);
    assert!(
        h.sim.dump()["ruckus"]["activities"]
            .as_array()
            .expect("activities")
            .is_empty()
    );

    // Three valid items → three {requestId, tenantId} in input order.
    let r = h
        .post(
            "/tenants",
            json!({"data": [ec_body("Alpha"), ec_body("Bravo"), ec_body("Charlie")]}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let data = r.body["data"].as_array().expect("data");
    assert_eq!(data.len(), 3);
    let mut rids = Vec::new();
    for (item, name) in data.iter().zip(["Alpha", "Bravo", "Charlie"]) {
        let id = item["tenantId"].as_str().expect("tenantId");
        assert!(is_hex32(id));
        rids.push(item["requestId"].as_str().expect("requestId").to_string());
        let rid = item["requestId"].as_str().expect("rid");
        assert_eq!(h.finish(rid).await["status"], "SUCCESS");
        assert_eq!(h.get(&format!("/tenants/{id}")).await.body["name"], name);
    }
    rids.sort();
    rids.dedup();
    assert_eq!(rids.len(), 3);

    // A numeric street address / postal code is accepted (the seed's example does it).
    let mut b = ec_body("Numbers");
    b["street_address"] = json!(350);
    b["postal_code"] = json!(95089);
    let r = h.post("/tenants", json!({"data": [b]})).await;
    assert_eq!(r.status, 202, "{}", r.text);

    // Required fields are a switch (name stays required).
    let mut b = ec_body("Minimal");
    for k in [
        "admin_email",
        "service_effective_date",
        "service_expiration_date",
    ] {
        b.as_object_mut().expect("obj").remove(k);
    }
    assert_eq!(
        h.post("/tenants", json!({"data": [b.clone()]}))
            .await
            .status,
        400
    );
    h.sim
        .ruckus_switches(|s| s.create_required_fields = vec!["name".into()]);
    let r = h.post("/tenants", json!({"data": [b]})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(
        h.post("/tenants", json!({"data": [{"city": "x"}]}))
            .await
            .status,
        400
    );
}

// Item 37 + duplicate-name switch.
#[tokio::test]
async fn duplicate_names_are_rejected_unless_allowed() {
    let h = start().await;
    // An existing EC, case-insensitively.
    let r = h
        .post("/tenants", json!({"data": [ec_body("seaside hotel")]}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["code"], "DUPLICATE_NAME");
    // An EC still being created.
    let r = h
        .post("/tenants", json!({"data": [ec_body("Pending")]}))
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(
        h.post("/tenants", json!({"data": [ec_body("Pending")]}))
            .await
            .status,
        400
    );
    // Two items with the same name but different fields.
    let mut other = ec_body("Same");
    other["city"] = json!("Elsewhere");
    let r = h
        .post("/tenants", json!({"data": [ec_body("Same"), other]}))
        .await;
    assert_eq!(r.status, 400);
    h.sim.ruckus_switches(|s| {
        s.duplicate_names = mspform::sim::ruckus::DuplicateNames::Allow;
    });
    let r = h
        .post("/tenants", json!({"data": [ec_body("Seaside Hotel")]}))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let rid = r.body["data"][0]["requestId"].as_str().expect("rid");
    assert_eq!(h.finish(rid).await["status"], "SUCCESS");
    let r = h
        .query(
            "/tenants/query",
            json!({"searchString": "Seaside", "filters": {"tenantType": ["MSP_EC"]}}),
        )
        .await;
    assert_eq!(r.body["totalCount"], 2);
}

// Items 38 + 39: activity statuses, visibility only after SUCCESS.
#[tokio::test]
async fn activities_progress_per_poll_and_gate_visibility() {
    let h = start().await;
    let r = h
        .post("/tenants", json!({"data": [ec_body("Gamma")]}))
        .await;
    let id = r.body["data"][0]["tenantId"]
        .as_str()
        .expect("id")
        .to_string();
    let rid = r.body["data"][0]["requestId"]
        .as_str()
        .expect("rid")
        .to_string();
    let q = json!({"filters": {"tenantType": ["MSP_EC"]}, "pageSize": 100});
    for expected in ["PENDING", "INPROGRESS"] {
        // Invisible everywhere while the activity is not done.
        assert_eq!(h.get(&format!("/tenants/{id}")).await.status, 404);
        assert_eq!(h.get(&format!("/mspCustomers/{id}")).await.status, 404);
        assert!(!names(&h.query("/tenants/query", q.clone()).await).contains(&"Gamma".into()));
        let list = h.get("/mspCustomers").await;
        assert!(!list.text.contains("Gamma"));
        let a = h.get(&format!("/activities/{rid}")).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.body["requestId"], rid.as_str());
        assert_eq!(a.body["status"], expected);
        assert_eq!(a.body["useCase"], "ADD_MSP_EC");
        assert!(a.body.get("message").is_none());
    }
    let a = h.get(&format!("/activities/{rid}")).await;
    assert_eq!(a.body["status"], "SUCCESS");
    assert!(a.body["endDatetime"].is_string());
    // Terminal stays terminal.
    assert_eq!(
        h.get(&format!("/activities/{rid}")).await.body["status"],
        "SUCCESS"
    );
    let v = h.get(&format!("/tenants/{id}")).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.body["tenant_id"], id.as_str());
    assert_eq!(v.body["parent_tenant_id"], MSP);
    assert_eq!(v.body["tenant_type"], "MSP_EC");
    assert_eq!(v.body["msp_label"], "simmsp");
    assert_eq!(v.body["name"], "Gamma");
    assert_eq!(v.body["street_address"], "350 W Java Dr");
    assert_eq!(v.body["postal_code"], "95089");
    assert_eq!(v.body["service_effective_date"], "2025-01-01 00:00:00Z");
    assert_eq!(v.body["service_expiration_date"], "2026-01-01 00:00:00Z");
    assert_eq!(v.body["is_active"], true);
    assert_eq!(v.body["tier"], "GOLD");
    assert!(v.body["account_id"].is_string());
    assert!(v.body["privacyFeatures"].is_array());
    assert!(names(&h.query("/tenants/query", q).await).contains(&"Gamma".into()));

    // Unknown id → 404; the legacy path works too.
    let r = h
        .get("/activities/00000000-0000-4000-a000-000000000000")
        .await;
    assert_eq!(r.status, 404);
    assert_error_a(&r);
    let r = h.get(&format!("/api/tenant/{MSP}/activity/{rid}")).await;
    assert_eq!(r.body["status"], "SUCCESS");
    assert_eq!(
        h.get(&format!("/api/tenant/{SEASIDE}/activity/{rid}"))
            .await
            .status,
        403
    );

    // Other spellings and poll counts.
    h.sim.ruckus_switches(|s| {
        s.activity_pending_polls = 1;
        s.activity_pending_statuses = vec!["IN_PROGRESS".into()];
        s.unknown_activity_status = 400;
    });
    let r = h
        .post("/tenants", json!({"data": [ec_body("Delta")]}))
        .await;
    let rid = r.body["data"][0]["requestId"].as_str().expect("rid");
    assert_eq!(
        h.get(&format!("/activities/{rid}")).await.body["status"],
        "IN_PROGRESS"
    );
    assert_eq!(
        h.get(&format!("/activities/{rid}")).await.body["status"],
        "SUCCESS"
    );
    assert_eq!(h.get("/activities/nope").await.status, 400);
    h.sim.ruckus_switches(|s| s.activity_pending_polls = 0);
    let r = h
        .post("/tenants", json!({"data": [ec_body("Epsilon")]}))
        .await;
    let rid = r.body["data"][0]["requestId"].as_str().expect("rid");
    assert_eq!(
        h.get(&format!("/activities/{rid}")).await.body["status"],
        "SUCCESS"
    );
}

// Item 38: injected failures.
#[tokio::test]
async fn failed_activities_change_nothing() {
    let h = start().await;
    h.sim.ruckus_switches(|s| s.fail_next_activities = 1);
    let r = h
        .post("/tenants", json!({"data": [ec_body("Doomed")]}))
        .await;
    assert_eq!(r.status, 202);
    let id = r.body["data"][0]["tenantId"]
        .as_str()
        .expect("id")
        .to_string();
    let rid = r.body["data"][0]["requestId"].as_str().expect("rid");
    let a = h.finish(rid).await;
    assert_eq!(a["status"], "FAIL");
    assert!(a["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(h.get(&format!("/tenants/{id}")).await.status, 404);
    assert_eq!(
        h.sim.dump()["ruckus"]["switches"]["fail_next_activities"],
        0
    );
    // The name is free again; the next activity succeeds.
    let id = h.ec("Doomed").await;

    // Per use case: updates fail, creates do not.
    h.sim
        .ruckus_edit(RuckusEdit::FailNextActivities {
            count: 1,
            use_case: Some("UPDATE_MSP_EC".into()),
        })
        .expect("edit");
    let ok = h
        .post("/tenants", json!({"data": [ec_body("Spared")]}))
        .await;
    let rid = ok.body["data"][0]["requestId"].as_str().expect("rid");
    assert_eq!(h.finish(rid).await["status"], "SUCCESS");
    let mut b = ec_body("Renamed");
    b["city"] = json!("Elsewhere");
    let r = h
        .call(Method::PUT, &format!("/tenants/{id}"), Some(b))
        .await;
    let a = h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert_eq!(a["status"], "FAIL");
    assert_eq!(
        h.get(&format!("/tenants/{id}")).await.body["name"],
        "Doomed"
    );
    assert!(
        h.sim
            .ruckus_edit(RuckusEdit::FailNextActivities {
                count: 1,
                use_case: Some("NOPE".into()),
            })
            .is_err()
    );
}

// The lead's kill-and-rerun case: a client that stops polling finds the activity terminal
// and the tenant visible when it comes back, by time alone.
#[tokio::test]
async fn activities_complete_by_time_when_nobody_polls() {
    let h = start_default().await;
    assert_eq!(
        h.sim.dump()["ruckus"]["switches"]["activity_settle_ms"],
        2000
    );
    h.sim.ruckus_switches(|s| s.activity_settle_ms = 60_000);
    let r = h
        .post("/tenants", json!({"data": [ec_body("Orphan")]}))
        .await;
    let id = r.body["data"][0]["tenantId"]
        .as_str()
        .expect("id")
        .to_string();
    let rid = r.body["data"][0]["requestId"]
        .as_str()
        .expect("rid")
        .to_string();
    assert_eq!(
        h.get(&format!("/activities/{rid}")).await.body["status"],
        "PENDING"
    );
    // ... the client is killed here; a minute later (sim clock) a new run looks.
    h.sim.advance_clock(61);
    // The state dump settles due activities too.
    let dump = h.sim.dump();
    let ecs = dump["ruckus"]["ecs"].as_array().expect("ecs");
    assert!(ecs.iter().any(|e| e["name"] == "Orphan"));
    let q = json!({"searchString": "Orphan", "filters": {"tenantType": ["MSP_EC"]}});
    let found = h.query("/tenants/query", q).await;
    assert_eq!(found.body["totalCount"], 1);
    assert_eq!(found.body["data"][0]["id"], id.as_str());
    assert_eq!(h.get(&format!("/tenants/{id}")).await.status, 200);
    let a = h.get(&format!("/activities/{rid}")).await;
    assert_eq!(a.body["status"], "SUCCESS");

    // Polling resumes where it stopped, too (poll-driven completion across "runs"), but
    // an activity takes `activity_min_ms` of sim time however often it is polled.
    assert_eq!(h.sim.dump()["ruckus"]["switches"]["activity_min_ms"], 50);
    h.sim.ruckus_switches(|s| {
        s.activity_settle_ms = 0;
        s.activity_min_ms = 60_000;
    });
    let r = h
        .post("/tenants", json!({"data": [ec_body("Resumed")]}))
        .await;
    let rid = r.body["data"][0]["requestId"].as_str().expect("rid");
    for expected in ["PENDING", "INPROGRESS", "INPROGRESS", "INPROGRESS"] {
        assert_eq!(
            h.get(&format!("/activities/{rid}")).await.body["status"],
            expected
        );
    }
    h.sim.advance_clock(61);
    assert_eq!(h.finish(rid).await["status"], "SUCCESS");
}

// Item 40: update.
#[tokio::test]
async fn update_requires_name_and_dates_and_applies_on_success() {
    let h = start().await;
    let id = h.ec("Hotel").await;
    let path = format!("/tenants/{id}");
    for missing in ["name", "service_effective_date", "service_expiration_date"] {
        let mut b = ec_body("Hotel");
        b.as_object_mut().expect("obj").remove(missing);
        let r = h.call(Method::PUT, &path, Some(b)).await;
        assert_eq!(r.status, 400, "without {missing}");
        assert_error_a(&r);
    }
    assert_eq!(
        h.raw(Method::PUT, &path, "application/json", "[")
            .await
            .status,
        400
    );
    assert_eq!(
        h.call(
            Method::PUT,
            "/tenants/ffffffffffffffffffffffffffffffff",
            Some(ec_body("X"))
        )
        .await
        .status,
        404
    );
    // Renaming onto another EC's name.
    assert_eq!(
        h.call(Method::PUT, &path, Some(ec_body("Lakeview School")))
            .await
            .status,
        400
    );

    // Replace semantics (default): city omitted → cleared.
    let b = json!({"name": "Hotel Grand", "service_effective_date": "2025-02-01 00:00:00.000Z",
        "service_expiration_date": "2027-02-01T00:00:00Z", "street_address": "1 Bay St"});
    let r = h.call(Method::PUT, &path, Some(b)).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["tenantId"], id.as_str());
    let rid = r.body["requestId"].as_str().expect("rid").to_string();
    // Not visible before SUCCESS.
    assert_eq!(h.get(&path).await.body["name"], "Hotel");
    assert_eq!(h.finish(&rid).await["status"], "SUCCESS");
    let v = h.get(&path).await.body;
    assert_eq!(v["name"], "Hotel Grand");
    assert_eq!(v["street_address"], "1 Bay St");
    assert_eq!(v["city"], Value::Null);
    assert_eq!(v["service_expiration_date"], "2027-02-01 00:00:00Z");

    // Merge semantics: omitted fields are kept.
    h.sim.ruckus_switches(|s| {
        s.update_semantics = mspform::sim::ruckus::UpdateSemantics::Merge;
    });
    let b = json!({"name": "Hotel Grand", "service_effective_date": "2025-02-01 00:00:00Z",
        "service_expiration_date": "2027-02-01 00:00:00Z", "city": "Monterey"});
    let r = h.call(Method::PUT, &path, Some(b)).await;
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    let v = h.get(&path).await.body;
    assert_eq!(v["city"], "Monterey");
    assert_eq!(v["street_address"], "1 Bay St");
}

// Item 41: delete.
#[tokio::test]
async fn delete_answers_200_and_removes_on_success() {
    let h = start().await;
    let id = h.ec("Temporary").await;
    let path = format!("/tenants/{id}");
    let r = h.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tenantId"], id.as_str());
    let rid = r.body["requestId"].as_str().expect("rid").to_string();
    assert_eq!(h.get(&path).await.status, 200, "still there until SUCCESS");
    assert_eq!(h.finish(&rid).await["status"], "SUCCESS");
    assert_eq!(h.get(&path).await.status, 404);
    assert_eq!(h.call(Method::DELETE, &path, None).await.status, 404);

    h.sim.ruckus_switches(|s| s.delete_status = 202);
    let id = h.ec("Temporary 2").await;
    let r = h
        .call(Method::DELETE, &format!("/tenants/{id}"), None)
        .await;
    assert_eq!(r.status, 202);
    // Deleting an EC revokes its tech-partner delegations.
    let r = h
        .call(Method::DELETE, &format!("/tenants/{SEASIDE}"), None)
        .await;
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert!(h.assigned(INTEGRATOR, "MSP_INTEGRATOR").await.is_empty());
}

// Item 42: invitations.
#[tokio::test]
async fn invitations_need_admin_email_and_answer_204() {
    let h = start().await;
    let path = format!("/tenants/{LAKEVIEW}/invitations");
    let r = h.post(&path, json!({"resend": true})).await;
    assert_eq!(r.status, 400);
    assert_error_a(&r);
    assert_eq!(h.post(&path, json!({"admin_email": ""})).await.status, 400);
    assert_eq!(
        h.post(
            &path,
            json!({"admin_email": "a@b.example", "resend": "maybe"})
        )
        .await
        .status,
        400
    );
    let r = h
        .post(
            &path,
            json!({"admin_email": "new.admin@lakeview.example", "resend": false}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    let r = h
        .get(&format!(
            "{path}?admin_email=new.admin@lakeview.example&resend=true"
        ))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(h.get(&path).await.status, 400);
    assert_eq!(
        h.post(
            "/tenants/ffffffffffffffffffffffffffffffff/invitations",
            json!({"admin_email": "x@y.example"})
        )
        .await
        .status,
        404
    );
    let inv = h.sim.dump()["ruckus"]["invitations"].clone();
    let inv = inv.as_array().expect("invitations");
    assert_eq!(inv.len(), 2);
    assert_eq!(inv[0]["tenant_id"], LAKEVIEW);
    assert_eq!(inv[0]["method"], "POST");
    assert_eq!(inv[1]["resend"], true);
    assert_eq!(inv[1]["method"], "GET");
    h.sim.ruckus_switches(|s| s.invitations_get = false);
    assert_eq!(
        h.get(&format!("{path}?admin_email=a@b.example"))
            .await
            .status,
        405
    );
}

// Fact sheet §3.4, EC admins: a sent invitation is observable in the EC's
// administrator list (switchable, with the answer's shape).
#[tokio::test]
async fn ec_admins_list_the_create_admin_and_everyone_invited() {
    let h = start().await;
    let admins = format!("/tenants/{LAKEVIEW}/admins");
    let emails = |r: &Resp| -> Vec<String> {
        let rows = r.body.as_array().or_else(|| r.body["data"].as_array());
        rows.expect("a list")
            .iter()
            .map(|a| a["email"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let r = h.get(&admins).await;
    assert_eq!(r.status, 200);
    assert_eq!(emails(&r), ["admin@lakeview.example"]);
    assert_eq!(r.body[0]["user_name"], "admin@lakeview.example");
    for _ in 0..2 {
        let r = h
            .post(
                &format!("/tenants/{LAKEVIEW}/invitations"),
                json!({"admin_email": "New.Admin@lakeview.example"}),
            )
            .await;
        assert_eq!(r.status, 204);
    }
    let r = h.get(&admins).await;
    assert_eq!(
        emails(&r),
        ["admin@lakeview.example", "New.Admin@lakeview.example"],
        "each address once"
    );
    assert_eq!(
        h.get(&format!("/mspCustomers/{LAKEVIEW}/admins"))
            .await
            .body,
        r.body,
        "the deprecated alias"
    );
    assert_eq!(
        h.get("/tenants/ffffffffffffffffffffffffffffffff/admins")
            .await
            .status,
        404
    );

    h.sim.ruckus_switches(|s| {
        s.admins_list_invited = false;
        s.admins_read = mspform::sim::ruckus::AdminsRead::Data;
    });
    let r = h.get(&admins).await;
    assert_eq!(r.body["totalCount"], 1);
    assert_eq!(emails(&r), ["admin@lakeview.example"]);
    h.sim
        .ruckus_switches(|s| s.admins_read = mspform::sim::ruckus::AdminsRead::Absent);
    assert_eq!(h.get(&admins).await.status, 404);
}

// Item 43: deprecated aliases.
#[tokio::test]
async fn mspcustomers_aliases_match_tenants() {
    let h = start().await;
    let r = h
        .post("/mspCustomers", json!({"data": [ec_body("Legacy Co")]}))
        .await;
    assert_eq!(r.status, 202);
    let id = r.body["data"][0]["tenantId"]
        .as_str()
        .expect("id")
        .to_string();
    h.finish(r.body["data"][0]["requestId"].as_str().expect("rid"))
        .await;
    let a = h.get(&format!("/tenants/{id}")).await;
    let b = h.get(&format!("/mspCustomers/{id}")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body, b.body);
    let list = h.get("/mspCustomers").await;
    let arr = list.body.as_array().expect("bare array");
    assert_eq!(arr.len(), 3);
    assert!(arr.iter().any(|e| e == &a.body));

    let mut upd = ec_body("Legacy Co 2");
    upd["city"] = json!("Oldtown");
    let r = h
        .call(Method::PUT, &format!("/mspCustomers/{id}"), Some(upd))
        .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.body["tenantId"], id.as_str());
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert_eq!(
        h.get(&format!("/tenants/{id}")).await.body["city"],
        "Oldtown"
    );
    assert_eq!(
        h.post(
            &format!("/mspCustomers/{id}/invitations"),
            json!({"admin_email": "x@y.example"})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        h.post(&format!("/mspCustomers/{id}/invitations"), json!({}))
            .await
            .status,
        400
    );
    let r = h
        .call(Method::DELETE, &format!("/mspCustomers/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert_eq!(h.get(&format!("/mspCustomers/{id}")).await.status, 404);
    assert_eq!(h.get(&format!("/tenants/{id}")).await.status, 404);
    assert_eq!(
        h.sim.calls("ruckus", "POST /mspCustomers"),
        1,
        "calls are counted per alias"
    );
}

// Item 44: x-rks-tenantid scoping.
#[tokio::test]
async fn delegated_tenant_header_scopes_calls() {
    let h = start().await;
    let as_ec = |m: Method, p: &str, b: Option<Value>| {
        let p = p.to_string();
        let h = &h;
        async move { h.send(m, &p, b, Some(LAKEVIEW), Some("sim-token")).await }
    };
    let r = as_ec(Method::GET, &format!("/tenants/{LAKEVIEW}"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["tenant_id"], LAKEVIEW);
    let r = as_ec(Method::GET, &format!("/tenants/{SEASIDE}"), None).await;
    assert_eq!(r.status, 403);
    assert_error_a(&r);
    let r = as_ec(Method::GET, "/mspCustomers", None).await;
    assert_eq!(r.body, json!([]));
    let r = as_ec(Method::POST, "/tenants/query", Some(json!({}))).await;
    assert_eq!(r.body["totalCount"], 0);
    assert_eq!(
        as_ec(
            Method::POST,
            "/tenants",
            Some(json!({"data": [ec_body("Child")]}))
        )
        .await
        .status,
        403
    );
    assert_eq!(
        as_ec(Method::GET, &format!("/mspIntegrators/{INTEGRATOR}"), None)
            .await
            .status,
        403
    );
    // The EC can update itself; the change lands in that EC.
    let mut b = ec_body("Lakeview School");
    b["city"] = json!("Green Bay");
    let r = as_ec(Method::PUT, &format!("/tenants/{LAKEVIEW}"), Some(b)).await;
    assert_eq!(r.status, 202);
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert_eq!(
        h.get(&format!("/tenants/{LAKEVIEW}")).await.body["city"],
        "Green Bay"
    );
    // The MSP's own id is the MSP context.
    let r = h
        .send(
            Method::GET,
            "/mspCustomers",
            None,
            Some(MSP),
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.body.as_array().expect("array").len(), 2);
    // Not delegated: unknown ids, tech partners, ECs still being created.
    for other in ["ffffffffffffffffffffffffffffffff", INTEGRATOR] {
        let r = h
            .send(
                Method::GET,
                "/mspCustomers",
                None,
                Some(other),
                Some("sim-token"),
            )
            .await;
        assert_eq!(r.status, 403, "{other}");
    }
    let r = h.post("/tenants", json!({"data": [ec_body("Soon")]})).await;
    let soon = r.body["data"][0]["tenantId"].as_str().expect("id");
    let r = h
        .send(
            Method::GET,
            &format!("/tenants/{soon}"),
            None,
            Some(soon),
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.status, 403);
    h.sim.ruckus_switches(|s| s.undelegated_tenant_status = 404);
    let r = h
        .send(
            Method::GET,
            "/mspCustomers",
            None,
            Some(INTEGRATOR),
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.status, 404);
}

// Item 45: query endpoints.
#[tokio::test]
async fn queries_page_sort_search_and_filter() {
    let h = start().await;
    h.sim.ruckus_switches(|s| s.activity_pending_polls = 0);
    for n in [
        "Echo Cafe",
        "Alpha Bank",
        "Delta Dental",
        "Bravo Bikes",
        "Charlie Cars",
    ] {
        h.ec(n).await;
    }
    let ecs = json!({"filters": {"tenantType": ["MSP_EC"]}, "pageSize": 100});
    let all = h.query("/tenants/query", ecs).await;
    assert_eq!(all.body["totalCount"], 7);
    assert_eq!(all.body["page"], 0);
    assert_eq!(
        names(&all),
        [
            "Alpha Bank",
            "Bravo Bikes",
            "Charlie Cars",
            "Delta Dental",
            "Echo Cafe",
            "Lakeview School",
            "Seaside Hotel"
        ]
    );
    let row = &all.body["data"][6];
    assert_eq!(row["id"], SEASIDE);
    assert_eq!(row["tenantType"], "MSP_EC");
    assert_eq!(row["status"], "Active");
    assert_eq!(row["streetAddress"], "350 W Java Dr");
    assert_eq!(row["integrator"], INTEGRATOR);
    assert_eq!(row["installer"], Value::Null);

    // Paging.
    let p = |page: u64| {
        json!({"filters": {"tenantType": ["MSP_EC"]}, "page": page, "pageSize": 3,
            "sortField": "name", "sortOrder": "ASC"})
    };
    let first = h.query("/mspecs/query", p(0)).await;
    assert_eq!(names(&first), ["Alpha Bank", "Bravo Bikes", "Charlie Cars"]);
    assert_eq!(first.body["totalCount"], 7);
    let third = h.query("/mspecs/query", p(2)).await;
    assert_eq!(names(&third), ["Seaside Hotel"]);
    assert_eq!(third.body["page"], 2);
    assert!(names(&h.query("/mspecs/query", p(3)).await).is_empty());
    // Default page size 10.
    assert_eq!(
        h.query("/tenants/query", json!({})).await.body["data"]
            .as_array()
            .expect("data")
            .len(),
        10
    );

    // Sorting descending, by another field.
    let r = h
        .query(
            "/mspecs/query",
            json!({"sortField": "name", "sortOrder": "DESC", "pageSize": 2}),
        )
        .await;
    assert_eq!(names(&r), ["Seaside Hotel", "Lakeview School"]);
    let r = h
        .query(
            "/mspecs/query",
            json!({"sortField": "streetAddress", "pageSize": 100}),
        )
        .await;
    assert_eq!(r.body["data"][0]["streetAddress"], "12 School Rd");
    assert_eq!(
        h.post("/mspecs/query", json!({"sortOrder": "asc"}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.post("/mspecs/query", json!({"pageSize": 0})).await.status,
        400
    );
    assert_eq!(
        h.post("/mspecs/query", json!({"page": -1})).await.status,
        400
    );
    assert_eq!(
        h.post("/mspecs/query", json!({"filters": [1]}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.raw(Method::POST, "/mspecs/query", "application/json", "{")
            .await
            .status,
        400
    );

    // Search (case-insensitive substring over searchTargetFields).
    let r = h
        .query(
            "/tenants/query",
            json!({"searchString": "b", "searchTargetFields": ["name"],
                "filters": {"tenantType": ["MSP_EC"]}}),
        )
        .await;
    assert_eq!(names(&r), ["Alpha Bank", "Bravo Bikes"]);
    let r = h
        .query(
            "/tenants/query",
            json!({"searchString": "school rd", "searchTargetFields": ["streetAddress"]}),
        )
        .await;
    assert_eq!(names(&r), ["Lakeview School"]);

    // Filters: tenant types, ids; fields projection.
    let partners = h
        .query(
            "/tenants/query",
            json!({"filters": {"tenantType": ["MSP_INTEGRATOR", "MSP_INSTALLER"]},
                "fields": ["id", "name", "tenantType"], "pageSize": 10000}),
        )
        .await;
    assert_eq!(partners.body["totalCount"], 3);
    assert_eq!(
        names(&partners),
        [
            "Bluebird Installers",
            "Fabrikam Systems",
            "Northwind Integration"
        ]
    );
    let first = partners.body["data"][0].as_object().expect("row");
    assert_eq!(first.len(), 3, "projected to the asked fields: {first:?}");
    assert_eq!(first["id"], INSTALLER);
    assert_eq!(first["tenantType"], "MSP_INSTALLER");
    let r = h
        .query(
            "/tenants/query",
            json!({"filters": {"id": [LAKEVIEW, INTEGRATOR2]}}),
        )
        .await;
    assert_eq!(names(&r), ["Fabrikam Systems", "Lakeview School"]);
    // /tenants/query without a type filter lists partners too; /mspecs/query does not.
    assert_eq!(
        h.query("/tenants/query", json!({})).await.body["totalCount"],
        10
    );
    assert_eq!(
        h.query("/mspecs/query", json!({})).await.body["totalCount"],
        7
    );
    let r = h
        .query(
            "/mspecs/query",
            json!({"filters": {"tenantType": ["MSP_INTEGRATOR"]}}),
        )
        .await;
    assert_eq!(r.body["totalCount"], 2);
    // Tech-partner ECs: the tech partners' own tenant rows (as the web UI reads
    // them), with the ECs assigned to each; a type filter picks other types.
    let r = h.query("/techpartners/mspecs/query", json!({})).await;
    assert_eq!(
        names(&r),
        [
            "Bluebird Installers",
            "Fabrikam Systems",
            "Northwind Integration"
        ]
    );
    let northwind = r.body["data"][2].as_object().expect("row");
    assert_eq!(northwind["tenantType"], "MSP_INTEGRATOR");
    assert_eq!(northwind["assignedMspEcList"], json!([SEASIDE]));
    let r = h
        .query(
            "/techpartners/mspecs/query",
            json!({"filters": {"tenantType": ["MSP_EC"]}}),
        )
        .await;
    assert_eq!(r.body["totalCount"], 7);
    // Deprecated by the vendor: switched off, it is gone (404).
    h.sim.ruckus_switches(|s| s.techpartners_query = false);
    assert_eq!(
        h.post("/techpartners/mspecs/query", json!({})).await.status,
        404
    );
    h.sim.ruckus_switches(|s| s.techpartners_query = true);

    // Switches: total key, page base, page-size cap.
    h.sim.ruckus_switches(|s| {
        s.query_total_key = mspform::sim::ruckus::TotalKey::Total;
        s.query_page_base = 1;
        s.query_max_page_size = 2;
    });
    let r = h.query("/mspecs/query", json!({"pageSize": 5000})).await;
    assert_eq!(r.body["total"], 7);
    assert!(r.body.get("totalCount").is_none());
    assert_eq!(r.body["page"], 1);
    assert_eq!(names(&r), ["Alpha Bank", "Bravo Bikes"]);
    let r = h
        .query("/mspecs/query", json!({"page": 2, "pageSize": 2}))
        .await;
    assert_eq!(names(&r), ["Charlie Cars", "Delta Dental"]);
    assert_eq!(
        h.post("/mspecs/query", json!({"page": 0})).await.status,
        400
    );
    h.sim.ruckus_switches(|s| {
        s.query_total_key = mspform::sim::ruckus::TotalKey::Both;
    });
    let r = h.query("/mspecs/query", json!({})).await;
    assert_eq!(r.body["total"], 7);
    assert_eq!(r.body["totalCount"], 7);
}

// Item 46: the token bucket.
async fn burst(h: &Arc<H>, n: usize) -> Vec<Resp> {
    let calls = (0..n).map(|_| {
        let h = h.clone();
        async move { h.get("/mspCustomers").await }
    });
    futures::future::join_all(calls).await
}

#[tokio::test]
async fn rate_limit_bucket_200_refills_100_per_second() {
    let h = Arc::new(start().await);
    // The simulated clock stands still: only advancing it refills the bucket, so
    // every count below is exact whatever the machine's speed.
    h.sim.freeze_clock();
    let get = || async { h.get("/mspCustomers").await };
    // A burst of 200 passes; the 201st call is refused.
    let all = burst(&h, 200).await;
    assert!(all.iter().all(|r| r.status == 200), "a 200 burst passes");
    let limited = get().await;
    assert_eq!(limited.status, 429);
    assert_error_a(&limited);
    assert_eq!(limited.body["errors"][0]["code"], "TOO_MANY_REQUESTS");
    assert!(limited.headers.get("retry-after").is_none());

    // A second refills 100: 100 more pass, the 101st is refused.
    h.sim.advance_clock(1);
    for k in 0..100 {
        assert_eq!(get().await.status, 200, "refilled call {k}");
    }
    assert_eq!(get().await.status, 429, "over 100 in that second");

    // Five seconds refill it to the brim, not beyond: of 500 at once, 200 pass.
    h.sim.advance_clock(5);
    let all = burst(&h, 500).await;
    let ok = all.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 200);
    assert!(all.iter().all(|r| r.status == 200 || r.status == 429));

    // Retry-After switch: whole seconds until a call would pass.
    h.sim.ruckus_switches(|s| s.retry_after = true);
    let r = get().await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), "1");
    h.sim.advance_clock(1);
    assert_eq!(get().await.status, 200, "it passes after that wait");

    // Off.
    h.sim.ruckus_switches(|s| s.rate_bucket_max = 0);
    assert!(burst(&h, 300).await.iter().all(|r| r.status == 200));
}

// Item 46: per-tenant buckets.
#[tokio::test]
async fn rate_limit_scope_switch_picks_the_bucket() {
    let h = start().await;
    // A frozen clock: nothing refills until the test advances it.
    h.sim.freeze_clock();
    h.sim.ruckus_switches(|s| {
        s.rate_bucket_max = 5;
        s.rate_refill_per_sec = 1;
    });
    for _ in 0..5 {
        assert_eq!(h.get("/mspCustomers").await.status, 200);
    }
    assert_eq!(h.get("/mspCustomers").await.status, 429);
    // Caller scope: the EC context draws from the MSP's bucket.
    let path = format!("/tenants/{LAKEVIEW}");
    let r = h
        .send(Method::GET, &path, None, Some(LAKEVIEW), Some("sim-token"))
        .await;
    assert_eq!(r.status, 429);
    h.sim.ruckus_switches(|s| {
        s.rate_limit_scope = mspform::sim::ruckus::RateLimitScope::Acting;
    });
    let r = h
        .send(Method::GET, &path, None, Some(LAKEVIEW), Some("sim-token"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(h.get("/mspCustomers").await.status, 429);
    // The clock refills.
    h.sim.advance_clock(10);
    assert_eq!(h.get("/mspCustomers").await.status, 200);
}

// Item 47: tech partners and delegations.
#[tokio::test]
async fn tech_partner_assignment_replaces_the_ec_list() {
    let h = start().await;
    assert_eq!(h.assigned(INTEGRATOR, "MSP_INTEGRATOR").await, [SEASIDE]);
    assert!(h.assigned(INSTALLER, "MSP_INSTALLER").await.is_empty());
    // Default delegationType is the partner's own type; a bad one is 400.
    let r = h.get(&format!("/mspIntegrators/{INTEGRATOR}")).await;
    assert_eq!(r.body["mspec_list"], json!([SEASIDE]));
    assert_eq!(r.body["delegated_to"], INTEGRATOR);
    assert_eq!(
        h.get(&format!("/mspIntegrators/{INTEGRATOR}?delegationType=VAR"))
            .await
            .status,
        400
    );
    assert_eq!(
        h.get("/mspIntegrators/ffffffffffffffffffffffffffffffff")
            .await
            .status,
        404
    );

    let path = format!("/mspIntegrators/{INTEGRATOR}");
    let body = |list: Value| json!({"delegation_type": "MSP_INTEGRATOR", "number_of_days": null, "mspec_list": list});
    // Foreign / unknown EC → 400, nothing queued.
    let before = h.sim.dump()["ruckus"]["activities"]
        .as_array()
        .expect("activities")
        .len();
    let r = h
        .call(
            Method::PATCH,
            &path,
            Some(body(json!([LAKEVIEW, "ffffffffffffffffffffffffffffffff"]))),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_error_a(&r);
    let r = h
        .call(Method::PATCH, &path, Some(body(json!([INSTALLER]))))
        .await;
    assert_eq!(r.status, 400, "a tech partner is not an EC");
    let wrong_type = json!({"delegation_type": "MSP_INSTALLER", "mspec_list": [LAKEVIEW]});
    assert_eq!(
        h.call(Method::PATCH, &path, Some(wrong_type)).await.status,
        400
    );
    assert_eq!(
        h.call(
            Method::PATCH,
            &path,
            Some(json!({"mspec_list": [LAKEVIEW]}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        h.call(
            Method::PATCH,
            &path,
            Some(json!({"delegation_type": "MSP_INTEGRATOR"}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        h.raw(Method::PATCH, &path, "application/json", "nope")
            .await
            .status,
        400
    );
    assert_eq!(
        h.sim.dump()["ruckus"]["activities"]
            .as_array()
            .expect("activities")
            .len(),
        before
    );
    assert_eq!(h.assigned(INTEGRATOR, "MSP_INTEGRATOR").await, [SEASIDE]);

    // Replace: [SEASIDE] → [LAKEVIEW, new EC].
    let new_ec = h.ec("Pier Diner").await;
    let r = h
        .call(Method::PATCH, &path, Some(body(json!([LAKEVIEW, new_ec]))))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let rid = r.body["requestId"].as_str().expect("rid").to_string();
    assert_eq!(h.assigned(INTEGRATOR, "MSP_INTEGRATOR").await, [SEASIDE]);
    assert_eq!(h.finish(&rid).await["status"], "SUCCESS");
    assert_eq!(
        h.assigned(INTEGRATOR, "MSP_INTEGRATOR").await,
        [LAKEVIEW, new_ec.as_str()]
    );
    // The old delegation is REVOKED, the new ones ACCEPTED, with the documented fields.
    let d = h
        .query(
            "/delegations/query",
            json!({"filters": {"delegatedTo": [INTEGRATOR]}, "pageSize": 100}),
        )
        .await;
    let rows = d.body["data"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    let seaside = rows
        .iter()
        .find(|r| r["delegatedBy"] == SEASIDE)
        .expect("seaside delegation");
    assert_eq!(seaside["status"], "REVOKED");
    assert_eq!(seaside["isValid"], false);
    let lake = rows
        .iter()
        .find(|r| r["delegatedBy"] == LAKEVIEW)
        .expect("lakeview delegation");
    for key in [
        "id",
        "createdDate",
        "updatedDate",
        "delegatedTo",
        "type",
        "status",
        "delegatedBy",
        "expiryDate",
        "delegatedToName",
        "parentId",
        "isValid",
    ] {
        assert!(lake.get(key).is_some(), "delegation has {key}: {lake}");
    }
    assert_eq!(lake["type"], "MSP_INTEGRATOR");
    assert_eq!(lake["status"], "ACCEPTED");
    assert_eq!(lake["delegatedToName"], "Northwind Integration");
    assert_eq!(lake["parentId"], MSP);
    assert_eq!(lake["expiryDate"], Value::Null);
    assert_eq!(lake["isValid"], true);
    let id = lake["id"].as_str().expect("id");
    let one = h.get(&format!("/tenants/delegations/{id}")).await;
    assert_eq!(&one.body, lake);
    // Query rows know the assignment.
    let row = h
        .query(
            "/tenants/query",
            json!({"filters": {"id": [INTEGRATOR]}, "fields": ["id", "assignedMspEcList"]}),
        )
        .await;
    assert_eq!(
        row.body["data"][0]["assignedMspEcList"],
        json!([LAKEVIEW, new_ec])
    );
    let r = h
        .query(
            "/delegations/query",
            json!({"filters": {"status": ["ACCEPTED"]}, "searchString": "northwind"}),
        )
        .await;
    assert_eq!(r.body["totalCount"], 2);

    // Installer with a limited access period; the newer path is an alias.
    let ipath = format!("/tenants/{INSTALLER}/tenantDelegations");
    let r = h
        .call(
            Method::PUT,
            &ipath,
            Some(
                json!({"delegation_type": "MSP_INSTALLER", "number_of_days": "7",
                "mspec_list": [SEASIDE]}),
            ),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    let r = h
        .get(&format!("{ipath}?delegationType=MSP_INSTALLER"))
        .await;
    assert_eq!(r.body["mspec_list"], json!([SEASIDE]));
    assert!(r.body["expiry_date"].is_string());
    assert_eq!(
        h.call(
            Method::PATCH,
            &format!("/mspIntegrators/{INSTALLER}"),
            Some(
                json!({"delegation_type": "MSP_INSTALLER", "number_of_days": 61,
                "mspec_list": [SEASIDE]})
            )
        )
        .await
        .status,
        400
    );
    // Empty list: the partner loses every EC.
    let r = h.call(Method::PATCH, &path, Some(body(json!([])))).await;
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert!(h.assigned(INTEGRATOR, "MSP_INTEGRATOR").await.is_empty());
}

// Item 47: INVITED → ACCEPTED / REJECTED, REVOKED after DELETE.
#[tokio::test]
async fn delegations_move_through_their_statuses() {
    let h = start().await;
    h.sim.ruckus_switches(|s| {
        s.new_delegation_status = mspform::sim::ruckus::NewDelegationStatus::Invited;
    });
    let path = format!("/mspIntegrators/{INTEGRATOR2}");
    let r = h
        .call(
            Method::PATCH,
            &path,
            Some(json!({"delegation_type": "MSP_INTEGRATOR", "mspec_list": [SEASIDE, LAKEVIEW]})),
        )
        .await;
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    // INVITED delegations already count as assigned.
    assert_eq!(
        h.assigned(INTEGRATOR2, "MSP_INTEGRATOR").await,
        [SEASIDE, LAKEVIEW]
    );
    let d = h
        .query(
            "/delegations/query",
            json!({"filters": {"delegatedTo": [INTEGRATOR2]}}),
        )
        .await;
    let rows = d.body["data"].as_array().expect("rows").clone();
    assert!(rows.iter().all(|r| r["status"] == "INVITED"));
    let id_of = |ec: &str| {
        rows.iter()
            .find(|r| r["delegatedBy"] == ec)
            .and_then(|r| r["id"].as_str())
            .expect("delegation")
            .to_string()
    };
    let (sea, lake) = (id_of(SEASIDE), id_of(LAKEVIEW));

    let dpath = |id: &str| format!("/tenants/delegations/{id}");
    assert_eq!(
        h.call(Method::PUT, &dpath(&sea), Some(json!({"accept": "yes"})))
            .await
            .status,
        400
    );
    let r = h
        .call(Method::PUT, &dpath(&sea), Some(json!({"accept": true})))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(h.get(&dpath(&sea)).await.body["status"], "INVITED");
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert_eq!(h.get(&dpath(&sea)).await.body["status"], "ACCEPTED");
    let r = h
        .call(Method::PUT, &dpath(&lake), Some(json!({"accept": false})))
        .await;
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    assert_eq!(h.get(&dpath(&lake)).await.body["status"], "REJECTED");
    assert_eq!(h.assigned(INTEGRATOR2, "MSP_INTEGRATOR").await, [SEASIDE]);
    // Only an INVITED delegation can be answered.
    let r = h
        .call(Method::PUT, &dpath(&sea), Some(json!({"accept": true})))
        .await;
    assert_eq!(r.status, 400);
    assert_error_a(&r);
    // DELETE → REVOKED.
    let r = h.call(Method::DELETE, &dpath(&sea), None).await;
    assert_eq!(r.status, 202);
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    let v = h.get(&dpath(&sea)).await.body;
    assert_eq!(v["status"], "REVOKED");
    assert_eq!(v["isValid"], false);
    assert!(h.assigned(INTEGRATOR2, "MSP_INTEGRATOR").await.is_empty());
    assert_eq!(
        h.get("/tenants/delegations/ffffffffffffffffffffffffffffffff")
            .await
            .status,
        404
    );
    // An EC sees its own delegations only.
    let r = h
        .send(
            Method::POST,
            "/delegations/query",
            Some(json!({})),
            Some(LAKEVIEW),
            Some("sim-token"),
        )
        .await;
    let rows = r.body["data"].as_array().expect("rows");
    assert!(!rows.is_empty() && rows.iter().all(|r| r["delegatedBy"] == LAKEVIEW));

    // Synchronous switch: 200 + the delegation at once.
    h.sim.ruckus_switches(|s| s.delegation_writes_async = false);
    let r = h
        .call(
            Method::PATCH,
            &path,
            Some(json!({"delegation_type": "MSP_INTEGRATOR", "mspec_list": [SEASIDE]})),
        )
        .await;
    h.finish(r.body["requestId"].as_str().expect("rid")).await;
    let d = h
        .query(
            "/delegations/query",
            json!({"filters": {"delegatedTo": [INTEGRATOR2], "status": ["INVITED"]}}),
        )
        .await;
    let id = d.body["data"][0]["id"].as_str().expect("id").to_string();
    let r = h
        .call(Method::PUT, &dpath(&id), Some(json!({"accept": true})))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "ACCEPTED");
    let r = h.call(Method::DELETE, &dpath(&id), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "REVOKED");
}

// Drift edits.
#[tokio::test]
async fn portal_edits_change_the_account() {
    let h = start().await;
    h.sim
        .ruckus_edit(RuckusEdit::EcField {
            tenant: "Seaside Hotel".into(),
            field: "city".into(),
            value: json!("Santa Cruz"),
        })
        .expect("edit city");
    h.sim
        .ruckus_edit(RuckusEdit::EcField {
            tenant: SEASIDE.into(),
            field: "service_expiration_date".into(),
            value: json!("2030-01-01"),
        })
        .expect("edit date");
    let v = h.get(&format!("/tenants/{SEASIDE}")).await.body;
    assert_eq!(v["city"], "Santa Cruz");
    assert_eq!(v["service_expiration_date"], "2030-01-01 00:00:00Z");
    let r = h
        .control(
            "ruckus/edit",
            json!({"op": "ec_field", "tenant": SEASIDE, "field": "name", "value": "Seaside Inn"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        h.get(&format!("/tenants/{SEASIDE}")).await.body["name"],
        "Seaside Inn"
    );
    for bad in [
        json!({"op": "ec_field", "tenant": "Nobody", "field": "city", "value": "x"}),
        json!({"op": "ec_field", "tenant": SEASIDE, "field": "colour", "value": "x"}),
        json!({"op": "ec_field", "tenant": SEASIDE, "field": "service_effective_date", "value": "soon"}),
        json!({"op": "no_such_op"}),
    ] {
        assert_eq!(
            h.control("ruckus/edit", bad.clone()).await.status,
            400,
            "{bad}"
        );
    }

    // Tech-partner assignment drift.
    h.sim
        .ruckus_edit(RuckusEdit::RemoveFromTechPartner {
            tenant: "Seaside Inn".into(),
            tech_partner: "Northwind Integration".into(),
        })
        .expect("remove");
    assert!(h.assigned(INTEGRATOR, "MSP_INTEGRATOR").await.is_empty());
    h.sim
        .ruckus_edit(RuckusEdit::AddToTechPartner {
            tenant: LAKEVIEW.into(),
            tech_partner: INSTALLER.into(),
            status: None,
        })
        .expect("add");
    assert_eq!(h.assigned(INSTALLER, "MSP_INSTALLER").await, [LAKEVIEW]);
    assert!(
        h.sim
            .ruckus_edit(RuckusEdit::AddToTechPartner {
                tenant: LAKEVIEW.into(),
                tech_partner: INSTALLER.into(),
                status: None,
            })
            .is_err()
    );
    let r = h
        .control(
            "ruckus/edit",
            json!({"op": "add_to_tech_partner", "tenant": SEASIDE, "tech_partner": INTEGRATOR2,
                "status": "INVITED"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(h.assigned(INTEGRATOR2, "MSP_INTEGRATOR").await, [SEASIDE]);

    // Delete.
    h.sim
        .ruckus_edit(RuckusEdit::DeleteEc {
            tenant: LAKEVIEW.into(),
        })
        .expect("delete");
    assert_eq!(h.get(&format!("/tenants/{LAKEVIEW}")).await.status, 404);
    assert!(h.assigned(INSTALLER, "MSP_INSTALLER").await.is_empty());
}

// Item 56 + §3.4 quirks: switches over HTTP, number quirk, error format B, faults.
#[tokio::test]
async fn switches_quirks_and_faults() {
    let h = start().await;
    // Switches over the control plane (partial merge; unknown keys refused).
    let r = h
        .control(
            "ruckus/switches",
            json!({"numbers_in_string_fields": true, "is_active_as_string": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["numbers_in_string_fields"], true);
    assert_eq!(r.body["rate_bucket_max"], 200);
    assert_eq!(
        h.control("ruckus/switches", json!({"nope": 1}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.control("ruckus/switches", json!({"delete_status": "x"}))
            .await
            .status,
        400
    );
    let got: Value = h
        .http
        .get(format!("{}/_sim/ruckus/switches", h.sim.url()))
        .send()
        .await
        .expect("switches")
        .json()
        .await
        .expect("json");
    assert_eq!(got["is_active_as_string"], true);

    let v = h.get(&format!("/tenants/{SEASIDE}")).await.body;
    assert_eq!(v["postal_code"], 95089);
    assert_eq!(v["street_address"], "350 W Java Dr");
    assert_eq!(v["is_active"], "true");
    h.sim
        .ruckus_edit(RuckusEdit::EcField {
            tenant: SEASIDE.into(),
            field: "postal_code".into(),
            value: json!("02134"),
        })
        .expect("edit");
    assert_eq!(
        h.get(&format!("/tenants/{SEASIDE}")).await.body["postal_code"],
        "02134",
        "a leading zero stays a string"
    );

    // Error format (B).
    h.sim
        .ruckus_switches(|s| s.error_format = mspform::sim::ruckus::ErrorFormat::B);
    let r = h.get("/tenants/ffffffffffffffffffffffffffffffff").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["status"], 404);
    assert!(r.body["message"].is_string());
    assert!(r.body["detailedMessage"].is_string());
    assert!(r.body["timestamp"].is_string());
    assert!(r.body["validationErrors"].is_array());
    h.sim
        .ruckus_switches(|s| s.error_format = mspform::sim::ruckus::ErrorFormat::A);

    // Injected faults: status, rate limit (RUCKUS bodies), drop after commit.
    h.sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: "POST /tenants".into(),
        kind: FaultKind::Status { status: 503 },
        count: Some(1),
        rate: None,
    });
    let r = h
        .post("/tenants", json!({"data": [ec_body("Faulty")]}))
        .await;
    assert_eq!(r.status, 503);
    assert_error_a(&r);
    h.sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: "GET /tenants/*".into(),
        kind: FaultKind::RateLimitSecond,
        count: Some(1),
        rate: None,
    });
    let r = h.get(&format!("/tenants/{SEASIDE}")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.body["errors"][0]["code"], "TOO_MANY_REQUESTS");
    assert_eq!(h.get(&format!("/tenants/{SEASIDE}")).await.status, 200);
    h.sim.inject_fault(FaultSpec {
        vendor: "ruckus".into(),
        route: "POST /tenants".into(),
        kind: FaultKind::DropAfterCommit,
        count: Some(1),
        rate: None,
    });
    let sent = h
        .http
        .post(format!("{}/tenants", h.base))
        .bearer_auth("sim-token")
        .json(&json!({"data": [ec_body("Dropped")]}))
        .send()
        .await;
    assert!(sent.is_err(), "the connection is cut");
    let acts = h.sim.dump()["ruckus"]["activities"].clone();
    assert_eq!(acts.as_array().expect("activities").len(), 1, "committed");
    // A blind retry is refused (the name is being created); the activity completes.
    assert_eq!(
        h.post("/tenants", json!({"data": [ec_body("Dropped")]}))
            .await
            .status,
        400
    );
    assert_eq!(h.sim.calls("ruckus", "POST /tenants"), 3);

    // Unknown routes and methods answer in the vendor format.
    let r = h.get("/no/such/route").await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_object());
    let r = h.call(Method::PATCH, "/tenants", None).await;
    assert_eq!(r.status, 405);
    assert_error_a(&r);
}

#[tokio::test]
async fn state_dump_reset_persistence_and_root_listener() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut o = opts(Some(dir.path().to_path_buf()));
    o.ruckus_listen = Some(local());
    let first = Simulator::start(o).await.expect("start");
    first.ruckus_switches(|s| {
        s.activity_settle_ms = 0;
        s.activity_min_ms = 0;
    });
    let root = format!("http://{}", first.ruckus_addr().expect("ruckus listener"));
    let h = H {
        sim: first,
        http: reqwest::Client::new(),
        base: root,
    };
    // Served at the root of its own address, token endpoint included.
    let r = h
        .token(
            MSP,
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials&client_id=sim-r1-client&client_secret=sim-r1-secret",
        )
        .await;
    assert_eq!(r.status, 200);
    let kept = h.ec("Kept").await;
    let r = h
        .post("/tenants", json!({"data": [ec_body("Half done")]}))
        .await;
    let pending = r.body["data"][0]["tenantId"]
        .as_str()
        .expect("id")
        .to_string();
    let rid = r.body["data"][0]["requestId"]
        .as_str()
        .expect("rid")
        .to_string();
    assert_eq!(
        h.get(&format!("/activities/{rid}")).await.body["status"],
        "PENDING"
    );
    let dump = h.sim.dump();
    assert_eq!(dump["ruckus"]["ecs"].as_array().expect("ecs").len(), 3);
    assert_eq!(dump["calls"]["ruckus"]["POST /tenants"], 2);
    h.sim.shutdown().await;

    // A new simulator on the same data: the EC and the pending activity survive.
    let second = Simulator::start(opts(Some(dir.path().to_path_buf())))
        .await
        .expect("restart");
    let h2 = H {
        base: second.base_url("ruckus"),
        sim: second,
        http: reqwest::Client::new(),
    };
    assert_eq!(h2.get(&format!("/tenants/{kept}")).await.status, 200);
    assert_eq!(h2.finish(&rid).await["status"], "SUCCESS");
    assert_eq!(h2.get(&format!("/tenants/{pending}")).await.status, 200);

    // Reset: back to the inventory.
    let r = h2
        .http
        .post(format!("{}/_sim/reset", h2.sim.url()))
        .send()
        .await
        .expect("reset");
    assert_eq!(r.status(), 200);
    assert_eq!(h2.get(&format!("/tenants/{kept}")).await.status, 404);
    assert_eq!(
        h2.get("/mspCustomers")
            .await
            .body
            .as_array()
            .expect("list")
            .len(),
        2
    );
    assert_eq!(h2.sim.total_calls("ruckus"), 2);
}

/// Create items and updates accept exactly the EC request fields of §3.4, invitations
/// and delegation answers exactly theirs: anything else is a 400 naming it, and nothing
/// is queued. Query bodies are not listed field by field and stay open.
#[tokio::test]
async fn unknown_fields_are_refused_naming_the_field() {
    let h = start().await;
    let activities = |h: &H| {
        h.sim.dump()["ruckus"]["activities"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = activities(&h);

    let mut item = ec_body("Typo Hotel");
    item["street"] = json!("1 Main St");
    let r = h
        .post("/tenants", json!({"data": [ec_body("Fine Hotel"), item]}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_error_a(&r);
    assert!(r.text.contains("`data[1].street`"), "{}", r.text);
    let r = h
        .post(
            "/mspCustomers",
            json!({"data": [ec_body("Fine Hotel")], "items": []}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("`items`"), "{}", r.text);
    let mut item = ec_body("Feature Hotel");
    item["privacyFeatures"] = json!([{"featureName": "ARC", "status": "on", "enabled": true}]);
    let r = h.post("/tenants", json!({"data": [item]})).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.text.contains("`data[0].privacyFeatures[0].enabled`"),
        "{}",
        r.text
    );
    // Every documented field is accepted, the unsimulated ones ignored.
    let mut item = ec_body("Full Hotel");
    for (k, v) in [
        ("delegations", json!([])),
        ("admin_delegations", json!([])),
        ("privilege_group_ids", json!([])),
        ("number_of_days", json!(30)),
        ("isManageAllEcs", json!(false)),
        ("tenant_type", json!("MSP_EC")),
        (
            "licenses",
            json!({"trialAction": "ACTIVATE", "assignments": []}),
        ),
    ] {
        item[k] = v;
    }
    let r = h.post("/tenants", json!({"data": [item]})).await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(
        activities(&h),
        before + 1,
        "only the valid create was queued"
    );

    let mut b = ec_body("Lakeview School");
    b["citty"] = json!("Green Bay");
    let r = h
        .call(Method::PUT, &format!("/tenants/{LAKEVIEW}"), Some(b))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("`citty`"), "{}", r.text);
    let r = h
        .post(
            &format!("/tenants/{LAKEVIEW}/invitations"),
            json!({"email": "x@y.example", "admin_email": "x@y.example"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("`email`"), "{}", r.text);
    assert_eq!(activities(&h), before + 1);
    // Error format B carries the same message.
    h.sim
        .ruckus_switches(|s| s.error_format = mspform::sim::ruckus::ErrorFormat::B);
    let r = h
        .call(
            Method::PUT,
            &format!("/tenants/delegations/{LAKEVIEW}"),
            Some(json!({"accepted": true})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("`accepted`")),
        "{}",
        r.text
    );
    // Query bodies stay open (the fact sheet lists no complete set).
    let r = h
        .post("/tenants/query", json!({"pageSize": 10, "anything": 1}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Every JSON endpoint wants a JSON content type (the R1 vendor media types count);
/// the token endpoint keeps its form body; a DELETE without a body needs none.
#[tokio::test]
async fn json_endpoints_refuse_other_content_types() {
    let h = start().await;
    let body = json!({"data": [ec_body("Typed Hotel")]}).to_string();
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let r = h.raw(Method::POST, "/tenants", ct, &body).await;
        assert_eq!(r.status, 415, "{ct}: {}", r.text);
        assert_error_a(&r);
    }
    let r = h
        .raw(
            Method::POST,
            "/tenants",
            "application/vnd.ruckus.v1+json",
            &body,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let r = h
        .raw(Method::POST, "/tenants/query", "text/plain", "{}")
        .await;
    assert_eq!(r.status, 415, "{}", r.text);
    let r = h
        .token(
            MSP,
            "application/x-www-form-urlencoded",
            &form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "sim-r1-client"),
                ("client_secret", "sim-r1-secret"),
            ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = h
        .call(Method::DELETE, &format!("/tenants/{SEASIDE}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Item 44: `x-rks-tenantid` runs a call in an EC only while the EC's account is
/// delegated to the MSP; once its administrator revokes that, the header is refused
/// (the MSP still sees the EC from its own context).
#[tokio::test]
async fn the_tenant_header_needs_the_ecs_delegation_to_the_msp() {
    let h = start().await;
    let path = format!("/tenants/{LAKEVIEW}");
    let as_lakeview = || h.send(Method::GET, &path, None, Some(LAKEVIEW), Some("sim-token"));
    assert_eq!(as_lakeview().await.status, 200);
    h.sim
        .ruckus_edit(RuckusEdit::MspDelegation {
            tenant: "Lakeview School".into(),
            delegated: false,
        })
        .expect("edit");
    let r = as_lakeview().await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_error_a(&r);
    assert_eq!(h.get(&format!("/tenants/{LAKEVIEW}")).await.status, 200);
    let r = h
        .send(
            Method::POST,
            &format!("/tenants/{LAKEVIEW}/invitations"),
            Some(json!({"admin_email": "it@lakeview.example"})),
            Some(LAKEVIEW),
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    // Another EC keeps its delegation; restoring it lets the header in again.
    let r = h
        .send(
            Method::GET,
            &format!("/tenants/{SEASIDE}"),
            None,
            Some(SEASIDE),
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = h
        .control(
            "ruckus/edit",
            json!({"op": "msp_delegation", "tenant": LAKEVIEW, "delegated": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(as_lakeview().await.status, 200);
}
