//! The ExtremeCloud simulator, probed over HTTP with reqwest exactly as an independent
//! client would (fact sheet §2 and checklist items 29–35, 56).

use mspform::sim::{ExtremeEdit, FaultKind, FaultSpec, Inventory, SimOptions, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sim_http::{Resp, local};

const MSP_ID: &str = "Msp-tenantid-Nc5YXfsVtOKdMmsj";
const NORTHWIND: &str = "MspPartner-tenantid-YLp4lKdq8n6nQNXf";
const SOUTHBAY: &str = "MspPartner-tenantid-Sb7Kq2Wm9XpR4tLz";
const WESTGATE: &str = "MspPartner-tenantid-Wg3Hn8Vc5BdT1yQe";
const LAKESIDE: &str = "MspEndCustomer-tenantid-TaLDGFSpg7Vgxt7H";
const OLD_MILL: &str = "MspEndCustomer-tenantid-Om4Rt7Yu2IoP9aSd";
const PIER: &str = "MspEndCustomer-tenantid-Pc8Fg3Hj6Kl1ZxCv";
const ORCHARD: &str = "MspEndCustomer-tenantid-Ob5Nm2Qw8Er4TyUi";
const RIVERSIDE: &str = "MspEndCustomer-tenantid-Rs9Lk4Jh1Gf6DsAq";
const ADMIN: &str = "msp-admin@example.net";
const VIEWER: &str = "msp-viewer@example.net";
const PASSWORD: &str = "sim-password";
const TOKEN: &str = "/management/v1/oauth2/token";
const PARTNER_PUT: &str = "PUT /v1/msppartners/*";

struct H {
    sim: Simulator,
    http: reqwest::Client,
    base: String,
}

async fn start_with(inventory: Inventory) -> H {
    let sim = Simulator::start(SimOptions::new(local(), inventory))
        .await
        .expect("simulator starts");
    let base = sim.base_url("extreme");
    H {
        sim,
        http: reqwest::Client::new(),
        base,
    }
}

async fn start() -> H {
    start_with(Inventory::embedded()).await
}

fn example_text() -> &'static str {
    include_str!("../../examples/sim-inventory.toml")
}

fn is_id(v: &Value, prefix: &str) -> bool {
    v.as_str()
        .and_then(|s| s.strip_prefix(prefix))
        .is_some_and(|r| r.len() == 16 && r.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn tenant_body(name: &str, user: &str) -> Value {
    json!({
        "accountName": name,
        "country": "US",
        "timeZone": "America/New_York",
        "mspContact": {"contactEmail": "ops@example.org", "contactName": "Ops Team", "contactPhoneNumber": "555-0100"},
        "userId": user,
    })
}

fn partner_body(name: &str, user: &str) -> Value {
    json!({
        "accountName": name,
        "entitlements": [],
        "country": "FR",
        "timeZone": "Europe/Paris",
        "mspContact": {"contactEmail": "hello@partner.example", "contactName": "Pat Partner", "contactPhoneNumber": "1"},
        "userId": user,
    })
}

impl H {
    async fn raw(
        &self,
        method: Method,
        url: &str,
        body: Option<&str>,
        content_type: Option<&str>,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        Resp::read(req.send().await.expect("request completes")).await
    }

    async fn call_as(&self, method: Method, path: &str, body: Option<Value>, token: &str) -> Resp {
        let text = body.map(|b| b.to_string());
        let ct = text.as_ref().map(|_| "application/json;charset=UTF-8");
        self.raw(
            method,
            &format!("{}{path}", self.base),
            text.as_deref(),
            ct,
            Some(token),
        )
        .await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_as(method, path, body, "sim-token").await
    }

    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(body)).await
    }

    async fn token_call(&self, body: Value) -> Resp {
        let text = body.to_string();
        self.raw(
            Method::POST,
            &format!("{}{TOKEN}", self.base),
            Some(&text),
            Some("application/json;charset=UTF-8"),
            None,
        )
        .await
    }

    async fn login(&self, user: &str, password: &str) -> Resp {
        self.token_call(
            json!({"grantType": "password", "userId": user, "password": password, "scope": "msp"}),
        )
        .await
    }

    async fn access_token(&self, user: &str) -> String {
        let r = self.login(user, PASSWORD).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["access_token"].as_str().expect("token").to_string()
    }

    /// The status of an authenticated read with this token.
    async fn status_with(&self, token: &str) -> StatusCode {
        self.call_as(Method::GET, "/v1/msppartners", None, token)
            .await
            .status
    }

    async fn partner(&self, id: &str) -> Value {
        let r = self.get("/v1/msppartners").await;
        assert_eq!(r.status, 200);
        r.body
            .as_array()
            .expect("partner array")
            .iter()
            .find(|p| p["custId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("partner {id} listed"))
    }

    async fn tenant_ids(&self) -> Vec<String> {
        let r = self.get("/v1/msptenants").await;
        assert_eq!(r.status, 200);
        r.body
            .as_array()
            .expect("tenant array")
            .iter()
            .map(|t| t["custId"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    async fn control(&self, path: &str, body: Value) -> Resp {
        self.raw(
            Method::POST,
            &format!("{}/_sim/{path}", self.sim.url()),
            Some(&body.to_string()),
            Some("application/json"),
            None,
        )
        .await
    }

    async fn switches(&self, patch: Value) {
        let r = self.control("extreme/switches", patch.clone()).await;
        assert_eq!(r.status, 200, "switches {patch}: {:?}", r.body);
    }

    fn state(&self) -> Value {
        self.sim.dump()["extreme"].clone()
    }
}

fn tenants_of(partner: &Value) -> Vec<&str> {
    partner["tenants"]
        .as_array()
        .expect("tenants array")
        .iter()
        .map(|t| t.as_str().expect("tenant id"))
        .collect()
}

fn error_text(r: &Resp) -> String {
    r.body["errors"][0]["errorMessage"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

// ---- inventory -------------------------------------------------------------------

#[test]
fn example_inventory_has_the_extreme_account() {
    let inv = Inventory::embedded();
    let x = &inv.extreme;
    assert_eq!(x.msp_id, MSP_ID);
    assert_eq!(x.tenants.len(), 5);
    assert_eq!(x.partners.len(), 3);
    assert_eq!(x.entitlements.len(), 6);
    assert_eq!(x.users.len(), 2);
    let held: Vec<&String> = x.partners.iter().flat_map(|p| &p.tenants).collect();
    assert!(!held.iter().any(|t| *t == ORCHARD || *t == RIVERSIDE));
}

#[test]
fn inventory_without_extreme_table_gets_a_default_account() {
    let text = example_text();
    let aruba_only = text.split("\n[extreme]\n").next().expect("aruba part");
    assert!(
        !aruba_only
            .lines()
            .any(|l| l.starts_with("[extreme") || l.starts_with("[[extreme"))
    );
    let inv = Inventory::from_toml_str(aruba_only).expect("loads");
    assert!(inv.extreme.msp_id.starts_with("Msp-tenantid-"));
    assert_eq!(inv.extreme.tokens, vec!["sim-token".to_string()]);
    assert!(inv.extreme.users.iter().any(|u| u.user_id == ADMIN));
    assert!(inv.extreme.tenants.is_empty());
}

#[test]
fn invalid_extreme_inventories_are_refused() {
    let text = example_text();
    let twice = text.replace(
        "tenants = [\"MspEndCustomer-tenantid-Pc8Fg3Hj6Kl1ZxCv\"]",
        "tenants = [\"MspEndCustomer-tenantid-TaLDGFSpg7Vgxt7H\"]",
    );
    assert_ne!(twice, text);
    assert!(Inventory::from_toml_str(&twice).is_err());
    let bad_id = text.replace("Msp-tenantid-Nc5YXfsVtOKdMmsj", "Msp-tenantid-short");
    assert!(Inventory::from_toml_str(&bad_id).is_err());
    let bad_ent = text.replace(
        "entitlements = [{ entitlement_id = \"ENT-0002\", serial_number = \"1912Y-40002\" }]",
        "entitlements = [{ entitlement_id = \"ENT-0002\", serial_number = \"WRONG\" }]",
    );
    assert_ne!(bad_ent, text);
    assert!(Inventory::from_toml_str(&bad_ent).is_err());
    let bad_prefix = text.replace("msp_prefix = \"/v1\"", "msp_prefix = \"v1/\"");
    assert!(Inventory::from_toml_str(&bad_prefix).is_err());
}

// ---- item 29: token endpoint, roles --------------------------------------------------

#[tokio::test]
async fn password_grant_issues_bearer_tokens() {
    let h = start().await;
    let r = h.login(ADMIN, PASSWORD).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 7200);
    assert_eq!(r.body["idle_timeout"], 3600);
    let access = r.body["access_token"].as_str().expect("access_token");
    let refresh = r.body["refresh_token"].as_str().expect("refresh_token");
    assert_eq!(access.split('.').count(), 3, "JWT-shaped: {access}");
    assert_eq!(refresh.split('.').count(), 3);
    assert_ne!(access, refresh);
    let list = h.call_as(Method::GET, "/v1/msptenants", None, access).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().expect("array").len(), 5);
    // Login is case-insensitive on the user id.
    assert_eq!(h.login("MSP-Admin@Example.net", PASSWORD).await.status, 200);

    let wrong = h.login(ADMIN, "nope").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body["errors"][0]["errorMessage"].is_string());
    assert_eq!(h.login("nobody@example.net", PASSWORD).await.status, 401);
    assert_eq!(
        h.token_call(json!({"userId": ADMIN, "password": PASSWORD}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.token_call(json!({"grantType": "password", "userId": ADMIN}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.token_call(json!({"grantType": "client_credentials"}))
            .await
            .status,
        400
    );
    let url = format!("{}{TOKEN}", h.base);
    let malformed = h
        .raw(
            Method::POST,
            &url,
            Some("{not json"),
            Some("application/json"),
            None,
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert!(malformed.body.is_object());
    let form = h
        .raw(
            Method::POST,
            &url,
            Some("grantType=password"),
            Some("application/x-www-form-urlencoded"),
            None,
        )
        .await;
    assert_eq!(form.status, 415);
    assert_eq!(h.raw(Method::GET, &url, None, None, None).await.status, 405);
    // Logins are calls but not writes.
    assert_eq!(
        h.sim.calls("extreme", &format!("POST {TOKEN}")),
        9,
        "the nine above"
    );
    assert_eq!(h.sim.write_calls("extreme"), 0);
}

#[tokio::test]
async fn missing_or_unknown_bearer_is_401() {
    let h = start().await;
    let url = format!("{}/v1/msptenants", h.base);
    let none = h.raw(Method::GET, &url, None, None, None).await;
    assert_eq!(none.status, 401);
    assert!(none.headers.contains_key("www-authenticate"));
    assert!(none.body["errors"][0]["errorMessage"].is_string());
    let bad = h.raw(Method::GET, &url, None, None, Some("forged")).await;
    assert_eq!(bad.status, 401);
    let partners = h
        .raw(
            Method::GET,
            &format!("{}/v1/msppartners", h.base),
            None,
            None,
            Some("x.y.z"),
        )
        .await;
    assert_eq!(partners.status, 401);
}

#[tokio::test]
async fn read_only_admin_may_only_read() {
    let h = start().await;
    let viewer = h.access_token(VIEWER).await;
    let r = h
        .call_as(Method::GET, "/v1/msptenants", None, &viewer)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.call_as(Method::GET, "/v1/msppartners", None, &viewer)
            .await
            .status,
        200
    );
    assert_eq!(
        h.call_as(Method::GET, "/v1/msptenants/nametoidmap", None, &viewer)
            .await
            .status,
        200
    );
    let before = h.state();
    let create = h
        .call_as(
            Method::POST,
            "/v1/msptenants",
            Some(tenant_body("Viewer Made", "viewer-made@example.org")),
            &viewer,
        )
        .await;
    assert_eq!(create.status, 403);
    assert!(create.body["errors"][0]["errorMessage"].is_string());
    let mut doc = h.partner(WESTGATE).await;
    doc["tenants"] = json!([ORCHARD]);
    let put = h
        .call_as(
            Method::PUT,
            &format!("/v1/msppartners/{WESTGATE}"),
            Some(doc.clone()),
            &viewer,
        )
        .await;
    assert_eq!(put.status, 403);
    let partner = h
        .call_as(
            Method::POST,
            "/v1/msppartners",
            Some(partner_body("Viewer Partner", "vp@example.org")),
            &viewer,
        )
        .await;
    assert_eq!(partner.status, 403);
    assert_eq!(h.state()["tenants"], before["tenants"]);
    assert_eq!(h.state()["partners"], before["partners"]);
    // The power admin may.
    let admin = h.access_token(ADMIN).await;
    let put = h
        .call_as(
            Method::PUT,
            &format!("/v1/msppartners/{WESTGATE}"),
            Some(doc),
            &admin,
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    // Switch: another status for read-only writes.
    h.sim.extreme_switches(|s| s.read_only_write_status = 401);
    let create = h
        .call_as(
            Method::POST,
            "/v1/msptenants",
            Some(tenant_body("Viewer Made", "viewer-made@example.org")),
            &viewer,
        )
        .await;
    assert_eq!(create.status, 401);
}

// ---- item 30: expiry and idle timeout -----------------------------------------------

#[tokio::test]
async fn tokens_expire_and_idle_out_on_the_sim_clock() {
    let h = start().await;
    // Idle: each use restarts the 3600 s idle window ...
    let t = h.access_token(ADMIN).await;
    h.sim.advance_clock(3599);
    assert_eq!(h.status_with(&t).await, 200);
    h.sim.advance_clock(3590);
    assert_eq!(h.status_with(&t).await, 200);
    let t = h.access_token(ADMIN).await;
    h.sim.advance_clock(3590);
    assert_eq!(h.status_with(&t).await, 200);
    // ... and 3600 s without a call kills it although expires_in (7200) has not elapsed.
    h.sim.advance_clock(3600);
    assert_eq!(h.status_with(&t).await, 401);
    // Expiry: a token in constant use still dies after 7200 s.
    let t = h.access_token(ADMIN).await;
    for _ in 0..3 {
        h.sim.advance_clock(1800);
        assert_eq!(h.status_with(&t).await, 200);
    }
    h.sim.advance_clock(1799);
    assert_eq!(h.status_with(&t).await, 200);
    h.sim.advance_clock(1);
    assert_eq!(h.status_with(&t).await, 401);
    // The static token is exempt.
    h.sim.advance_clock(100_000);
    assert_eq!(h.status_with("sim-token").await, 200);
    // Switch: idle_timeout only reported, not enforced.
    h.switches(json!({"idle_timeout_enforced": false})).await;
    let t = h.access_token(ADMIN).await;
    h.sim.advance_clock(7000);
    assert_eq!(h.status_with(&t).await, 200);
    h.sim.advance_clock(200);
    assert_eq!(h.status_with(&t).await, 401);
    // Switch: other lifetimes are reported.
    h.switches(json!({"token_lifetime_secs": 600, "idle_timeout_secs": 60}))
        .await;
    let r = h.login(ADMIN, PASSWORD).await;
    assert_eq!(r.body["expires_in"], 600);
    assert_eq!(r.body["idle_timeout"], 60);
}

#[tokio::test]
async fn hourly_limit_is_a_switch_on_the_sim_clock() {
    let h = start().await;
    h.sim.freeze_clock();
    // Off by default: many calls in one hour pass.
    for _ in 0..5 {
        assert_eq!(h.get("/v1/msptenants").await.status, 200);
    }
    h.switches(json!({"limit_per_hour": 3})).await;
    // The window starts over at the next clock hour (calls before the switch counted too).
    let now = h.sim.dump()["now_ms"].as_u64().expect("now_ms");
    h.sim.advance_clock(3600 - (now / 1000) % 3600);
    for _ in 0..3 {
        assert_eq!(h.get("/v1/msptenants").await.status, 200);
    }
    let refused = h.get("/v1/msppartners").await;
    assert_eq!(refused.status, 429, "{:?}", refused.body);
    assert_eq!(
        refused.body["errors"][0]["errorMessage"],
        "API rate limit exceeded"
    );
    // The token endpoint is not counted, nor refused.
    assert_eq!(h.login(ADMIN, PASSWORD).await.status, 200);
    // The next hour starts a new window.
    h.sim.advance_clock(3599);
    assert_eq!(h.get("/v1/msptenants").await.status, 429);
    h.sim.advance_clock(1);
    assert_eq!(h.get("/v1/msptenants").await.status, 200);
    // The call log counts refused calls too, route by route.
    let calls = h.sim.calls_by_route("extreme");
    assert_eq!(calls.get("GET /v1/msptenants"), Some(&10));
    assert_eq!(calls.get("GET /v1/msppartners"), Some(&1));
    assert_eq!(calls.get(&format!("POST {TOKEN}")), Some(&1));
    assert_eq!(calls.values().sum::<u64>(), h.sim.total_calls("extreme"));
}

#[tokio::test]
async fn refresh_grant_and_its_switches() {
    let h = start().await;
    let first = h.login(ADMIN, PASSWORD).await;
    let old_access = first.body["access_token"].as_str().expect("a").to_string();
    let old_refresh = first.body["refresh_token"].as_str().expect("r").to_string();
    let r = h
        .token_call(json!({"grantType": "refresh_token", "refreshToken": old_refresh}))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 7200);
    let new_access = r.body["access_token"].as_str().expect("a").to_string();
    let new_refresh = r.body["refresh_token"].as_str().expect("r").to_string();
    assert_ne!(new_access, old_access);
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(h.status_with(&new_access).await, 200);
    assert_eq!(
        h.status_with(&old_access).await,
        200,
        "old access kept by default"
    );
    // Single use.
    let again = h
        .token_call(json!({"grantType": "refresh_token", "refreshToken": old_refresh}))
        .await;
    assert_eq!(again.status, 401);
    assert_eq!(
        h.token_call(json!({"grantType": "refresh_token"}))
            .await
            .status,
        400
    );
    // Refresh keeps the role: a viewer's refreshed token still cannot write.
    let v = h.login(VIEWER, PASSWORD).await;
    let vr = h
        .token_call(json!({"grantType": "refresh_token", "refreshToken": v.body["refresh_token"]}))
        .await;
    let vt = vr.body["access_token"].as_str().expect("viewer token");
    let w = h
        .call_as(
            Method::POST,
            "/v1/msptenants",
            Some(tenant_body("Refreshed Viewer", "rv@example.org")),
            vt,
        )
        .await;
    assert_eq!(w.status, 403);

    // Switches: revoke the old access token, reusable refresh tokens, no refresh at all.
    h.switches(json!({"refresh_revokes_access": true, "refresh_token_single_use": false}))
        .await;
    let r2 = h
        .token_call(json!({"grantType": "refresh_token", "refreshToken": new_refresh}))
        .await;
    assert_eq!(r2.status, 200);
    assert_eq!(h.status_with(&new_access).await, 401);
    let r3 = h
        .token_call(json!({"grantType": "refresh_token", "refreshToken": new_refresh}))
        .await;
    assert_eq!(r3.status, 200, "refresh token reusable");
    h.switches(json!({"refresh_supported": false})).await;
    let r4 = h
        .token_call(json!({"grantType": "refresh_token", "refreshToken": new_refresh}))
        .await;
    assert_eq!(r4.status, 400);
    // Refresh tokens expire.
    h.switches(json!({"refresh_supported": true})).await;
    let fresh = h.login(ADMIN, PASSWORD).await;
    h.sim.advance_clock(86_400);
    let late = h
        .token_call(
            json!({"grantType": "refresh_token", "refreshToken": fresh.body["refresh_token"]}),
        )
        .await;
    assert_eq!(late.status, 401);
}

// ---- item 31: field rules ------------------------------------------------------------

#[tokio::test]
async fn tenant_create_field_rules() {
    let h = start().await;
    let good = || tenant_body("Rules Test", "rules@example.org");
    let with = |path: &[&str], v: Value| {
        let mut b = good();
        let mut cur = &mut b;
        for k in &path[..path.len() - 1] {
            cur = &mut cur[*k];
        }
        cur[path[path.len() - 1]] = v;
        b
    };
    let without = |k: &str| {
        let mut b = good();
        b.as_object_mut().expect("obj").remove(k);
        b
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "empty accountName",
            with(&["accountName"], json!("")),
            "accountName",
        ),
        (
            "65-char accountName",
            with(&["accountName"], json!("x".repeat(65))),
            "accountName",
        ),
        ("missing accountName", without("accountName"), "accountName"),
        (
            "numeric accountName",
            with(&["accountName"], json!(7)),
            "accountName",
        ),
        (
            "129-char contactName",
            with(&["mspContact", "contactName"], json!("c".repeat(129))),
            "contactName",
        ),
        (
            "empty contactName",
            with(&["mspContact", "contactName"], json!("")),
            "contactName",
        ),
        (
            "contactName with ;",
            with(&["mspContact", "contactName"], json!("A;B")),
            "contactName",
        ),
        (
            "contactName with :",
            with(&["mspContact", "contactName"], json!("A:B")),
            "contactName",
        ),
        (
            "contactName with &",
            with(&["mspContact", "contactName"], json!("A & B")),
            "contactName",
        ),
        (
            "bad contactEmail",
            with(&["mspContact", "contactEmail"], json!("nope")),
            "contactEmail",
        ),
        (
            "userId not an email",
            with(&["userId"], json!("rules-at-example.org")),
            "userId",
        ),
        (
            "userId local part 64",
            with(
                &["userId"],
                json!(format!("{}@example.org", "l".repeat(64))),
            ),
            "userId",
        ),
        (
            "userId domain 65",
            with(&["userId"], json!(format!("u@{}.org", "d".repeat(61)))),
            "userId",
        ),
        (
            "userId over 128",
            with(
                &["userId"],
                json!(format!("{}@{}.org", "l".repeat(63), "d".repeat(61))),
            ),
            "userId",
        ),
        (
            "userId with &",
            with(&["userId"], json!("a&b@example.org")),
            "userId",
        ),
        (
            "userId of a tenant",
            with(&["userId"], json!("admin@lakeside-dental.example")),
            "userId",
        ),
        (
            "userId of a partner, other case",
            with(&["userId"], json!("ADMIN@northwind-partners.example")),
            "userId",
        ),
        (
            "userId of an MSP admin",
            with(&["userId"], json!(ADMIN)),
            "userId",
        ),
        (
            "userId taken elsewhere",
            with(&["userId"], json!("taken@elsewhere.example")),
            "userId",
        ),
        ("missing userId", without("userId"), "userId"),
        (
            "unknown country",
            with(&["country"], json!("XX")),
            "country",
        ),
        (
            "country name",
            with(&["country"], json!("Germany")),
            "country",
        ),
        ("missing country", without("country"), "country"),
        (
            "bad timeZone",
            with(&["timeZone"], json!("Mars/Olympus_Mons")),
            "timeZone",
        ),
        ("missing timeZone", without("timeZone"), "timeZone"),
        (
            "mspContact not an object",
            with(&["mspContact"], json!("ops")),
            "mspContact",
        ),
    ];
    for (what, body, property) in cases {
        let r = h.post("/v1/msptenants", body).await;
        assert_eq!(r.status, 400, "{what}: {:?}", r.body);
        assert_eq!(
            r.body["errors"][0]["propertyName"], property,
            "{what}: {:?}",
            r.body
        );
    }
    assert_eq!(h.tenant_ids().await.len(), 5, "nothing was created");

    // The limits themselves are fine.
    let edge = json!({
        "accountName": "n".repeat(64),
        "country": "DE",
        "timeZone": "Europe/Berlin",
        "mspContact": {"contactEmail": "c@example.org", "contactName": "c".repeat(128)},
        "userId": format!("{}@{}.org", "l".repeat(63), "d".repeat(60)),
    });
    let r = h.post("/v1/msptenants", edge).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["mspContact"]["contactPhoneNumber"], "");
    // mspContact itself is optional ("Validations: None").
    let mut no_contact = tenant_body("No Contact", "nocontact@example.org");
    no_contact
        .as_object_mut()
        .expect("obj")
        .remove("mspContact");
    let r = h.post("/v1/msptenants", no_contact).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(r.body["mspContact"].is_null());
    // A userId used by a new tenant is then taken for the next one.
    let r = h
        .post(
            "/v1/msptenants",
            tenant_body("Other", "nocontact@example.org"),
        )
        .await;
    assert_eq!(r.status, 400);

    // Malformed bodies are 400 with a body, never a crash.
    let url = format!("{}/v1/msptenants", h.base);
    for bad in ["", "{", "[1,2]", "null", "\"x\""] {
        let r = h
            .raw(
                Method::POST,
                &url,
                Some(bad),
                Some("application/json"),
                Some("sim-token"),
            )
            .await;
        assert_eq!(r.status, 400, "body {bad:?}");
        assert!(
            r.body["errors"][0]["errorMessage"].is_string(),
            "body {bad:?}"
        );
    }
    // Content type.
    let r = h
        .raw(
            Method::POST,
            &url,
            Some(&good().to_string()),
            None,
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.status, 415);
    h.switches(json!({"require_json_content_type": false}))
        .await;
    let r = h
        .raw(
            Method::POST,
            &url,
            Some(&good().to_string()),
            Some("text/plain"),
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // Switch: another validation status.
    h.switches(json!({"validation_status": 422})).await;
    let r = h
        .post("/v1/msptenants", with(&["accountName"], json!("")))
        .await;
    assert_eq!(r.status, 422);
}

// ---- item 32: created tenants ----------------------------------------------------------

#[tokio::test]
async fn created_tenants_get_ids_and_appear_in_list_and_map() {
    let h = start().await;
    let r = h
        .post(
            "/v1/msptenants",
            tenant_body("Harbor Clinic", "it@harbor-clinic.example"),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let doc = &r.body;
    assert!(is_id(&doc["custId"], "MspEndCustomer-tenantid-"), "{doc}");
    let id = doc["custId"].as_str().expect("id").to_string();
    assert!(doc["id"].is_null());
    assert_eq!(doc["accountName"], "Harbor Clinic");
    assert_eq!(doc["country"], "US");
    assert_eq!(doc["timeZone"], "America/New_York");
    assert_eq!(doc["mspContact"]["contactName"], "Ops Team");
    assert_eq!(doc["mspContact"]["contactEmail"], "ops@example.org");
    assert_eq!(doc["mspContact"]["contactPhoneNumber"], "555-0100");
    assert!(doc["mspContact"]["custId"].is_null());
    assert!(doc["mspContact"]["id"].is_null());
    assert!(doc["userId"].is_null());
    assert!(doc.get("tenants").is_none());

    let list = h.get("/v1/msptenants").await;
    let listed = list
        .body
        .as_array()
        .expect("bare array")
        .iter()
        .find(|t| t["custId"] == id.as_str())
        .expect("new tenant listed");
    assert_eq!(listed, doc);
    let map = h.get("/v1/msptenants/nametoidmap").await;
    assert_eq!(map.status, 200);
    assert_eq!(map.body["Harbor Clinic"], id.as_str());
    assert_eq!(map.body["Lakeside Dental"], LAKESIDE);
    assert_eq!(map.body["Old Mill Hotel"], OLD_MILL);
    assert_eq!(map.body.as_object().expect("object").len(), 6);
    // A new tenant is in no partner.
    for p in [NORTHWIND, SOUTHBAY, WESTGATE] {
        assert!(!tenants_of(&h.partner(p).await).contains(&id.as_str()));
    }

    // Same name: 400 by default ...
    let dup = h
        .post(
            "/v1/msptenants",
            tenant_body("Harbor Clinic", "second@harbor-clinic.example"),
        )
        .await;
    assert_eq!(dup.status, 400);
    assert_eq!(dup.body["errors"][0]["propertyName"], "accountName");
    // ... allowed by switch.
    h.switches(json!({"duplicate_names": "allow"})).await;
    let dup = h
        .post(
            "/v1/msptenants",
            tenant_body("Harbor Clinic", "second@harbor-clinic.example"),
        )
        .await;
    assert_eq!(dup.status, 201);
    assert_ne!(dup.body["custId"], id.as_str());

    // Switches: 200 instead of 201, an empty body, the list-shaped name map, echoed userId.
    h.switches(json!({"create_status": 200, "create_body": "empty", "nametoidmap_shape": "list", "echo_user_id": true}))
        .await;
    let r = h
        .post(
            "/v1/msptenants",
            tenant_body("Quiet Create", "quiet@example.org"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_null(), "empty body: {:?}", r.body);
    let map = h.get("/v1/msptenants/nametoidmap").await;
    let entries = map.body.as_array().expect("list shape");
    let quiet = entries
        .iter()
        .find(|e| e["accountName"] == "Quiet Create")
        .expect("listed");
    assert!(is_id(&quiet["custId"], "MspEndCustomer-tenantid-"));
    let list = h.get("/v1/msptenants").await;
    let q = list
        .body
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["custId"] == quiet["custId"])
        .expect("listed")
        .clone();
    assert_eq!(q["userId"], "quiet@example.org");
}

// ---- item 33: PUT makes tenants the exact list ------------------------------------------

#[tokio::test]
async fn partner_put_makes_tenants_exactly_the_submitted_list() {
    let h = start().await;
    let mut doc = h.partner(NORTHWIND).await;
    assert_eq!(tenants_of(&doc), vec![LAKESIDE, OLD_MILL]);
    assert_eq!(doc["accountName"], "Northwind Partners");
    assert_eq!(
        doc["entitlements"],
        json!([{"entitlementId": "ENT-0001", "serialNumber": "1912Y-40001"}])
    );
    // Drop Old Mill, add Orchard (unassigned) and Pier (held by Southbay).
    doc["tenants"] = json!([LAKESIDE, ORCHARD, PIER]);
    let r = h
        .put(&format!("/v1/msppartners/{NORTHWIND}"), doc.clone())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["custId"], NORTHWIND);
    assert_eq!(tenants_of(&r.body), vec![LAKESIDE, ORCHARD, PIER]);
    assert_eq!(r.body["accountName"], "Northwind Partners");
    assert_eq!(r.body["country"], "US");
    assert!(r.body["id"].is_null());
    let now = h.partner(NORTHWIND).await;
    assert_eq!(now, r.body, "the echo is the stored document");
    // Pier left Southbay; Old Mill is in no partner but still a tenant of the MSP.
    assert!(tenants_of(&h.partner(SOUTHBAY).await).is_empty());
    assert!(h.tenant_ids().await.contains(&OLD_MILL.to_string()));
    for p in [NORTHWIND, SOUTHBAY, WESTGATE] {
        assert!(!tenants_of(&h.partner(p).await).contains(&OLD_MILL));
    }
    // The seed's body shape: no country/timeZone, userId null, duplicates in the list.
    let seed_like = json!({
        "custId": NORTHWIND, "id": null, "accountName": "Northwind Partners",
        "mspContact": {"custId": null, "id": null, "contactEmail": "nora@northwind-partners.example",
                       "contactName": "Nora North", "contactPhoneNumber": "22222222"},
        "userId": null, "tenants": [LAKESIDE, LAKESIDE], "entitlements": []
    });
    let r = h
        .put(&format!("/v1/msppartners/{NORTHWIND}"), seed_like)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(tenants_of(&r.body), vec![LAKESIDE]);
    assert_eq!(r.body["country"], "US", "absent fields are kept");
    assert_eq!(r.body["timeZone"], "America/Chicago");
    assert_eq!(r.body["mspContact"]["contactPhoneNumber"], "22222222");
    assert_eq!(r.body["entitlements"], json!([]));
    // An empty list detaches everything.
    let mut empty = r.body.clone();
    empty["tenants"] = json!([]);
    let r = h.put(&format!("/v1/msppartners/{NORTHWIND}"), empty).await;
    assert_eq!(r.status, 200);
    assert!(tenants_of(&r.body).is_empty());
    // Field rules apply to the PUT too; unknown partner id → 404.
    let mut bad = h.partner(WESTGATE).await;
    bad["accountName"] = json!("");
    assert_eq!(
        h.put(&format!("/v1/msppartners/{WESTGATE}"), bad)
            .await
            .status,
        400
    );
    let ghost = "MspPartner-tenantid-AAAAAAAAAAAAAAAA";
    let r = h
        .put(
            &format!("/v1/msppartners/{ghost}"),
            h.partner(WESTGATE).await,
        )
        .await;
    assert_eq!(r.status, 404);
    assert!(error_text(&r).contains(ghost));
    // Malformed JSON.
    let url = format!("{}/v1/msppartners/{WESTGATE}", h.base);
    let r = h
        .raw(
            Method::PUT,
            &url,
            Some("{\"tenants\":"),
            Some("application/json"),
            Some("sim-token"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body.is_object());
    // No GET/DELETE on a single partner.
    assert_eq!(
        h.get(&format!("/v1/msppartners/{WESTGATE}")).await.status,
        405
    );
    assert_eq!(
        h.call(Method::DELETE, "/v1/msppartners", None).await.status,
        405
    );
}

#[tokio::test]
async fn tenant_move_between_partners_switch() {
    let h = start().await;
    h.switches(json!({"tenant_move": "reject"})).await;
    let before = h.state();
    let mut doc = h.partner(WESTGATE).await;
    doc["tenants"] = json!([ORCHARD, PIER]);
    let r = h
        .put(&format!("/v1/msppartners/{WESTGATE}"), doc.clone())
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    assert!(error_text(&r).contains(PIER));
    assert_eq!(h.state()["partners"], before["partners"], "nothing changed");
    // Removing it from Southbay first makes the move legal.
    let mut south = h.partner(SOUTHBAY).await;
    south["tenants"] = json!([]);
    assert_eq!(
        h.put(&format!("/v1/msppartners/{SOUTHBAY}"), south)
            .await
            .status,
        200
    );
    let r = h
        .put(&format!("/v1/msppartners/{WESTGATE}"), doc.clone())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(tenants_of(&r.body), vec![ORCHARD, PIER]);
    // Re-submitting a partner's own tenants is never a move.
    let r = h.put(&format!("/v1/msppartners/{WESTGATE}"), doc).await;
    assert_eq!(r.status, 200);
    h.switches(json!({"tenant_move_status": 400})).await;
    let mut north = h.partner(NORTHWIND).await;
    north["tenants"] = json!([PIER]);
    assert_eq!(
        h.put(&format!("/v1/msppartners/{NORTHWIND}"), north)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn partner_put_path_and_echo_switches() {
    let h = start().await;
    // The seed sample's echo carries the MSP's id.
    h.switches(json!({"put_echo_cust_id": "msp"})).await;
    let mut doc = h.partner(WESTGATE).await;
    doc["tenants"] = json!([RIVERSIDE]);
    let r = h
        .put(&format!("/v1/msppartners/{WESTGATE}"), doc.clone())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["custId"], MSP_ID);
    assert_eq!(
        h.partner(WESTGATE).await["custId"],
        WESTGATE,
        "stored id unchanged"
    );
    // The path names the MSP; the body's custId names the partner.
    h.switches(json!({"partner_put_path": "msp", "put_echo_cust_id": "stored"}))
        .await;
    doc["tenants"] = json!([RIVERSIDE, ORCHARD]);
    let r = h
        .put(&format!("/v1/msppartners/{WESTGATE}"), doc.clone())
        .await;
    assert_eq!(r.status, 404, "a partner id in the path is unknown now");
    let r = h
        .put(&format!("/v1/msppartners/{MSP_ID}"), doc.clone())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["custId"], WESTGATE);
    assert_eq!(tenants_of(&r.body), vec![RIVERSIDE, ORCHARD]);
    let mut no_id = doc.clone();
    no_id.as_object_mut().expect("obj").remove("custId");
    assert_eq!(
        h.put(&format!("/v1/msppartners/{MSP_ID}"), no_id)
            .await
            .status,
        400
    );
    h.switches(json!({"unknown_id_status": 400})).await;
    assert_eq!(
        h.put(&format!("/v1/msppartners/{WESTGATE}"), doc)
            .await
            .status,
        400
    );
}

// ---- item 34: foreign tenants change nothing ---------------------------------------------

#[tokio::test]
async fn partner_put_with_a_foreign_tenant_changes_nothing() {
    let h = start().await;
    let before = h.state();
    let foreign = "MspEndCustomer-tenantid-ZZZZZZZZZZZZZZZZ";
    let mut doc = h.partner(NORTHWIND).await;
    doc["accountName"] = json!("Renamed Northwind");
    doc["tenants"] = json!([LAKESIDE, ORCHARD, foreign]);
    doc["entitlements"] = json!([{"entitlementId": "ENT-0003", "serialNumber": "1912Y-40003"}]);
    let r = h
        .put(&format!("/v1/msppartners/{NORTHWIND}"), doc.clone())
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(error_text(&r).contains(foreign));
    let after = h.state();
    assert_eq!(after["partners"], before["partners"]);
    assert_eq!(after["tenants"], before["tenants"]);
    // A partner or the MSP itself is not a tenant either.
    for not_tenant in [SOUTHBAY, MSP_ID, ""] {
        doc["tenants"] = json!([LAKESIDE, not_tenant]);
        let r = h
            .put(&format!("/v1/msppartners/{NORTHWIND}"), doc.clone())
            .await;
        assert_eq!(r.status, 400, "{not_tenant:?}");
    }
    doc["tenants"] = json!([LAKESIDE, 42]);
    assert_eq!(
        h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc.clone())
            .await
            .status,
        400
    );
    doc["tenants"] = json!(LAKESIDE);
    assert_eq!(
        h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc.clone())
            .await
            .status,
        400
    );
    assert_eq!(h.state()["partners"], before["partners"]);
    // A create naming a foreign tenant creates nothing.
    let mut p = partner_body("Foreign Holder", "fh@example.org");
    p["tenants"] = json!([foreign]);
    assert_eq!(h.post("/v1/msppartners", p).await.status, 400);
    assert_eq!(h.state()["partners"], before["partners"]);
    // Switch: another status.
    h.switches(json!({"foreign_tenant_status": 404})).await;
    doc["tenants"] = json!([foreign]);
    assert_eq!(
        h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc)
            .await
            .status,
        404
    );
    assert_eq!(h.state()["partners"], before["partners"]);
}

// ---- item 35: entitlements -----------------------------------------------------------------

#[tokio::test]
async fn partner_entitlements_must_be_owned_by_the_msp() {
    let h = start().await;
    let before = h.state();
    let put = |ents: Value| {
        let h = &h;
        async move {
            let mut doc = h.partner(WESTGATE).await;
            doc["entitlements"] = ents;
            h.put(&format!("/v1/msppartners/{WESTGATE}"), doc).await
        }
    };
    let cases = [
        (
            "unknown id",
            json!([{"entitlementId": "ENT-9999", "serialNumber": "1912Y-40003"}]),
        ),
        (
            "serial of another entitlement",
            json!([{"entitlementId": "ENT-0003", "serialNumber": "1912Y-40004"}]),
        ),
        (
            "unknown serial",
            json!([{"entitlementId": "ENT-0003", "serialNumber": "XYZ"}]),
        ),
        (
            "held by Northwind",
            json!([{"entitlementId": "ENT-0001", "serialNumber": "1912Y-40001"}]),
        ),
        (
            "one bad among good",
            json!([
            {"entitlementId": "ENT-0003", "serialNumber": "1912Y-40003"},
            {"entitlementId": "ENT-0100", "serialNumber": "1912Y-40100"}]),
        ),
    ];
    for (what, ents) in cases {
        let r = put(ents).await;
        assert_eq!(r.status, 400, "{what}: {:?}", r.body);
    }
    for (what, ents) in [
        (
            "semicolon",
            json!([{"entitlementId": "ENT;1", "serialNumber": "1912Y-40003"}]),
        ),
        ("missing serial", json!([{"entitlementId": "ENT-0003"}])),
        ("not an object", json!(["ENT-0003"])),
        ("not an array", json!({"entitlementId": "ENT-0003"})),
    ] {
        let r = put(ents).await;
        assert_eq!(r.status, 400, "{what}: {:?}", r.body);
    }
    assert_eq!(h.state()["partners"], before["partners"]);
    let ok = put(json!([
        {"entitlementId": "ENT-0003", "serialNumber": "1912Y-40003"},
        {"entitlementId": "ENT-0004", "serialNumber": "1912Y-40004"}
    ]))
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(
        ok.body["entitlements"],
        json!([
            {"entitlementId": "ENT-0003", "serialNumber": "1912Y-40003"},
            {"entitlementId": "ENT-0004", "serialNumber": "1912Y-40004"}
        ])
    );
    // Create: owned entitlements and tenants are honoured; a new partner gets an id.
    let mut p = partner_body("Eastside Resellers", "owner@eastside.example");
    p["entitlements"] = json!([{"entitlementId": "ENT-0005", "serialNumber": "1912Y-40005"}]);
    p["tenants"] = json!([ORCHARD]);
    let r = h.post("/v1/msppartners", p).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(
        is_id(&r.body["custId"], "MspPartner-tenantid-"),
        "{:?}",
        r.body
    );
    assert_eq!(tenants_of(&r.body), vec![ORCHARD]);
    assert_eq!(r.body["entitlements"][0]["entitlementId"], "ENT-0005");
    let listed = h.partner(r.body["custId"].as_str().expect("id")).await;
    assert_eq!(listed, r.body);
    let mut p = partner_body("Foreign Ents", "fe@example.org");
    p["entitlements"] = json!([{"entitlementId": "ENT-0005", "serialNumber": "1912Y-40005"}]);
    assert_eq!(h.post("/v1/msppartners", p.clone()).await.status, 400);
    // Switches: non-exclusive entitlements, another status.
    h.switches(json!({"entitlement_exclusive": false})).await;
    assert_eq!(h.post("/v1/msppartners", p).await.status, 201);
    h.switches(json!({"foreign_entitlement_status": 409})).await;
    let r = put(json!([{"entitlementId": "ENT-9999", "serialNumber": "1"}])).await;
    assert_eq!(r.status, 409);
    // Partner creates follow the field rules and name uniqueness.
    let r = h
        .post(
            "/v1/msppartners",
            partner_body("Northwind Partners", "nw2@example.org"),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .post(
            "/v1/msppartners",
            partner_body("Taken User", "admin@pier-cafe.example"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["propertyName"], "userId");
}

// ---- msp_prefix, single-tenant routes, error bodies -----------------------------------------

#[tokio::test]
async fn msp_prefix_is_a_switch() {
    let h = start().await;
    assert_eq!(h.get("/v1/msptenants").await.status, 200);
    let r = h.get("/management/v1/msptenants").await;
    assert_eq!(r.status, 404);
    assert!(r.body["errors"][0]["errorMessage"].is_string());
    h.switches(json!({"msp_prefix": "/management/v1"})).await;
    assert_eq!(h.get("/v1/msptenants").await.status, 404);
    let r = h.get("/management/v1/msptenants?unused=1").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_array().expect("array").len(), 5);
    assert_eq!(
        h.get("/management/v1/msptenants/nametoidmap").await.status,
        200
    );
    let mut doc = h.partner_at("/management/v1", WESTGATE).await;
    doc["tenants"] = json!([ORCHARD]);
    let r = h
        .put(&format!("/management/v1/msppartners/{WESTGATE}"), doc)
        .await;
    assert_eq!(r.status, 200);
    // Route keys stay canonical, whatever the prefix.
    assert_eq!(h.sim.calls("extreme", "GET /v1/msptenants"), 2);
    assert_eq!(h.sim.calls("extreme", PARTNER_PUT), 1);
    // The token endpoint does not move; auth still applies.
    assert_eq!(h.login(ADMIN, PASSWORD).await.status, 200);
    let url = format!("{}/management/v1/msppartners", h.base);
    assert_eq!(h.raw(Method::GET, &url, None, None, None).await.status, 401);
    // Root and other prefixes.
    h.switches(json!({"msp_prefix": ""})).await;
    assert_eq!(h.get("/msptenants").await.status, 200);
    h.switches(json!({"msp_prefix": "/api/v1"})).await;
    assert_eq!(h.get("/api/v1/msppartners").await.status, 200);
    assert_eq!(h.get("/api/v1x/msppartners").await.status, 404);
    let r = h
        .control("extreme/switches", json!({"msp_prefix": "v1/"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(h.get("/api/v1/msppartners").await.status, 200, "unchanged");
}

impl H {
    async fn partner_at(&self, prefix: &str, id: &str) -> Value {
        let r = self.get(&format!("{prefix}/msppartners")).await;
        r.body
            .as_array()
            .expect("array")
            .iter()
            .find(|p| p["custId"] == id)
            .cloned()
            .expect("partner")
    }
}

#[tokio::test]
async fn single_tenant_routes_only_behind_their_switch() {
    let h = start().await;
    let path = format!("/v1/msptenants/{OLD_MILL}");
    assert_eq!(h.get(&path).await.status, 404);
    assert_eq!(h.call(Method::DELETE, &path, None).await.status, 404);
    assert!(h.tenant_ids().await.contains(&OLD_MILL.to_string()));
    h.switches(json!({"tenant_item_routes": true})).await;
    let r = h.get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["accountName"], "Old Mill Hotel");
    let mut doc = r.body.clone();
    doc["accountName"] = json!("Old Mill Inn");
    doc["country"] = json!("CA");
    doc["timeZone"] = json!("America/Toronto");
    let r = h.put(&path, doc).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["accountName"], "Old Mill Inn");
    assert_eq!(
        h.get("/v1/msptenants/nametoidmap").await.body["Old Mill Inn"],
        OLD_MILL
    );
    let r = h.put(&path, json!({"accountName": "Pier Cafe"})).await;
    assert_eq!(r.status, 400, "duplicate name");
    let r = h.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, 204);
    assert!(!h.tenant_ids().await.contains(&OLD_MILL.to_string()));
    assert_eq!(tenants_of(&h.partner(NORTHWIND).await), vec![LAKESIDE]);
    assert_eq!(h.get(&path).await.status, 404);
}

#[tokio::test]
async fn error_body_shape_is_a_switch() {
    let h = start().await;
    let r = h
        .post(
            "/v1/msptenants",
            json!({"accountName": "", "country": "US"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["errors"][0]["propertyName"], "accountName");
    assert!(r.body["errors"][0]["resource"].is_string());
    h.switches(json!({"error_body": "spring"})).await;
    let r = h
        .post(
            "/v1/msptenants",
            json!({"accountName": "", "country": "US"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["status"], 400);
    assert_eq!(r.body["error"], "Bad Request");
    assert!(
        r.body["message"]
            .as_str()
            .expect("message")
            .contains("accountName")
    );
    let r = h.get("/v1/nothing-here").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["status"], 404);
    let r = h.login(ADMIN, "wrong").await;
    assert_eq!(r.body["status"], 401);
}

// ---- item 56: faults, counts; edits; control plane; persistence -------------------------------

#[tokio::test]
async fn faults_apply_per_route_and_calls_are_counted() {
    let h = start().await;
    h.sim.inject_fault(FaultSpec {
        vendor: "extreme".into(),
        route: "POST /v1/msptenants".into(),
        kind: FaultKind::Status { status: 500 },
        count: Some(1),
        rate: None,
    });
    let body = tenant_body("Faulty", "faulty@example.org");
    assert_eq!(h.post("/v1/msptenants", body.clone()).await.status, 500);
    assert_eq!(h.tenant_ids().await.len(), 5, "a fault runs no handler");
    assert_eq!(h.post("/v1/msptenants", body).await.status, 201);
    // Rate-limit and latency faults.
    h.sim.inject_fault(FaultSpec {
        vendor: "extreme".into(),
        route: "GET /v1/msppartners".into(),
        kind: FaultKind::RateLimitSecond,
        count: Some(1),
        rate: None,
    });
    assert_eq!(h.get("/v1/msppartners").await.status, 429);
    assert_eq!(h.get("/v1/msppartners").await.status, 200);
    // Dropped after commit: the client sees no answer, the change is made.
    h.sim.inject_fault(FaultSpec {
        vendor: "extreme".into(),
        route: PARTNER_PUT.into(),
        kind: FaultKind::DropAfterCommit,
        count: Some(1),
        rate: None,
    });
    let mut doc = h.partner(WESTGATE).await;
    doc["tenants"] = json!([RIVERSIDE]);
    let sent = h
        .http
        .put(format!("{}/v1/msppartners/{WESTGATE}", h.base))
        .bearer_auth("sim-token")
        .json(&doc)
        .send()
        .await;
    assert!(sent.is_err(), "connection cut");
    assert_eq!(tenants_of(&h.partner(WESTGATE).await), vec![RIVERSIDE]);
    // The token endpoint can be faulted too.
    h.sim.inject_fault(FaultSpec {
        vendor: "extreme".into(),
        route: format!("POST {TOKEN}"),
        kind: FaultKind::Status { status: 503 },
        count: Some(1),
        rate: None,
    });
    assert_eq!(h.login(ADMIN, PASSWORD).await.status, 503);
    assert_eq!(h.sim.calls("extreme", PARTNER_PUT), 1);
    assert_eq!(h.sim.calls("extreme", "POST /v1/msptenants"), 2);
    assert_eq!(h.sim.calls("extreme", &format!("POST {TOKEN}")), 1);
    assert_eq!(h.sim.write_calls("extreme"), 3);
    assert_eq!(h.sim.calls("aruba", "POST /v1/msptenants"), 0);
}

#[tokio::test]
async fn portal_edits_change_the_account_behind_the_clients_back() {
    let h = start().await;
    h.sim
        .extreme_edit(ExtremeEdit::RemoveTenantFromPartner {
            partner: "Northwind Partners".into(),
            tenant: OLD_MILL.into(),
        })
        .expect("remove");
    assert_eq!(tenants_of(&h.partner(NORTHWIND).await), vec![LAKESIDE]);
    h.sim
        .extreme_edit(ExtremeEdit::AddTenantToPartner {
            partner: WESTGATE.into(),
            tenant: "Pier Cafe".into(),
        })
        .expect("add");
    assert_eq!(tenants_of(&h.partner(WESTGATE).await), vec![PIER]);
    assert!(tenants_of(&h.partner(SOUTHBAY).await).is_empty());
    for (field, value) in [
        ("accountName", json!("Lakeside Dental Group")),
        ("country", json!("CA")),
        ("timeZone", json!("America/Toronto")),
        ("contactName", json!("New Contact")),
        ("contactEmail", json!("new@lakeside.example")),
        ("contactPhoneNumber", json!("+1 555 0000")),
    ] {
        h.sim
            .extreme_edit(ExtremeEdit::TenantField {
                tenant: LAKESIDE.into(),
                field: field.into(),
                value,
            })
            .expect(field);
    }
    let list = h.get("/v1/msptenants").await;
    let lake = list
        .body
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["custId"] == LAKESIDE)
        .expect("listed")
        .clone();
    assert_eq!(lake["accountName"], "Lakeside Dental Group");
    assert_eq!(lake["country"], "CA");
    assert_eq!(lake["timeZone"], "America/Toronto");
    assert_eq!(lake["mspContact"]["contactName"], "New Contact");
    assert_eq!(lake["mspContact"]["contactEmail"], "new@lakeside.example");
    assert_eq!(lake["mspContact"]["contactPhoneNumber"], "+1 555 0000");
    assert!(
        h.sim
            .extreme_edit(ExtremeEdit::TenantField {
                tenant: LAKESIDE.into(),
                field: "contactName".into(),
                value: json!("a:b"),
            })
            .is_err()
    );
    h.sim
        .extreme_edit(ExtremeEdit::DeleteTenant {
            tenant: "Pier Cafe".into(),
        })
        .expect("delete");
    assert!(!h.tenant_ids().await.contains(&PIER.to_string()));
    assert!(tenants_of(&h.partner(WESTGATE).await).is_empty());

    // Through HTTP: create, and a refused edit.
    let r = h
        .control(
            "extreme/edit",
            json!({"op": "create_tenant", "account_name": "Portal Made", "country": "FR", "time_zone": "Europe/Paris"}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let map = h.get("/v1/msptenants/nametoidmap").await;
    assert!(is_id(&map.body["Portal Made"], "MspEndCustomer-tenantid-"));
    let r = h
        .control(
            "extreme/edit",
            json!({"op": "remove_tenant_from_partner", "partner": SOUTHBAY, "tenant": "Portal Made"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["error"].is_string());
    let r = h.control("extreme/edit", json!({"op": "explode"})).await;
    assert_eq!(r.status, 400);
    let r = h
        .control(
            "extreme/edit",
            json!({"op": "create_tenant", "account_name": "Pinned", "country": "FR",
                   "time_zone": "Europe/Paris", "cust_id": "MspEndCustomer-tenantid-PinnedId00000001"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.get("/v1/msptenants/nametoidmap").await.body["Pinned"],
        "MspEndCustomer-tenantid-PinnedId00000001"
    );
}

#[tokio::test]
async fn control_plane_switches_state_and_reset() {
    let h = start().await;
    let sw: Value = h
        .http
        .get(format!("{}/_sim/extreme/switches", h.sim.url()))
        .send()
        .await
        .expect("switches")
        .json()
        .await
        .expect("json");
    assert_eq!(sw["msp_prefix"], "/v1");
    assert_eq!(sw["create_status"], 201);
    assert_eq!(sw["tenant_move"], "detach");
    assert_eq!(
        h.control("extreme/switches", json!({"no_such_switch": true}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.control("extreme/switches", json!({"create_status": "loud"}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.control("extreme/switches", json!({"create_status": 99}))
            .await
            .status,
        400
    );
    assert_eq!(
        h.post(
            "/v1/msptenants",
            tenant_body("Before Reset", "br@example.org")
        )
        .await
        .status,
        201
    );
    h.switches(json!({"create_status": 200})).await;
    let state: Value = h
        .http
        .get(format!("{}/_sim/state", h.sim.url()))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(state["extreme"]["msp_id"], MSP_ID);
    assert_eq!(
        state["extreme"]["tenants"]
            .as_array()
            .expect("tenants")
            .len(),
        6
    );
    assert_eq!(state["calls"]["extreme"]["POST /v1/msptenants"], 1);
    let r = h.control("reset", json!({})).await;
    assert_eq!(r.status, 200);
    assert_eq!(h.tenant_ids().await.len(), 5);
    assert_eq!(h.state()["switches"]["create_status"], 201);
}

#[tokio::test]
async fn own_listener_and_data_dir_persistence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = || SimOptions {
        extreme_listen: Some(local()),
        data_dir: Some(dir.path().to_path_buf()),
        ..SimOptions::new(local(), Inventory::embedded())
    };
    let first = Simulator::start(opts()).await.expect("start");
    let root = format!("http://{}", first.extreme_addr().expect("extreme listener"));
    let h = H {
        base: root,
        sim: first,
        http: reqwest::Client::new(),
    };
    // At the root of its own address, token endpoint included.
    let token = h.access_token(ADMIN).await;
    let r = h
        .call_as(
            Method::POST,
            "/v1/msptenants",
            Some(tenant_body("Persisted Tenant", "persisted@example.org")),
            &token,
        )
        .await;
    assert_eq!(r.status, 201);
    let id = r.body["custId"].as_str().expect("id").to_string();
    let mut doc = h.partner(WESTGATE).await;
    doc["tenants"] = json!([id]);
    assert_eq!(
        h.put(&format!("/v1/msppartners/{WESTGATE}"), doc)
            .await
            .status,
        200
    );
    h.sim.extreme_switches(|s| s.create_status = 200);
    h.sim.shutdown().await;
    assert!(dir.path().join("sim-state.json").exists());

    let second = Simulator::start(opts()).await.expect("restart");
    let h2 = H {
        base: second.base_url("extreme"),
        sim: second,
        http: reqwest::Client::new(),
    };
    assert!(h2.tenant_ids().await.contains(&id));
    assert_eq!(tenants_of(&h2.partner(WESTGATE).await), vec![id.as_str()]);
    // Issued tokens and switches survive too.
    assert_eq!(
        h2.call_as(Method::GET, "/v1/msppartners", None, &token)
            .await
            .status,
        200
    );
    assert_eq!(h2.state()["switches"]["create_status"], 200);
    h2.sim.shutdown().await;
}

/// A field the fact sheet does not list — a misspelling, another case — is refused with
/// the validation status and `propertyName` naming it; nothing changes.
#[tokio::test]
async fn unknown_fields_are_refused_naming_the_property() {
    let h = start().await;
    let mut b = tenant_body("Typo Tenant", "typo@tenant.example");
    b["accountname"] = json!("Typo Tenant");
    let r = h.post("/v1/msptenants", b).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["errors"][0]["propertyName"], "accountname");
    assert!(error_text(&r).contains("`accountname`"), "{}", r.text);
    let mut b = tenant_body("Typo Tenant", "typo@tenant.example");
    b["mspContact"]["contactPhone"] = json!("1");
    let r = h.post("/v1/msptenants", b).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["errors"][0]["propertyName"],
        "mspContact.contactPhone"
    );
    // A create body is not a document: no ids in it.
    let mut b = partner_body("Typo Partner", "typo@partner.example");
    b["custId"] = json!(null);
    let r = h.post("/v1/msppartners", b).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["errors"][0]["propertyName"], "custId");
    let names = h.get("/v1/msptenants/nametoidmap").await;
    assert!(names.body.get("Typo Tenant").is_none(), "nothing created");

    // The PUT takes the whole document, and only it.
    let before = h.partner(NORTHWIND).await;
    for (path, value) in [("tenant", json!([])), ("TimeZone", json!("UTC"))] {
        let mut doc = before.clone();
        doc[path] = value;
        let r = h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert_eq!(r.body["errors"][0]["propertyName"], path);
    }
    let mut doc = before.clone();
    doc["entitlements"][0]["serial"] = json!("1912Y-40001");
    let r = h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["errors"][0]["propertyName"],
        "entitlements[0].serial"
    );
    assert_eq!(h.partner(NORTHWIND).await, before, "unchanged");

    // The login too, with the validation-status switch.
    h.switches(json!({"validation_status": 422})).await;
    let r = h
        .token_call(
            json!({"grantType": "password", "userId": ADMIN, "password": PASSWORD, "scop": "msp"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["errors"][0]["propertyName"], "scop");
}

/// A partner PUT replaces the document: `tenants` or `entitlements` left out (or null)
/// are empty lists, not "keep the old ones" (switch `partner_put_missing_lists`:
/// `reject` refuses the PUT, naming the list, and changes nothing).
#[tokio::test]
async fn a_partner_put_without_its_lists_empties_them_or_is_refused() {
    let h = start().await;
    let full = h.partner(NORTHWIND).await;
    assert_eq!(tenants_of(&full).len(), 2);
    assert_eq!(full["entitlements"].as_array().expect("list").len(), 1);

    h.switches(json!({"partner_put_missing_lists": "reject"}))
        .await;
    for list in ["tenants", "entitlements"] {
        for null in [false, true] {
            let mut doc = full.clone();
            if null {
                doc[list] = Value::Null;
            } else {
                doc.as_object_mut().expect("doc").remove(list);
            }
            let r = h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc).await;
            assert_eq!(r.status, 400, "{list}: {}", r.text);
            assert_eq!(r.body["errors"][0]["propertyName"], list);
        }
    }
    assert_eq!(h.partner(NORTHWIND).await, full, "nothing changed");

    h.switches(json!({"partner_put_missing_lists": "empty"}))
        .await;
    let mut doc = full.clone();
    doc.as_object_mut().expect("doc").remove("entitlements");
    let r = h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["entitlements"], json!([]));
    assert_eq!(tenants_of(&r.body).len(), 2, "the list that was sent stays");
    let mut doc = r.body.clone();
    doc["tenants"] = Value::Null;
    let r = h.put(&format!("/v1/msppartners/{NORTHWIND}"), doc).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(tenants_of(&r.body).is_empty());
    assert_eq!(h.partner(NORTHWIND).await, r.body);
}
