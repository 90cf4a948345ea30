//! The AudioCodes Live Platform simulator, probed over HTTP with reqwest exactly as an
//! independent client would (fact sheet §4 and checklist items 48–55, 56).

use std::time::{Duration, Instant};

use mspform::sim::audiocodes::{ErrorBody, FullNameRules, TaskProgress, UnknownMsTenant};
use mspform::sim::{AudiocodesEdit, FaultKind, FaultSpec, Inventory, SimOptions, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::sim_http::{Resp, local};

const PROVIDER_TENANT: &str = "8d2f5c1e-3b7a-4c9e-a1f0-6e4b2d7c9a53";
const APP_ID: &str = "c7e1a4b2-9f3d-4e8a-b6c5-2d1f0e9a8b74";
const CLIENT_ID: &str = "5a9e2c7f-1b4d-4f6a-8e3c-9d0b7a6f5e12";
const SECRET: &str = "sim-ac-secret";
/// Microsoft knows these M365 tenants (inventory `ms_tenants`).
const MS_A: &str = "4bf50a33-a383-4d3f-9403-220c898bc1b2";
const MS_B: &str = "c0161094-80c8-47de-ace0-ccd06f188b82";
const LEGACY_ID: &str = "b0c4674d-3d49-4417-a2e2-699386ecf6c9";
const CREATE: &str = "/api/v2/customer";

struct H {
    sim: Simulator,
    http: reqwest::Client,
    base: String,
}

async fn start() -> H {
    let sim = Simulator::start(SimOptions::new(local(), Inventory::embedded()))
        .await
        .expect("simulator starts");
    let base = sim.base_url("audiocodes");
    H {
        sim,
        http: reqwest::Client::new(),
        base,
    }
}

fn guid_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A valid Essentials create body (fact sheet §4.2 example spelling).
fn body(short: &str, tenant: &str) -> Value {
    json!({
        "shortName": short,
        "fullName": short,
        "siteLocation": {"sbcId": 5, "sbcOnboardingScript": 10007, "sbcCleanupScript": 10700},
        "ovocCustomerType": "IPGROUP_TYPE",
        "msTenantId": tenant,
        "scriptParameters": {
            "CacProfile": "5 sessions",
            "ProxySet": "SIPTrunk",
            "OnlinePstnGateway": "gw.sandbox.example",
            "additionalProp1": "Service Provider2 SBC"
        }
    })
}

impl H {
    async fn call_as(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::read(req.send().await.expect("request completes")).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_as(method, path, body, Some("sim-token")).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    async fn create(&self, b: Value) -> Resp {
        self.call(Method::POST, CREATE, Some(b)).await
    }

    /// Create and expect success; returns (customer id, site id).
    async fn customer(&self, short: &str, tenant: &str) -> (String, String) {
        let r = self.create(body(short, tenant)).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["deploymentState"], "Deployed", "{}", r.text);
        (
            r.body["id"].as_str().expect("id").to_string(),
            r.body["siteLocationIds"][0]
                .as_str()
                .expect("site id")
                .to_string(),
        )
    }

    async fn list(&self, all: bool) -> Vec<Value> {
        let r = self
            .get(&format!("/api/v3/customer?allDetails={all}"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body.as_array().expect("bare array").clone()
    }

    async fn listed(&self, short: &str) -> Option<Value> {
        self.list(true)
            .await
            .into_iter()
            .find(|c| c["CustomerShortName"] == short)
    }

    async fn token_form(&self, tenant: &str, form: &str) -> Resp {
        Resp::read(
            self.http
                .post(format!("{}/{tenant}/oauth2/v2.0/token", self.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_string())
                .send()
                .await
                .expect("token call"),
        )
        .await
    }

    async fn control(&self, path: &str, body: Value) -> Resp {
        Resp::read(
            self.http
                .post(format!("{}/_sim{path}", self.sim.url()))
                .json(&body)
                .send()
                .await
                .expect("control"),
        )
        .await
    }

    async fn task(&self, id: &str) -> Resp {
        self.get(&format!("/api/v2/task/{id}")).await
    }
}

fn form(secret: &str, scope: &str) -> String {
    format!(
        "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={secret}&scope={}",
        scope.replace(':', "%3A").replace('/', "%2F")
    )
}

#[test]
fn embedded_inventory_has_the_audiocodes_account() {
    let inv = Inventory::embedded();
    let a = &inv.audiocodes;
    assert_eq!(a.provider_tenant_id, PROVIDER_TENANT);
    assert_eq!(a.client_id, CLIENT_ID);
    assert_eq!(a.client_secret, SECRET);
    assert_eq!(a.sbcs.iter().map(|s| s.id).collect::<Vec<_>>(), [5, 7, 12]);
    assert_eq!(a.customers.len(), 1);
    assert_eq!(a.lead_configurations.len(), 2);
    // The table is optional; a broken one is refused.
    let aruba_only = "[aruba]\nmsp_id = \"3e0a5f0b6a6c4e1b9d2f7a8c5b4d3e21\"\n";
    let inv = Inventory::from_toml_str(aruba_only).expect("no [audiocodes] is fine");
    assert_eq!(inv.audiocodes.tokens, ["sim-token"]);
    let bad = format!("{aruba_only}[audiocodes]\nclient_id = \"nope\"\n");
    assert!(Inventory::from_toml_str(&bad).is_err());
    let bad = format!(
        "{aruba_only}[audiocodes]\n[[audiocodes.customers]]\nid = \"{LEGACY_ID}\"\nshort_name = \"X\"\nsites = [{{ id = \"{MS_A}\", name = \"s\", sbc_id = 99, onboarding_script = 10007, cleanup_script = 10700 }}]\n"
    );
    let err = Inventory::from_toml_str(&bad).expect_err("unknown sbc");
    assert!(format!("{err:#}").contains("sbc_id 99"), "{err:#}");
}

/// Items 48 and the Entra token endpoint.
#[tokio::test]
async fn bearer_required_and_entra_tokens_expire_on_the_sim_clock() {
    let h = start().await;
    let r = h.call_as(Method::GET, "/api/v3/customer", None, None).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").starts_with("Bearer"));
    let r = h
        .call_as(Method::GET, "/api/v3/customer", None, Some("forged"))
        .await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").contains("invalid_token"));
    assert!(r.text.is_empty(), "ASP.NET answers 401 without a body");
    h.sim.audiocodes_switches(|s| {
        s.unauthorized_body = mspform::sim::audiocodes::UnauthorizedBody::Json
    });
    let r = h
        .call_as(Method::POST, CREATE, Some(body("NoAuth", MS_A)), None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_token");
    assert!(h.listed("NoAuth").await.is_none(), "nothing created");

    let scope = format!("api://{APP_ID}/.default");
    let r = h.token_form(PROVIDER_TENANT, &form(SECRET, &scope)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3599);
    assert_eq!(r.body["ext_expires_in"], 3599);
    assert!(r.body.get("refresh_token").is_none());
    let token = r.body["access_token"].as_str().expect("token").to_string();
    let ok = h
        .call_as(Method::GET, "/api/v3/customer", None, Some(&token))
        .await;
    assert_eq!(ok.status, 200);

    // Exactly 3599 s of the simulated clock.
    h.sim.advance_clock(3598);
    let r = h
        .call_as(Method::GET, "/api/v3/customer", None, Some(&token))
        .await;
    assert_eq!(r.status, 200);
    h.sim.advance_clock(1);
    let r = h
        .call_as(Method::GET, "/api/v3/customer", None, Some(&token))
        .await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").contains("expired"));
    assert_eq!(h.get("/api/v3/customer").await.status, 200, "static token");

    // Bad credentials: 400 unauthorized_client (switch 401).
    let r = h.token_form(PROVIDER_TENANT, &form("wrong", &scope)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "unauthorized_client");
    assert!(
        r.body["error_description"]
            .as_str()
            .expect("description")
            .starts_with("AADSTS")
    );
    let r = h
        .token_form(
            PROVIDER_TENANT,
            &form(SECRET, &scope).replace(CLIENT_ID, "00000000-0000-0000-0000-000000000000"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["error_description"]
            .as_str()
            .expect("description")
            .starts_with("AADSTS700016")
    );
    h.sim
        .audiocodes_switches(|s| s.bad_credentials_status = 401);
    let r = h.token_form(PROVIDER_TENANT, &form("wrong", &scope)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "unauthorized_client");
    // Wrong tenant, wrong scope, JSON instead of a form.
    let r = h
        .token_form(
            "11111111-2222-3333-4444-555555555555",
            &form(SECRET, &scope),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .token_form(
            PROVIDER_TENANT,
            &form(SECRET, "https://graph.microsoft.com/.default"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_scope");
    let r = Resp::read(
        h.http
            .post(format!("{}/{PROVIDER_TENANT}/oauth2/v2.0/token", h.base))
            .json(&json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET, "scope": scope}))
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "invalid_request");
    // `<app id>/.default` is also a valid scope spelling for Entra.
    let r = h
        .token_form(
            PROVIDER_TENANT,
            &form(SECRET, &format!("{APP_ID}/.default")),
        )
        .await;
    assert_eq!(r.status, 200);
    h.sim.audiocodes_switches(|s| s.token_lifetime_secs = 60);
    let r = h.token_form(PROVIDER_TENANT, &form(SECRET, &scope)).await;
    assert_eq!(r.body["expires_in"], 60);
    // Token calls are not counted as writes.
    assert_eq!(
        h.sim.write_calls("audiocodes"),
        1,
        "only the refused create"
    );
}

/// Item 49.
#[tokio::test]
async fn short_name_and_body_validation() {
    let h = start().await;
    for bad in ["ab", "abcdefghijklmnop", "a.bc", "a bc", "tab\tx"] {
        let r = h.create(body(bad, MS_A)).await;
        assert_eq!(r.status, 400, "{bad:?}: {}", r.text);
        assert!(
            r.body.is_string(),
            "error body is a JSON string: {}",
            r.text
        );
    }
    for c in ['\\', '/', ':', '*', '?', '"', '<', '>', '|'] {
        let r = h.create(body(&format!("ab{c}cd"), MS_A)).await;
        assert_eq!(r.status, 400, "{c:?}");
    }
    h.customer("abc", MS_A).await;
    h.customer("abcdefghijklmno", MS_A).await;
    h.customer("Under_score-1", MS_A).await;

    // Same shortName for the same msTenantId → 409; another tenant is fine.
    let r = h.create(body("abc", MS_A)).await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = h.create(body("ABC", MS_A)).await;
    assert_eq!(r.status, 409, "case-insensitive");
    h.customer("abc", MS_B).await;
    h.sim.audiocodes_switches(|s| s.duplicate_status = 400);
    assert_eq!(h.create(body("abc", MS_A)).await.status, 400);

    // fullName: ≤200 and the same character rules (switch: length only).
    let mut b = body("FullName1", MS_A);
    b["fullName"] = json!("x".repeat(201));
    assert_eq!(h.create(b.clone()).await.status, 400);
    b["fullName"] = json!("Contoso Ltd");
    assert_eq!(h.create(b.clone()).await.status, 400);
    h.sim
        .audiocodes_switches(|s| s.full_name_rules = FullNameRules::LengthOnly);
    let r = h.create(b.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = h.listed("FullName1").await.expect("listed");
    assert_eq!(c["CustomerFullName"], "Contoso Ltd");
    let mut b = body("NoFull", MS_A);
    b.as_object_mut().expect("obj").remove("fullName");
    assert_eq!(h.create(b).await.status, 200);
    assert_eq!(
        h.listed("NoFull").await.expect("listed")["CustomerFullName"],
        "NoFull",
        "fullName defaults to shortName"
    );

    // siteLocation: object or one-element array; refs must exist.
    let mut b = body("ArraySite", MS_A);
    b["siteLocation"] = json!([b["siteLocation"].clone()]);
    assert_eq!(h.create(b.clone()).await.status, 200);
    let mut two = body("TwoSites", MS_A);
    two["siteLocation"] = json!([two["siteLocation"].clone(), two["siteLocation"].clone()]);
    assert_eq!(h.create(two).await.status, 400);
    for (field, value) in [
        ("sbcId", json!(99)),
        ("sbcOnboardingScript", json!(1)),
        ("sbcCleanupScript", json!(1)),
        ("sbcId", json!("5")),
    ] {
        let mut b = body("BadRef", MS_A);
        b["siteLocation"][field] = value;
        assert_eq!(h.create(b).await.status, 400, "{field}");
    }
    let mut b = body("BadType", MS_A);
    b["ovocCustomerType"] = json!("SOMETHING");
    assert_eq!(h.create(b).await.status, 400);
    // Property names are exact and camelCase, as documented: the PascalCase of the GET
    // answers (`ShortName`), another case (`msTenantID`) or a misspelling is refused,
    // naming the field, and nothing is created.
    for (from, to) in [
        ("shortName", "ShortName"),
        ("msTenantId", "msTenantID"),
        ("fullName", "fullname"),
        ("channelId", "channelID"),
    ] {
        let mut b = body("CaseProps", MS_A);
        b["channelId"] = json!("a35c73f3-4597-4f5b-bfec-1283f43d8b92");
        let v = b.as_object_mut().expect("obj").remove(from).expect("field");
        b[to] = v;
        let r = h.create(b).await;
        assert_eq!(r.status, 400, "{to}: {}", r.text);
        assert!(r.text.contains(&format!("`{to}`")), "{to}: {}", r.text);
    }
    let mut b = body("CaseProps", MS_A);
    let site = b["siteLocation"].as_object_mut().expect("site");
    let v = site.remove("sbcId").expect("sbcId");
    site.insert("SbcId".into(), v);
    let r = h.create(b).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("`siteLocation.SbcId`"), "{}", r.text);
    assert!(h.listed("CaseProps").await.is_none());

    // msTenantId: required, a GUID, known to Microsoft (switches).
    let mut b = body("NoTenant", MS_A);
    b.as_object_mut().expect("obj").remove("msTenantId");
    assert_eq!(h.create(b.clone()).await.status, 400);
    h.sim.audiocodes_switches(|s| s.ms_tenant_required = false);
    assert_eq!(h.create(b).await.status, 200);
    assert_eq!(h.create(body("NotGuid", "contoso")).await.status, 400);
    let unknown = "99999999-9999-4999-8999-999999999999";
    let r = h.create(body("Unknown1", unknown)).await;
    assert_eq!(r.status, 400);
    h.sim
        .audiocodes_switches(|s| s.unknown_ms_tenant = UnknownMsTenant::FailedDeployment);
    let r = h.create(body("Unknown2", unknown)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["deploymentState"], "Failed");
    assert!(r.body["errorDetails"].is_string());
    assert!(h.listed("Unknown2").await.is_none(), "nothing created");
    h.sim
        .audiocodes_switches(|s| s.unknown_ms_tenant = UnknownMsTenant::Accept);
    assert_eq!(h.create(body("Unknown3", unknown)).await.status, 200);

    // scriptParameters: example spelling, lengths, no wide characters.
    let mut b = body("Scripts1", MS_A);
    b["scriptParameters"] = json!({"CACProfile": "5 sessions"});
    assert_eq!(h.create(b.clone()).await.status, 400, "table spelling");
    b["scriptParameters"] = json!({"CarrierUserName": "u".repeat(61)});
    assert_eq!(h.create(b.clone()).await.status, 400);
    b["scriptParameters"] = json!({"CarrierUserPassword": "p".repeat(51)});
    assert_eq!(h.create(b.clone()).await.status, 400);
    b["scriptParameters"] = json!({"CarrierUserPassword": "pässwörd"});
    assert_eq!(h.create(b.clone()).await.status, 400);
    b["scriptParameters"] = json!({"ProxySet": 5});
    assert_eq!(h.create(b.clone()).await.status, 400);
    b["scriptParameters"] = json!({"CustomVar.Variable1": "10.0.0.1", "CarrierUserName": "u".repeat(60), "CarrierUserPassword": "p".repeat(50)});
    assert_eq!(h.create(b.clone()).await.status, 200);
    h.sim
        .audiocodes_switches(|s| s.strict_script_parameters = false);
    let mut b = body("Scripts2", MS_A);
    b["scriptParameters"] = json!({"CACProfile": "5 sessions"});
    assert_eq!(h.create(b).await.status, 200);

    // channelId must be a known channel.
    let mut b = body("Channel1", MS_A);
    b["channelId"] = json!("no-such-channel");
    assert_eq!(h.create(b.clone()).await.status, 400);
    b["channelId"] = json!("a35c73f3-4597-4f5b-bfec-1283f43d8b92");
    assert_eq!(h.create(b.clone()).await.status, 200);
    h.sim.audiocodes_switches(|s| s.validate_channel_id = false);
    b["shortName"] = json!("Channel2");
    b["channelId"] = json!("anything");
    assert_eq!(h.create(b).await.status, 200);

    // Malformed bodies: 400 with a body, never a panic; problem-shaped on request.
    let r = Resp::read(
        h.http
            .post(format!("{}{CREATE}", h.base))
            .bearer_auth("sim-token")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("sent"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(!r.text.is_empty());
    assert_eq!(h.create(json!([1, 2])).await.status, 400);
    assert_eq!(h.create(json!({"shortName": 12})).await.status, 400);
    h.sim.audiocodes_switches(|s| {
        s.error_body = ErrorBody::Problem;
        s.validation_status = 422;
    });
    let r = h.create(body("x", MS_A)).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["status"], 422);
    assert!(r.body["errors"].is_object());
}

/// Item 50, the password rule, the failure and latency switches.
#[tokio::test]
async fn create_answers_camel_case_and_injected_failures_deploy_failed() {
    let h = start().await;
    let mut b = body("SaraTest1", MS_A);
    b["scriptParameters"]["CarrierUserName"] = json!("carrier-user");
    b["scriptParameters"]["CarrierUserPassword"] = json!("S3cret-Carrier!");
    let r = h.create(b).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["id"].as_str().expect("id");
    assert!(guid_shaped(id), "{id}");
    assert_eq!(r.body["customerId"], "SaraTest1");
    let sites = r.body["siteLocationIds"].as_array().expect("ids");
    assert_eq!(sites.len(), 1);
    assert!(guid_shaped(sites[0].as_str().expect("string GUID")));
    assert_ne!(sites[0], r.body["id"]);
    assert_eq!(r.body["deploymentState"], "Deployed");
    assert!(r.body["errorDetails"].is_null());
    let progress = r.body["progressDetails"].as_str().expect("progress");
    assert!(progress.starts_with("(Information, MsTenantid is valid);"));
    assert!(progress.contains("(Information, Site created in Ovoc)"));

    // The carrier password is never returned nor dumped.
    for path in [
        format!("/api/v3/customer/{id}?allDetails=true"),
        format!("/api/v2/customer/{id}"),
        "/api/v3/customer?allDetails=true".to_string(),
        format!("/api/v2/sitelocation/{}", sites[0].as_str().expect("s")),
    ] {
        let r = h.get(&path).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.text.contains("S3cret-Carrier!"), "{path}: {}", r.text);
        assert!(!r.text.contains("CarrierUserPassword"), "{path}");
    }
    let state = Resp::read(
        h.http
            .get(format!("{}/_sim/state", h.sim.url()))
            .send()
            .await
            .expect("state"),
    )
    .await;
    assert!(state.body["audiocodes"]["customers"].is_array());
    assert!(!state.text.contains("S3cret-Carrier!"));
    assert!(!state.text.contains(SECRET), "client secret kept hashed");
    let c = h.listed("SaraTest1").await.expect("listed");
    assert_eq!(c["SiteLocation"][0]["carrierUserPasswordSet"], true);
    assert_eq!(
        c["SiteLocation"][0]["scriptParameters"]["CarrierUserName"],
        "carrier-user"
    );

    // The next create fails: 200, failed state, errorDetails; the customer stays, failed.
    h.sim.audiocodes_switches(|s| s.fail_next_creates = 1);
    let r = h.create(body("Broken1", MS_A)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["deploymentState"], "Failed");
    assert!(
        r.body["errorDetails"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    assert!(
        r.body["progressDetails"]
            .as_str()
            .expect("progress")
            .contains("(Error,")
    );
    let c = h
        .listed("Broken1")
        .await
        .expect("half-deployed customer stays");
    assert_eq!(c["SiteLocation"][0]["sbcDeploymentState"], "Failed");
    h.customer("Fine1", MS_A).await;
    // By name pattern, with the customer rolled back, and another failed-state name.
    h.sim.audiocodes_switches(|s| {
        s.fail_create_names = vec!["Doomed*".into()];
        s.failed_create_keeps_customer = false;
        s.failed_deployment_state = "DeploymentFailed".into();
    });
    let r = h.create(body("DoomedCo", MS_A)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["deploymentState"], "DeploymentFailed");
    assert!(h.listed("DoomedCo").await.is_none());
    let r = h
        .get(&format!(
            "/api/v2/customer/{}",
            r.body["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(r.status, 404);
    h.customer("Fine2", MS_A).await;

    // Slow synchronous create (committed before the answer).
    h.sim.audiocodes_switches(|s| s.create_latency_ms = 300);
    let t = Instant::now();
    h.customer("Slow1", MS_A).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    // A client that gives up early still leaves the customer created.
    let r = h
        .http
        .post(format!("{}{CREATE}", h.base))
        .bearer_auth("sim-token")
        .json(&body("Impatient", MS_A))
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(r.is_err(), "timed out");
    h.sim.audiocodes_switches(|s| s.create_latency_ms = 0);
    assert!(h.listed("Impatient").await.is_some());

    h.sim
        .audiocodes_switches(|s| s.first_site_id_is_customer_id = true);
    let (cid, sid) = h.customer("SameIds", MS_A).await;
    assert_eq!(cid, sid);
}

/// Items 51 and 52.
#[tokio::test]
async fn v3_list_and_gets_are_pascal_case_with_camel_case_sites() {
    let h = start().await;
    let (id, site) = h.customer("ListMe", MS_A).await;
    let brief = h.list(false).await;
    assert_eq!(brief.len(), 2, "the pre-existing customer and ours");
    let ours = brief
        .iter()
        .find(|c| c["UmpCustomerGuid"] == id.as_str())
        .expect("listed by create id");
    for k in [
        "UmpCustomerGuid",
        "CustomerShortName",
        "CustomerFullName",
        "LicenseType",
        "LicensedUsersCount",
        "MsTenantId",
        "ActiveUserCount",
        "LiveHubActiveUsersCount",
        "LiveHubSimpleUsersCount",
    ] {
        assert!(ours.get(k).is_some(), "{k} in {ours}");
    }
    assert_eq!(ours["CustomerShortName"], "ListMe");
    assert_eq!(ours["LicenseType"], 0);
    assert_eq!(ours["MsTenantId"], MS_A);
    assert!(ours.get("SiteLocation").is_none());
    assert_eq!(ours["OvocCustomerType"], "IPGROUP_TYPE");
    let legacy = brief
        .iter()
        .find(|c| c["UmpCustomerGuid"] == LEGACY_ID)
        .expect("pre-existing customer");
    assert_eq!(legacy["CustomerShortName"], "LegacyVoice");
    assert_eq!(legacy["LicensedUsersCount"], 25);
    assert_eq!(legacy["ActiveUserCount"], 18);
    // No allDetails = brief.
    let r = h.get("/api/v3/customer").await;
    assert!(r.body[0].get("SiteLocation").is_none());
    assert_eq!(h.get("/api/v3/customer?allDetails=maybe").await.status, 400);

    let full = h.list(true).await;
    let ours = full
        .iter()
        .find(|c| c["UmpCustomerGuid"] == id.as_str())
        .expect("listed");
    let s = &ours["SiteLocation"][0];
    assert_eq!(s["id"], site.as_str());
    assert_eq!(s["name"], "ListMe");
    assert_eq!(s["sbcId"], 5);
    assert_eq!(s["sbcDeploymentState"], "Deployed");
    assert_eq!(s["sbcConfigurationType"], "SipTrunk");
    assert_eq!(s["sbcOnboardingScript"], 10007);
    assert_eq!(s["sbcCleanupScript"], 10700);
    assert_eq!(s["ovocCustomerType"], "IPGROUP_TYPE");
    assert_eq!(s["scriptParameters"]["ProxySet"], "SIPTrunk");

    let r = h
        .get(&format!("/api/v3/customer/{id}?allDetails=true"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["UmpCustomerGuid"], id.as_str());
    assert_eq!(r.body["MsDefaultDomain"], "saratest1.onmicrosoft.com");
    for k in [
        "ApplicationClientId",
        "ApplicationClientSecret",
        "ClientSecretExpirationDate",
    ] {
        assert!(r.body.get(k).is_some(), "{k}");
    }
    assert_eq!(r.body["SiteLocation"][0]["id"], site.as_str());
    // GUIDs are case-insensitive.
    let r = h
        .get(&format!("/api/v3/customer/{}", id.to_uppercase()))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("SiteLocation").is_none());

    let r = h.get(&format!("/api/v2/customer/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["Id"], id.as_str());
    assert_eq!(r.body["ShortName"], "ListMe");
    assert_eq!(r.body["FullName"], "ListMe");
    assert_eq!(r.body["LicenseType"], 0);
    let s = &r.body["SiteLocation"][0];
    assert_eq!(s["id"], site.as_str());
    assert_eq!(s["name"], "ListMe");
    assert_eq!(s["sbcId"], 5);
    assert_eq!(s["sbcDeploymentState"], "Deployed");
    let r2 = h.get(&format!("/api/v2/customer/{id}/user")).await;
    assert_eq!(r2.body, r.body, "the …/user spelling answers the same");

    // Fields no doc shows can be switched off.
    h.sim
        .audiocodes_switches(|s| s.expose_unsourced_fields = false);
    let r = h.get(&format!("/api/v2/customer/{id}")).await;
    assert!(r.body.get("OvocCustomerType").is_none());
    assert!(
        r.body["SiteLocation"][0]
            .get("sbcOnboardingScript")
            .is_none()
    );
    let r = h
        .get(&format!("/api/v3/customer/{id}?allDetails=true"))
        .await;
    assert!(r.body.get("ChannelId").is_none());
    assert!(r.body["SiteLocation"][0].get("scriptParameters").is_none());
    let r = h
        .get("/api/v3/customer/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(r.status, 404);
}

/// Item 53.
#[tokio::test]
async fn delete_answers_one_then_a_json_string_404() {
    let h = start().await;
    let (id, site) = h.customer("DeleteMe", MS_A).await;
    let r = h
        .call(Method::DELETE, &format!("/api/v2/customer/{id}"), None)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text, "1");
    let r = h
        .call(Method::DELETE, &format!("/api/v2/customer/{id}"), None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        Value::String(format!("Customer with {id} not found"))
    );
    assert_eq!(h.get(&format!("/api/v2/customer/{id}")).await.status, 404);
    assert_eq!(
        h.get(&format!("/api/v2/sitelocation/{site}")).await.status,
        404
    );
    assert!(h.listed("DeleteMe").await.is_none());
    let state = h.sim.dump();
    assert!(
        !state["audiocodes"]["sites"]
            .as_array()
            .expect("sites")
            .iter()
            .any(|s| s["id"] == site.as_str()),
        "its site locations are gone"
    );
    // The name is free again.
    h.customer("DeleteMe", MS_A).await;
}

/// Item 54.
#[tokio::test]
async fn create_from_lead_is_a_task_that_completes_by_polls_or_time() {
    let h = start().await;
    let lead = |short: &str| {
        json!({
            "configurationName": "OcEssential_TENANT_TYPE",
            "customerShortName": short,
            "customerFullName": "Walter's Tenant 2",
            "msTenantId": MS_B,
        })
    };
    let r = h
        .call(Method::POST, "/api/v3/customer", Some(lead("Lead1")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let job = r.body["jobId"].as_str().expect("jobId").to_string();
    assert!(job.starts_with("wst_") && guid_shaped(&job[4..]), "{job}");
    assert!(
        h.listed("Lead1").await.is_none(),
        "not before the task succeeds"
    );
    // Same lead again while it runs → 409.
    let r = h
        .call(Method::POST, "/api/v3/customer", Some(lead("Lead1")))
        .await;
    assert_eq!(r.status, 409);

    let t = h.task(&job).await;
    assert_eq!(t.status, 200);
    assert_eq!(t.body["id"], job.as_str());
    assert_eq!(t.body["status"], "In Progress");
    assert!(t.body["outputData"].as_object().expect("obj").is_empty());
    let t = h.task(&job).await;
    assert_eq!(t.body["status"], "CompletedSuccess");
    assert_eq!(t.body["details"][0], "Converted");
    assert!(
        t.body["executionMessages"]
            .as_array()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(t.body["createTime"].is_string());
    let guid = t.body["outputData"]["umpCustomerGuid"]
        .as_str()
        .expect("umpCustomerGuid")
        .to_string();
    let c = h.listed("Lead1").await.expect("listed after success");
    assert_eq!(c["UmpCustomerGuid"], guid.as_str());
    assert_eq!(
        c["CustomerFullName"], "Walter's Tenant 2",
        "any value for a lead"
    );
    assert_eq!(c["MsTenantId"], MS_B);
    assert_eq!(c["SiteLocation"][0]["ovocCustomerType"], "TENANT_TYPE");
    assert_eq!(h.task(&job).await.body["status"], "CompletedSuccess");

    // Progress by the simulated clock only.
    h.sim.audiocodes_switches(|s| {
        s.task_progress = TaskProgress::Time;
        s.task_duration_ms = 120_000;
    });
    let job = h
        .call(Method::POST, "/api/v3/customer", Some(lead("Lead2")))
        .await
        .body["jobId"]
        .as_str()
        .expect("job")
        .to_string();
    for _ in 0..3 {
        assert_eq!(h.task(&job).await.body["status"], "In Progress");
    }
    h.sim.advance_clock(119);
    assert!(h.listed("Lead2").await.is_none());
    h.sim.advance_clock(1);
    assert!(h.listed("Lead2").await.is_some(), "completed unpolled");
    assert_eq!(h.task(&job).await.body["status"], "CompletedSuccess");

    // Polls only, three of them; then an injected task failure.
    h.sim.audiocodes_switches(|s| {
        s.task_progress = TaskProgress::Polls;
        s.task_polls = 3;
        s.fail_next_tasks = 1;
    });
    let job = h
        .call(Method::POST, "/api/v3/customer", Some(lead("Lead3")))
        .await
        .body["jobId"]
        .as_str()
        .expect("job")
        .to_string();
    h.sim.advance_clock(100_000);
    for _ in 0..3 {
        assert_eq!(h.task(&job).await.body["status"], "In Progress");
    }
    let t = h.task(&job).await;
    assert_eq!(t.body["status"], "CompletedFailure");
    assert!(
        t.body["executionMessages"]
            .as_array()
            .expect("messages")
            .iter()
            .any(|m| m["level"] == "Error")
    );
    assert!(h.listed("Lead3").await.is_none());

    // Validation is synchronous.
    let mut b = lead("Lead4");
    b["configurationName"] = json!("NoSuchConfig");
    assert_eq!(
        h.call(Method::POST, "/api/v3/customer", Some(b))
            .await
            .status,
        400
    );
    assert_eq!(
        h.call(Method::POST, "/api/v3/customer", Some(lead("L.4")))
            .await
            .status,
        400
    );
    assert_eq!(
        h.task("wst_00000000-0000-0000-0000-000000000000")
            .await
            .status,
        404
    );
    // A lead whose tenant Microsoft does not know: 400, or (switch) a failed task.
    let mut b = lead("Lead6");
    b["msTenantId"] = json!("99999999-9999-4999-8999-999999999999");
    assert_eq!(
        h.call(Method::POST, "/api/v3/customer", Some(b.clone()))
            .await
            .status,
        400
    );
    h.sim
        .audiocodes_switches(|s| s.unknown_ms_tenant = UnknownMsTenant::FailedDeployment);
    h.sim
        .audiocodes_switches(|s| s.task_progress = TaskProgress::Immediate);
    let job = h
        .call(Method::POST, "/api/v3/customer", Some(lead("Lead5")))
        .await
        .body["jobId"]
        .as_str()
        .expect("job")
        .to_string();
    assert_eq!(h.task(&job).await.body["status"], "CompletedSuccess");
    let r = h.call(Method::POST, "/api/v3/customer", Some(b)).await;
    assert_eq!(r.status, 200);
    let t = h.task(r.body["jobId"].as_str().expect("job")).await;
    assert_eq!(t.body["status"], "CompletedFailure");
    assert!(t.text.contains("MsTenantid"), "{}", t.text);
    assert!(h.listed("Lead6").await.is_none());
}

/// Item 55 and the add-site call.
#[tokio::test]
async fn site_add_and_delete_are_queued_tasks() {
    let h = start().await;
    let (id, first) = h.customer("Sites1", MS_A).await;
    let add = json!({
        "siteLocationName": "Sites1-B",
        "ovocCustomerType": "IPGROUP_TYPE",
        "sbcId": 12,
        "sbcOnboardingScript": 10007,
        "sbcCleanupScript": 10700,
        "scriptParameters": {"ProxySet": "Backup", "OnlinePstnGateway": "gw2.example"}
    });
    let r = h
        .call(
            Method::POST,
            &format!("/api/v2/customer/{id}/sitelocation/"),
            Some(add.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], true);
    assert_eq!(r.body["msg"], "queued");
    let sid = r.body["siteLocationId"]
        .as_str()
        .expect("site id")
        .to_string();
    let task = r.body["sbcOnboardingTaskId"]
        .as_str()
        .expect("task")
        .to_string();
    assert!(task.starts_with("tsk_"));
    let r = h.get(&format!("/api/v2/sitelocation/{sid}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["tenantId"], id.as_str());
    assert_eq!(r.body["siteName"], "Sites1-B");
    assert_eq!(r.body["sbcDeploymentState"], 1, "InProgress code");
    assert_eq!(r.body["pendingTasks"][0], task.as_str());
    assert_eq!(r.body["onlinePstnGateway"], "gw2.example");
    assert_eq!(r.body["sbcInfo"]["sbcId"], 12);
    assert!(r.body["m365DeploymentState"].is_null());
    assert_eq!(h.task(&task).await.body["status"], "In Progress");
    assert_eq!(h.task(&task).await.body["status"], "CompletedSuccess");
    let r = h.get(&format!("/api/v2/sitelocation/{sid}")).await;
    assert_eq!(r.body["sbcDeploymentState"], 2);
    assert!(r.body["pendingTasks"].as_array().expect("tasks").is_empty());
    let c = h.listed("Sites1").await.expect("listed");
    let b = c["SiteLocation"]
        .as_array()
        .expect("sites")
        .iter()
        .find(|s| s["id"] == sid.as_str())
        .cloned()
        .expect("second site");
    assert_eq!(b["sbcConfigurationType"], "Byoc");
    assert_eq!(b["sbcDeploymentState"], "Deployed");
    // Duplicate name, unknown customer, unknown SBC.
    let r = h
        .call(
            Method::POST,
            &format!("/api/v2/customer/{id}/sitelocation"),
            Some(add.clone()),
        )
        .await;
    assert_eq!(r.status, 409);
    let r = h
        .call(
            Method::POST,
            "/api/v2/customer/00000000-0000-0000-0000-000000000000/sitelocation/",
            Some(add.clone()),
        )
        .await;
    assert_eq!(r.status, 404);
    let mut bad = add.clone();
    bad["siteLocationName"] = json!("Other");
    bad["sbcId"] = json!(404);
    let r = h
        .call(
            Method::POST,
            &format!("/api/v2/customer/{id}/sitelocation/"),
            Some(bad),
        )
        .await;
    assert_eq!(r.status, 400);

    // Delete: queued; listed as Deleting until the cleanup task completes.
    let r = h
        .call(
            Method::DELETE,
            &format!("/api/v2/sitelocation/{first}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], true);
    assert_eq!(r.body["msg"], "queued");
    assert_eq!(r.body["o365CleanupTask"], "tsk_0");
    let cleanup = r.body["sbcCleanupTaskId"]
        .as_str()
        .expect("task")
        .to_string();
    assert!(cleanup.starts_with("tsk_"));
    let again = h
        .call(
            Method::DELETE,
            &format!("/api/v2/sitelocation/{first}"),
            None,
        )
        .await;
    assert_eq!(
        again.body["sbcCleanupTaskId"],
        cleanup.as_str(),
        "same task"
    );
    let r = h.get(&format!("/api/v2/customer/{id}")).await;
    let states: Vec<&str> = r.body["SiteLocation"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["sbcDeploymentState"].as_str().expect("state"))
        .collect();
    assert!(states.contains(&"Deleting"), "{states:?}");
    assert_eq!(h.task("tsk_0").await.body["status"], "CompletedSuccess");
    assert_eq!(h.task(&cleanup).await.body["status"], "In Progress");
    assert_eq!(h.task(&cleanup).await.body["status"], "CompletedSuccess");
    assert_eq!(
        h.get(&format!("/api/v2/sitelocation/{first}")).await.status,
        404
    );
    let r = h.get(&format!("/api/v2/customer/{id}")).await;
    assert_eq!(r.body["SiteLocation"].as_array().expect("sites").len(), 1);

    // Switch: a deleted site vanishes from reads at once; the task still completes later.
    h.sim
        .audiocodes_switches(|s| s.deleted_site_visible_until_cleanup = false);
    let r = h
        .call(Method::DELETE, &format!("/api/v2/sitelocation/{sid}"), None)
        .await;
    let cleanup = r.body["sbcCleanupTaskId"]
        .as_str()
        .expect("task")
        .to_string();
    assert_eq!(
        h.get(&format!("/api/v2/sitelocation/{sid}")).await.status,
        404
    );
    assert!(
        h.get(&format!("/api/v2/customer/{id}")).await.body["SiteLocation"]
            .as_array()
            .expect("sites")
            .is_empty()
    );
    assert_eq!(h.task(&cleanup).await.body["status"], "In Progress");
    h.sim.advance_clock(60);
    assert_eq!(h.task(&cleanup).await.body["status"], "CompletedSuccess");

    // A TENANT_TYPE site reports an M365 state; an unknown site is 404.
    let r = h
        .call(
            Method::POST,
            &format!("/api/v2/customer/{id}/sitelocation/"),
            Some(json!({"siteLocationName": "Tenant", "ovocCustomerType": "TENANT_TYPE", "sbcId": 5, "sbcOnboardingScript": 10008, "sbcCleanupScript": 10701})),
        )
        .await;
    let tid = r.body["siteLocationId"].as_str().expect("site").to_string();
    let r = h.get(&format!("/api/v2/sitelocation/{tid}")).await;
    assert_eq!(r.body["m365DeploymentState"], 1);
    assert_eq!(r.body["m365Info"]["msTenantId"], MS_A);
    assert_eq!(
        h.get("/api/v2/sitelocation/00000000-0000-0000-0000-000000000000")
            .await
            .status,
        404
    );
    // Failed site task: the site ends failed.
    h.sim.audiocodes_switches(|s| s.fail_next_tasks = 1);
    let r = h
        .call(
            Method::POST,
            &format!("/api/v2/customer/{id}/sitelocation/"),
            Some(json!({"siteLocationName": "WillFail", "sbcId": 5, "sbcOnboardingScript": 10007, "sbcCleanupScript": 10700})),
        )
        .await;
    let fid = r.body["siteLocationId"].as_str().expect("site").to_string();
    h.sim.advance_clock(60);
    let r = h.get(&format!("/api/v2/sitelocation/{fid}")).await;
    assert_eq!(r.body["sbcDeploymentState"], 3, "Failed code");
}

/// Item 56 for AudioCodes routes, and the optional rate limit.
#[tokio::test]
async fn faults_and_the_optional_rate_limit() {
    let h = start().await;
    h.sim.inject_fault(FaultSpec {
        vendor: "audiocodes".into(),
        route: "POST /api/v2/customer".into(),
        kind: FaultKind::Status { status: 503 },
        count: Some(1),
        rate: None,
    });
    assert_eq!(h.create(body("Faulty", MS_A)).await.status, 503);
    assert!(h.listed("Faulty").await.is_none(), "nothing committed");
    h.customer("Faulty", MS_A).await;
    assert_eq!(h.sim.calls("audiocodes", "POST /api/v2/customer"), 2);

    // Committed, but the connection drops: the retry must find it by name.
    h.sim.inject_fault(FaultSpec {
        vendor: "audiocodes".into(),
        route: "POST /api/v2/customer".into(),
        kind: FaultKind::DropAfterCommit,
        count: Some(1),
        rate: None,
    });
    let err = h
        .http
        .post(format!("{}{CREATE}", h.base))
        .bearer_auth("sim-token")
        .json(&body("Dropped", MS_A))
        .send()
        .await;
    assert!(err.is_err(), "{err:?}");
    assert!(h.listed("Dropped").await.is_some());
    assert_eq!(h.create(body("Dropped", MS_A)).await.status, 409);

    let r = h
        .control(
            "/faults",
            json!({"vendor": "audiocodes", "route": "GET /api/v2/task/*", "kind": {"type": "latency", "ms": 150}, "count": 1}),
        )
        .await;
    assert_eq!(r.status, 200);
    let t = Instant::now();
    h.task("tsk_0").await;
    assert!(t.elapsed() >= Duration::from_millis(150));

    h.sim.audiocodes_switches(|s| {
        s.limit_per_second = 2;
        s.rate_limit_retry_after_secs = 1;
    });
    // On a frozen clock every call below falls into the same second until the
    // test moves on to the next one.
    h.sim.freeze_clock();
    let second = async || {
        let mut codes = Vec::new();
        for _ in 0..4 {
            let r = h.get("/api/v3/customer").await;
            if r.status == 429 {
                assert_eq!(r.header("retry-after"), "1");
            } else {
                assert!(r.headers.get("retry-after").is_none());
            }
            codes.push(r.status.as_u16());
        }
        codes
    };
    assert_eq!(second().await, [200, 200, 429, 429]);
    h.sim.advance_clock(1);
    assert_eq!(second().await, [200, 200, 429, 429], "a new window");
}

/// Portal edits for drift tests.
#[tokio::test]
async fn portal_edits_change_live_state() {
    let h = start().await;
    let (id, _) = h.customer("Edited", MS_A).await;
    let r = h
        .control(
            "/audiocodes/edit",
            json!({"op": "set_full_name", "customer": "Edited", "full_name": "Edited By Hand"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        h.get(&format!("/api/v2/customer/{id}")).await.body["FullName"],
        "Edited By Hand"
    );
    h.sim
        .audiocodes_edit(AudiocodesEdit::SetSiteState {
            customer: id.clone(),
            site: None,
            state: "Failed".into(),
        })
        .expect("site state");
    assert_eq!(
        h.get(&format!("/api/v2/customer/{id}")).await.body["SiteLocation"][0]["sbcDeploymentState"],
        "Failed"
    );
    let r = h
        .control(
            "/audiocodes/edit",
            json!({"op": "create_customer", "short_name": "ByHand", "ms_tenant_id": MS_B}),
        )
        .await;
    assert_eq!(r.status, 200);
    let new_id = r.body["id"].as_str().expect("id").to_string();
    let c = h.listed("ByHand").await.expect("created by hand");
    assert_eq!(c["UmpCustomerGuid"], new_id.as_str());
    assert_eq!(c["SiteLocation"][0]["sbcDeploymentState"], "Deployed");
    h.sim
        .audiocodes_edit(AudiocodesEdit::DeleteSite {
            customer: "ByHand".into(),
            site: None,
        })
        .expect("delete site");
    assert!(
        h.listed("ByHand").await.expect("still there")["SiteLocation"]
            .as_array()
            .expect("sites")
            .is_empty()
    );
    h.sim
        .audiocodes_edit(AudiocodesEdit::DeleteCustomer {
            customer: "LegacyVoice".into(),
        })
        .expect("delete");
    assert_eq!(
        h.get(&format!("/api/v2/customer/{LEGACY_ID}")).await.status,
        404
    );
    assert!(
        h.sim
            .audiocodes_edit(AudiocodesEdit::SetFullName {
                customer: "Nobody".into(),
                full_name: "x".into(),
            })
            .is_err()
    );
    let r = h
        .control(
            "/audiocodes/edit",
            json!({"op": "set_site_state", "customer": "Edited", "state": "Sideways"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = h.control("/audiocodes/edit", json!({"op": "nope"})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn switches_calls_state_and_reset_over_http() {
    let h = start().await;
    let r = h
        .control(
            "/audiocodes/switches",
            json!({"duplicate_status": 400, "task_polls": 0}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["duplicate_status"], 400);
    assert_eq!(r.body["token_lifetime_secs"], 3599, "others untouched");
    let r = h
        .control("/audiocodes/switches", json!({"no_such": 1}))
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .control(
            "/audiocodes/switches",
            json!({"unknown_ms_tenant": "sideways"}),
        )
        .await;
    assert_eq!(r.status, 400);
    let got: Value = h
        .http
        .get(format!("{}/_sim/audiocodes/switches", h.sim.url()))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(got["duplicate_status"], 400);

    h.customer("Counted", MS_A).await;
    h.get("/api/v3/customer").await;
    assert_eq!(h.sim.calls("audiocodes", "POST /api/v2/customer"), 1);
    assert_eq!(h.sim.calls("audiocodes", "GET /api/v3/customer"), 1);
    assert_eq!(h.sim.write_calls("audiocodes"), 1);
    assert_eq!(h.sim.total_calls("aruba"), 0, "vendors are counted apart");

    let r = h.get("/api/v9/nothing").await;
    assert_eq!(r.status, 404);
    let r = h.call(Method::PUT, "/api/v3/customer", None).await;
    assert_eq!(r.status, 405);

    let r = Resp::read(
        h.http
            .post(format!("{}/_sim/reset", h.sim.url()))
            .send()
            .await
            .expect("reset"),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(h.list(false).await.len(), 1, "back to the inventory");
    assert_eq!(
        h.sim.dump()["audiocodes"]["switches"]["duplicate_status"],
        409
    );
}

#[tokio::test]
async fn data_dir_persists_and_audiocodes_listen_serves_at_the_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = || SimOptions {
        data_dir: Some(dir.path().to_path_buf()),
        audiocodes_listen: Some(local()),
        ..SimOptions::new(local(), Inventory::embedded())
    };
    let first = Simulator::start(opts()).await.expect("start");
    let h = H {
        base: first.base_url("audiocodes"),
        sim: first,
        http: reqwest::Client::new(),
    };
    let (id, _) = h.customer("Kept", MS_A).await;
    h.sim.audiocodes_switches(|s| s.duplicate_status = 400);
    h.sim.shutdown().await;

    let second = Simulator::start(opts()).await.expect("restart");
    let root = format!("http://{}", second.audiocodes_addr().expect("listener"));
    let h2 = H {
        base: root,
        sim: second,
        http: reqwest::Client::new(),
    };
    let r = h2.get(&format!("/api/v2/customer/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["ShortName"], "Kept");
    assert_eq!(
        h2.create(body("Kept", MS_A)).await.status,
        400,
        "switches kept"
    );
    let r = h2
        .token_form(
            PROVIDER_TENANT,
            &form(SECRET, &format!("api://{APP_ID}/.default")),
        )
        .await;
    assert_eq!(r.status, 200, "the token endpoint at the root too");
    h2.sim.shutdown().await;
}

/// Every documented body takes exactly its camelCase fields (the lead and the site add
/// too), and every JSON endpoint a JSON content type (415 otherwise); the Entra token
/// endpoint keeps its form body, a DELETE without a body needs none.
#[tokio::test]
async fn documented_bodies_are_exact_and_json_endpoints_want_json() {
    let h = start().await;
    let lead = json!({
        "configurationName": "OcEssential_TENANT_TYPE",
        "customerShortName": "LeadCase",
        "customerFullName": "Lead Case",
        "msTenantID": MS_B,
    });
    let r = h.call(Method::POST, "/api/v3/customer", Some(lead)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("`msTenantID`"), "{}", r.text);

    let (id, _) = h.customer("Exact1", MS_A).await;
    let add = json!({
        "siteLocationName": "Exact1-B",
        "sbcID": 12,
        "sbcOnboardingScript": 10007,
        "sbcCleanupScript": 10700,
    });
    let r = h
        .call(
            Method::POST,
            &format!("/api/v2/customer/{id}/sitelocation"),
            Some(add),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("`sbcID`"), "{}", r.text);
    let sites = h.listed("Exact1").await.expect("listed")["SiteLocation"].clone();
    assert_eq!(sites.as_array().map(Vec::len), Some(1), "no site added");
    // Problem-shaped errors carry the same text.
    h.sim.audiocodes_switches(|s| {
        s.error_body = ErrorBody::Problem;
        s.validation_status = 422;
    });
    let mut b = body("Exact2", MS_A);
    b["siteLocation"] =
        json!([{"sbcId": 5, "sbcOnboardingScript": 10007, "sbcCleanupScript": 10700, "sbc": 1}]);
    let r = h.create(b).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(r.text.contains("`siteLocation[0].sbc`"), "{}", r.text);

    let text = body("Typed1", MS_A).to_string();
    for ct in [Some("text/plain"), Some("application/xml"), None] {
        let mut req = h
            .http
            .post(format!("{}{CREATE}", h.base))
            .bearer_auth("sim-token")
            .body(text.clone());
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        let r = Resp::read(req.send().await.expect("sent")).await;
        assert_eq!(r.status, 415, "{ct:?}: {}", r.text);
        assert!(r.text.contains("application/json"), "{}", r.text);
    }
    assert!(h.listed("Typed1").await.is_none());
    let r = h
        .token_form(
            PROVIDER_TENANT,
            &format!(
                "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}&scope=api://{APP_ID}/.default"
            ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = h
        .call(Method::DELETE, &format!("{CREATE}/{id}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}
