//! The Aruba Central simulator, probed over HTTP with reqwest exactly as an independent
//! client would (fact sheet §1 and checklist items 1–28, 56).

use std::time::{Duration, Instant};

use mspform::sim::{ArubaEdit, FaultKind, FaultSpec, Inventory, SimOptions, Simulator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::sim_http::{Resp, local};

const MSP_ID: &str = "3e0a5f0b6a6c4e1b9d2f7a8c5b4d3e21";
const DEVICES_PUT: &str = "PUT /msp_api/v1/customers/*/devices";

struct H {
    sim: Simulator,
    http: reqwest::Client,
    base: String,
}

async fn start_with(inventory: Inventory) -> H {
    let sim = Simulator::start(SimOptions::new(local(), inventory))
        .await
        .expect("simulator starts");
    sim.aruba_switches(|s| s.limit_per_second = 0);
    let base = sim.base_url("aruba");
    H {
        sim,
        http: reqwest::Client::new(),
        base,
    }
}

async fn start() -> H {
    start_with(Inventory::embedded()).await
}

fn inventory_with(from: &str, to: &str) -> Inventory {
    let text = include_str!("../../examples/sim-inventory.toml");
    assert!(text.contains(from), "inventory has {from}");
    Inventory::from_toml_str(&text.replace(from, to)).expect("inventory parses")
}

impl H {
    async fn call_as(
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
            req = req.header("TenantID", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::read(req.send().await.expect("request completes")).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.call_as(method, path, body, None, Some("sim-token"))
            .await
    }

    async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }

    async fn tenant(&self, method: Method, path: &str, body: Option<Value>, tenant: &str) -> Resp {
        self.call_as(method, path, body, Some(tenant), Some("sim-token"))
            .await
    }

    /// Create a customer and wait out provisioning on the simulator clock; returns its id.
    async fn customer(&self, name: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/msp_api/v2/customers",
                Some(customer_body(name)),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        for _ in 0..5 {
            let r = self
                .get(&format!("/msp_api/v1/customers?customer_name={name}"))
                .await;
            if let Some(c) = r.body["customers"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["customer_name"] == name))
            {
                return c["customer_id"].as_str().expect("id").to_string();
            }
            self.sim.advance_clock(1);
        }
        panic!("customer {name} never appeared");
    }

    /// Moves devices and lets the move settle on the simulator clock (the move lands
    /// `device_move_delay_ms` later, the tenant's auto-licence after it).
    async fn move_devices(&self, cid: &str, serials: &[&str]) -> Resp {
        let devices: Vec<Value> = serials
            .iter()
            .map(|s| json!({"serial": s, "mac": mac_of(s)}))
            .collect();
        let r = self
            .call(
                Method::PUT,
                &format!("/msp_api/v1/customers/{cid}/devices"),
                Some(json!({"devices": devices})),
            )
            .await;
        self.sim.advance_clock(1);
        r
    }

    /// serial → services, from the MSP inventory list.
    async fn services_of(&self, serial: &str) -> Vec<String> {
        let r = self.get("/msp_api/v1/devices?limit=1000").await;
        let d = r.body["deviceList"]["devices"]
            .as_array()
            .expect("devices")
            .iter()
            .find(|d| d["serial"] == serial)
            .cloned()
            .expect("device listed");
        serde_json::from_value(d["services"].clone()).expect("services")
    }

    async fn free_tokens(&self, service: &str) -> u64 {
        let r = self.get("/platform/licensing/v1/services/config").await;
        r.body["services"]
            .as_array()
            .expect("services")
            .iter()
            .find(|s| s["service_name"] == service)
            .and_then(|s| s["available_tokens"].as_u64())
            .expect("service listed")
    }
}

fn customer_body(name: &str) -> Value {
    json!({
        "customer_name": name,
        "country_name": "US",
        "address": {"street_address": "6280 America Center Dr", "city": "San Jose", "state": "California"},
        "zip_postal_code": "95002",
        "group": {"name": "coffee_shop_group"},
        "description": "test",
        "lock_msp_ssids": false,
    })
}

fn mac_of(serial: &str) -> String {
    let n: u32 = serial[2..].parse().expect("numbered serial");
    match &serial[..2] {
        "AP" => format!("20:4C:03:00:{:02X}:{:02X}", n >> 8, n & 0xff),
        "SW" => format!("88:3A:30:00:01:{n:02X}"),
        _ => format!("00:1A:1E:00:02:{n:02X}"),
    }
}

#[test]
fn embedded_inventory_has_the_210_devices() {
    let inv = Inventory::embedded();
    let d = &inv.aruba.devices;
    assert_eq!(d.len(), 210);
    assert_eq!(d.iter().filter(|d| d.device_type == "IAP").count(), 120);
    assert_eq!(d.iter().filter(|d| d.device_type == "SWITCH").count(), 60);
    assert_eq!(
        d.iter().filter(|d| d.device_type == "CONTROLLER").count(),
        30
    );
    let ap120 = d
        .iter()
        .find(|d| d.serial == "AP0000120")
        .expect("AP0000120");
    assert_eq!(ap120.mac, "20:4C:03:00:00:78");
    assert_eq!(inv.aruba.licenses["ADVANCED_SWITCH_6200"].tokens, 60);
    assert!(Inventory::from_toml_str("[aruba]\nmsp_id = \"XYZ\"\n").is_err());
}

#[tokio::test]
async fn auth_requires_a_bearer_and_refresh_rotates_tokens() {
    let h = start().await;
    let r = h
        .call_as(Method::GET, "/msp_api/v1/customers", None, None, None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_token");
    assert!(!r.header("x-ratelimit-limit-day").is_empty());
    let r = h
        .call_as(
            Method::GET,
            "/msp_api/v1/customers",
            None,
            None,
            Some("nope"),
        )
        .await;
    assert_eq!(r.status, 401);

    let refresh = |rt: &str| {
        format!(
            "/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=refresh_token&refresh_token={rt}"
        )
    };
    let r = h
        .call_as(Method::POST, &refresh("sim-refresh"), None, None, None)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["expires_in"], 7200);
    assert_eq!(r.body["token_type"], "bearer");
    let a1 = r.body["access_token"].as_str().expect("access").to_string();
    let r1 = r.body["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    let ok = h
        .call_as(Method::GET, "/msp_api/v1/customers", None, None, Some(&a1))
        .await;
    assert_eq!(ok.status, 200);

    // The old refresh token is single-use; the new one rotates and kills a1.
    let r = h
        .call_as(Method::POST, &refresh("sim-refresh"), None, None, None)
        .await;
    assert_eq!(r.status, 400);
    let r = h
        .call_as(Method::POST, &refresh(&r1), None, None, None)
        .await;
    assert_eq!(r.status, 200);
    let a2 = r.body["access_token"].as_str().expect("access").to_string();
    let dead = h
        .call_as(Method::GET, "/msp_api/v1/customers", None, None, Some(&a1))
        .await;
    assert_eq!(dead.status, 401);

    // Wrong client, and parameters outside the query string.
    let r = h
        .call_as(
            Method::POST,
            "/oauth2/token?client_id=sim-client&client_secret=bad&grant_type=refresh_token&refresh_token=x",
            None,
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_client");
    let r = h
        .call_as(
            Method::POST,
            "/oauth2/token",
            Some(json!({"client_id": "sim-client"})),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 400);

    // Exactly 7200 s of the simulated clock.
    h.sim.advance_clock(7199);
    let r = h
        .call_as(Method::GET, "/msp_api/v1/customers", None, None, Some(&a2))
        .await;
    assert_eq!(r.status, 200);
    h.sim.advance_clock(1);
    let r = h
        .call_as(Method::GET, "/msp_api/v1/customers", None, None, Some(&a2))
        .await;
    assert_eq!(r.status, 401);
    assert!(r.body.to_string().contains("invalid_token"));
    // Static tokens never expire.
    assert_eq!(h.get("/msp_api/v1/customers").await.status, 200);
}

#[tokio::test]
async fn rate_limits_per_second_and_per_day() {
    let h = start().await;
    h.sim.aruba_switches(|s| s.limit_per_second = 7);
    // The simulated clock stands still, so the 8 calls share one window whatever
    // the machine's speed (over HTTP, as a harness outside Rust would do it).
    let r = h
        .http
        .post(format!("{}/_sim/clock", h.sim.url()))
        .json(&json!({"freeze": true}))
        .send()
        .await
        .expect("clock");
    assert_eq!(r.status(), 200);
    let mut last = None;
    for i in 0..8 {
        let r = h.get("/msp_api/v1/customers").await;
        assert_eq!(r.header("x-ratelimit-limit-second"), "7");
        assert_eq!(r.header("x-ratelimit-limit-day"), "5000");
        assert!(r.header("x-request-start").starts_with("t="));
        if i < 7 {
            assert_eq!(r.status, 200, "call {i}");
            assert_eq!(
                r.header("x-ratelimit-remaining-second"),
                (6 - i).to_string()
            );
        }
        last = Some(r);
    }
    let r = last.expect("8th call");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-remaining-second"), "0");
    assert_eq!(r.body["message"], "API rate limit exceeded");
    assert!(r.headers.get("retry-after").is_none());
    assert_eq!(h.get("/msp_api/v1/customers").await.status, 429, "still");
    // The next second opens a new window of 7.
    h.sim.advance_clock(1);
    for i in 0..7 {
        assert_eq!(h.get("/msp_api/v1/customers").await.status, 200, "call {i}");
    }
    assert_eq!(h.get("/msp_api/v1/customers").await.status, 429);

    // The day quota, counted for TenantID calls too.
    h.sim.aruba_switches(|s| {
        s.limit_per_second = 0;
        s.limit_per_day = 3;
    });
    h.sim.advance_clock(86_400);
    let cid = h.customer("Quota").await; // 1 create + 2 list polls
    let r = h.tenant(Method::GET, "/central/v2/sites", None, &cid).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-remaining-day"), "0");
    h.sim.advance_clock(86_400);
    let r = h.tenant(Method::GET, "/central/v2/sites", None, &cid).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ratelimit-remaining-day"), "2");
}

#[tokio::test]
async fn customer_create_returns_no_id_and_appears_after_provisioning() {
    let h = start().await;
    let r = h
        .call(
            Method::POST,
            "/msp_api/v2/customers",
            Some(customer_body("Coffee Shop")),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"status": "success"}));
    assert!(r.headers.get("location").is_none());

    // Invisible for `provision_invisible_polls` (1) list calls and `provision_delay_ms`
    // (50) of the simulator's time, whichever ends later.
    let empty = json!({"customers": [], "total": 0});
    let first = h
        .get("/msp_api/v1/customers?customer_name=Coffee%20Shop")
        .await;
    assert_eq!(first.body, empty);
    h.sim.advance_clock(1);
    let second = h
        .get("/msp_api/v1/customers?customer_name=Coffee%20Shop")
        .await;
    assert_eq!(second.body["total"], 1);
    let c = &second.body["customers"][0];
    let id = c["customer_id"].as_str().expect("id");
    assert_eq!(id.len(), 32);
    assert!(
        id.chars()
            .all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase())
    );
    assert_eq!(c["msp_id"], MSP_ID);
    assert_eq!(c["provision_status"], "PROVISIONED");
    assert_eq!(c["account_type"], "TENANT");
    assert!(c["created_at"].is_u64());
    let updated = c["updated_at"].as_str().expect("updated_at");
    assert_eq!(updated.len(), 26, "{updated}");
    assert_eq!(&updated[19..20], ".");
    assert_eq!(c["group"]["name"], "coffee_shop_group");
    assert!(c["group"]["id"].is_u64());
    assert_eq!(
        c["platform_customer_details"]["address"]["country_code"],
        "US"
    );
    assert_eq!(c["platform_customer_details"]["address"]["zip"], "95002");
    let one = h.get(&format!("/msp_api/v1/customers/{id}")).await;
    assert_eq!(one.status, 200);
    assert_eq!(one.body["customer_name"], "Coffee Shop");
    assert_eq!(
        h.get("/msp_api/v1/customers/ffffffffffffffffffffffffffffffff")
            .await
            .status,
        404
    );

    // Substring (default) vs exact filter, paging and total.
    h.sim.aruba_switches(|s| s.provision_invisible_polls = 0);
    for n in ["Coffee Shop East", "Bakery"] {
        let r = h
            .call(
                Method::POST,
                "/msp_api/v2/customers",
                Some(customer_body(n)),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    h.sim.advance_clock(1);
    let sub = h.get("/msp_api/v1/customers?customer_name=coffee").await;
    assert_eq!(sub.body["total"], 2);
    h.sim
        .aruba_switches(|s| s.customer_name_filter = mspform::sim::aruba::NameFilter::Exact);
    let exact = h
        .get("/msp_api/v1/customers?customer_name=Coffee%20Shop")
        .await;
    assert_eq!(exact.body["total"], 1);
    let page = h.get("/msp_api/v1/customers?offset=1&limit=1").await;
    assert_eq!(page.body["total"], 3);
    assert_eq!(page.body["customers"].as_array().expect("page").len(), 1);
    assert_eq!(
        page.body["customers"][0]["customer_name"],
        "Coffee Shop East"
    );

    // Update, and the 201 switch.
    let mut b = customer_body("Coffee Shop");
    b["description"] = json!("moved");
    let r = h
        .call(Method::PUT, &format!("/msp_api/v2/customers/{id}"), Some(b))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.get(&format!("/msp_api/v1/customers/{id}")).await.body["description"],
        "moved"
    );
    h.sim.aruba_switches(|s| s.create_status = 201);
    let r = h
        .call(
            Method::POST,
            "/msp_api/v2/customers",
            Some(customer_body("Deli")),
        )
        .await;
    assert_eq!(r.status, 201);

    // However often it is polled, a customer provisions for `provision_delay_ms`.
    h.sim.aruba_switches(|s| s.provision_delay_ms = 60_000);
    let r = h
        .call(
            Method::POST,
            "/msp_api/v2/customers",
            Some(customer_body("Slow Shop")),
        )
        .await;
    assert_eq!(r.status, 201);
    for _ in 0..3 {
        let r = h
            .get("/msp_api/v1/customers?customer_name=Slow%20Shop")
            .await;
        assert_eq!(r.body, empty, "polls alone do not make it appear");
    }
    h.sim.advance_clock(61);
    let slow = h
        .get("/msp_api/v1/customers?customer_name=Slow%20Shop")
        .await;
    assert_eq!(slow.body["total"], 1, "it appears once its time has come");
}

#[tokio::test]
async fn customer_validation_rejects_bad_bodies() {
    let h = start().await;
    let post = |b: Value| h.call(Method::POST, "/msp_api/v2/customers", Some(b));
    for field in [
        "customer_name",
        "country_name",
        "address",
        "zip_postal_code",
    ] {
        let mut b = customer_body("Acme");
        b.as_object_mut().expect("object").remove(field);
        assert_eq!(post(b).await.status, 400, "missing {field}");
    }
    let mut b = customer_body("Acme");
    b["country_name"] = json!("United States");
    assert_eq!(post(b).await.status, 400);
    let mut b = customer_body("Acme");
    b["country_name"] = json!("XX");
    assert_eq!(post(b).await.status, 400);
    let mut b = customer_body("Acme");
    b["group"] = json!({"name": "no_such_group"});
    let r = post(b).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["description"]
            .as_str()
            .expect("description")
            .contains("group")
    );
    assert_eq!(post(json!("not an object")).await.status, 400);
    assert_eq!(post(customer_body("Acme")).await.status, 200);
    assert_eq!(post(customer_body("Acme")).await.status, 400, "duplicate");
    h.sim.aruba_switches(|s| s.allow_duplicate_names = true);
    assert_eq!(post(customer_body("Acme")).await.status, 200);
}

#[tokio::test]
async fn device_moves_in_and_back_release_licences() {
    let h = start().await;
    let cid = h.customer("Coffee").await;
    let free = h.free_tokens("ADVANCED_AP").await;
    assert_eq!(free, 150);

    // A bad MAC or an unknown serial moves nothing.
    let r = h
        .call(
            Method::PUT,
            &format!("/msp_api/v1/customers/{cid}/devices"),
            Some(json!({"devices": [
                {"serial": "AP0000001", "mac": mac_of("AP0000001")},
                {"serial": "AP0000002", "mac": "00:00:00:00:00:00"}]})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = h.move_devices(&cid, &["AP0000001", "ZZ0000001"]).await;
    assert_eq!(r.status, 400);
    let list = h.get(&format!("/msp_api/v1/customers/{cid}/devices")).await;
    assert_eq!(list.body["deviceList"]["total_devices"], 0);

    let r = h
        .move_devices(&cid, &["AP0000001", "AP0000002", "SW0000001"])
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"errorcode": null, "status": "success", "status_code": 200})
    );
    let list = h
        .get(&format!(
            "/msp_api/v1/customers/{cid}/devices?limit=2&offset=0"
        ))
        .await;
    assert_eq!(list.body["status"], "success");
    assert_eq!(list.body["deviceList"]["total_devices"], 3);
    let devs = list.body["deviceList"]["devices"]
        .as_array()
        .expect("devices");
    assert_eq!(devs.len(), 2);
    assert_eq!(devs[0]["customer_id"], cid.as_str());
    assert_eq!(devs[0]["customer_name"], "Coffee");
    assert_eq!(devs[0]["device_type"], "IAP");
    let aps = h
        .get(&format!(
            "/msp_api/v1/customers/{cid}/devices?device_type=iap"
        ))
        .await;
    assert_eq!(aps.body["deviceList"]["total_devices"], 2);

    let allocated = h
        .get("/msp_api/v1/devices?device_allocation_status=1")
        .await;
    assert_eq!(allocated.body["deviceList"]["total_devices"], 3);
    let available = h
        .get("/msp_api/v1/devices?device_allocation_status=2&device_type=iap")
        .await;
    assert_eq!(available.body["deviceList"]["total_devices"], 118);
    let msp_dev = &available.body["deviceList"]["devices"][0];
    assert_eq!(
        msp_dev["customer_id"], MSP_ID,
        "the default: the MSP's own id"
    );
    assert_eq!(msp_dev["customer_name"], "Simulated MSP");

    // Licences: assign, idempotent re-assign, unknown service, MSP-owned device.
    let assign = |serials: Value, services: Value| {
        h.call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(json!({"serials": serials, "services": services})),
        )
    };
    let r = assign(json!(["AP0000001", "AP0000002"]), json!(["ADVANCED_AP"])).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"response": "success"}));
    assert_eq!(
        assign(json!(["AP0000001"]), json!(["ADVANCED_AP"]))
            .await
            .status,
        200
    );
    assert_eq!(h.services_of("AP0000001").await, vec!["ADVANCED_AP"]);
    assert_eq!(h.free_tokens("ADVANCED_AP").await, 148);
    assert_eq!(
        assign(json!(["AP0000001"]), json!(["NOPE_AP"]))
            .await
            .status,
        400
    );
    assert_eq!(
        assign(json!(["AP0000050"]), json!(["ADVANCED_AP"]))
            .await
            .status,
        400
    );
    assert_eq!(
        assign(json!(["SW0000001"]), json!(["ADVANCED_AP"]))
            .await
            .status,
        400
    );
    let r = h
        .tenant(
            Method::POST,
            "/platform/licensing/v1/subscriptions/unassign",
            Some(json!({"serials": ["AP0000002"], "services": ["ADVANCED_AP"]})),
            &cid,
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(h.services_of("AP0000002").await.is_empty());
    assert_eq!(h.free_tokens("ADVANCED_AP").await, 149);

    // Back to the MSP: licences dropped, pool restored.
    let r = h.move_devices(MSP_ID, &["AP0000001"]).await;
    assert_eq!(r.status, 200);
    assert!(h.services_of("AP0000001").await.is_empty());
    assert_eq!(h.free_tokens("ADVANCED_AP").await, 150);
    let available = h
        .get("/msp_api/v1/devices?device_allocation_status=2&device_type=iap")
        .await;
    assert_eq!(available.body["deviceList"]["total_devices"], 119);

    // Unassign-all empties the tenant.
    let r = h
        .call(Method::PUT, &format!("/msp_api/v2/{cid}/devices"), None)
        .await;
    assert_eq!(r.status, 200);
    let list = h.get(&format!("/msp_api/v1/customers/{cid}/devices")).await;
    assert_eq!(list.body["deviceList"]["total_devices"], 0);
}

/// The embedded inventory is an MSP account without customers, and the device lists
/// show a device of the MSP inventory under the MSP's own id and name, null, or "",
/// as `msp_device_customer_id` (set in the inventory file or at run time) says.
#[tokio::test]
async fn an_empty_account_lists_inventory_devices_as_the_switch_says() {
    let h = start().await;
    let list = h.get("/msp_api/v1/customers?offset=0&limit=100").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["total"], 0, "no customers: {:?}", list.body);
    assert_eq!(list.body["customers"], json!([]));
    let first = |r: &Resp| r.body["deviceList"]["devices"][0].clone();
    let msp_list = "/msp_api/v1/devices?limit=1";
    let own_list = format!("/msp_api/v1/customers/{MSP_ID}/devices?limit=1");
    for path in [msp_list, own_list.as_str()] {
        let d = first(&h.get(path).await);
        assert_eq!(d["customer_id"], MSP_ID, "{path}: {d}");
        assert_eq!(d["customer_name"], "Simulated MSP", "{path}: {d}");
    }
    use mspform::sim::aruba::MspDeviceCustomerId as Shape;
    for (shape, want) in [(Shape::Null, Value::Null), (Shape::Empty, json!(""))] {
        h.sim.aruba_switches(|s| s.msp_device_customer_id = shape);
        for path in [msp_list, own_list.as_str()] {
            let d = first(&h.get(path).await);
            assert_eq!(d["customer_id"], want, "{shape:?} {path}: {d}");
            assert_eq!(d["customer_name"], want, "{shape:?} {path}: {d}");
        }
    }
    // A device in a tenant always names the tenant.
    let cid = h.customer("Coffee").await;
    assert_eq!(h.move_devices(&cid, &["AP0000001"]).await.status, 200);
    let d = first(&h.get(&format!("/msp_api/v1/customers/{cid}/devices")).await);
    assert_eq!(d["customer_id"], cid.as_str());

    // The same switch from an inventory file.
    let h = start_with(inventory_with(
        "msp_device_customer_id = \"msp_id\"",
        "msp_device_customer_id = \"null\"",
    ))
    .await;
    assert_eq!(first(&h.get(msp_list).await)["customer_id"], Value::Null);
}

#[tokio::test]
async fn cross_tenant_moves_and_delayed_moves_follow_the_switches() {
    let h = start().await;
    let a = h.customer("Tenant A").await;
    let b = h.customer("Tenant B").await;
    assert_eq!(h.move_devices(&a, &["AP0000001"]).await.status, 200);
    h.sim
        .aruba_switches(|s| s.cross_tenant_move = mspform::sim::aruba::CrossTenantMove::Reject);
    assert_eq!(h.move_devices(&b, &["AP0000001"]).await.status, 400);
    h.sim
        .aruba_switches(|s| s.cross_tenant_move = mspform::sim::aruba::CrossTenantMove::Allow);
    assert_eq!(h.move_devices(&b, &["AP0000001"]).await.status, 200);
    let list = h.get(&format!("/msp_api/v1/customers/{b}/devices")).await;
    assert_eq!(list.body["deviceList"]["total_devices"], 1);

    h.sim.aruba_switches(|s| s.device_move_delay_ms = 5_000);
    assert_eq!(h.move_devices(&a, &["AP0000003"]).await.status, 200);
    let list = h.get(&format!("/msp_api/v1/customers/{a}/devices")).await;
    assert_eq!(list.body["deviceList"]["total_devices"], 0);
    h.sim.advance_clock(5);
    let list = h.get(&format!("/msp_api/v1/customers/{a}/devices")).await;
    assert_eq!(list.body["deviceList"]["total_devices"], 1);
}

// Item 11, 17, 18 with the realistic defaults: a move, and the auto-licence after it,
// land later; until the move lands the device is still the MSP's.
#[tokio::test]
async fn moves_and_auto_licence_land_later_and_until_then_the_device_is_the_msps() {
    let h = start().await;
    let d = mspform::sim::aruba::ArubaSwitches::default();
    assert_eq!(Inventory::embedded().aruba.switches, d);
    for (name, ms) in [
        ("provision_delay_ms", d.provision_delay_ms),
        ("device_move_delay_ms", d.device_move_delay_ms),
        ("license_job_delay_ms", d.license_job_delay_ms),
        ("autolicense_delay_ms", d.autolicense_delay_ms),
    ] {
        assert!((1..=1000).contains(&ms), "{name} = {ms}: on and short");
    }
    h.sim.aruba_switches(|s| {
        s.device_move_delay_ms = 60_000;
        s.autolicense_delay_ms = 60_000;
    });
    let a = h.customer("Later").await;
    let r = h
        .call(
            Method::POST,
            "/platform/licensing/v1/msp/customer/settings/autolicense",
            Some(json!({"services": ["FOUNDATION_AP"], "include_customers": [a]})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = h
        .tenant(
            Method::POST,
            "/central/v2/sites",
            Some(site_body("Later Site")),
            &a,
        )
        .await;
    let site = r.body["site_id"].as_u64().expect("site");
    let put = json!({"devices": [{"serial": "AP0000040", "mac": mac_of("AP0000040")}]});
    let path = format!("/msp_api/v1/customers/{a}/devices");
    let r = h.call(Method::PUT, &path, Some(put)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "success", "accepted at once");

    // Not there yet: the tenant list and the inventory still say so, and licensing or
    // associating the device is refused.
    let tenant = h.get(&path).await;
    assert_eq!(tenant.body["deviceList"]["total_devices"], 0);
    let free = h
        .get("/msp_api/v1/devices?device_allocation_status=2&limit=1000")
        .await;
    assert!(free.text.contains("AP0000040"));
    let assign = json!({"serials": ["AP0000040"], "services": ["ADVANCED_AP"]});
    let r = h
        .call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(assign.clone()),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.text.contains("MSP inventory"), "{}", r.text);
    let assoc = json!({"site_id": site, "device_type": "IAP", "device_ids": ["AP0000040"]});
    let r = h
        .tenant(
            Method::POST,
            "/central/v2/sites/associations",
            Some(assoc),
            &a,
        )
        .await;
    assert_eq!(r.body["success"], json!([]), "{}", r.text);

    // The move lands; auto-licence follows a minute after it.
    h.sim.advance_clock(61);
    let tenant = h.get(&path).await;
    assert_eq!(tenant.body["deviceList"]["total_devices"], 1);
    assert_eq!(
        tenant.body["deviceList"]["devices"][0]["services"],
        json!([])
    );
    let free = h
        .get("/msp_api/v1/devices?device_allocation_status=2&limit=1000")
        .await;
    assert!(!free.text.contains("AP0000040"));
    h.sim.advance_clock(61);
    assert_eq!(h.services_of("AP0000040").await, ["FOUNDATION_AP"]);
    let r = h
        .call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(assign),
        )
        .await;
    assert_eq!(r.status, 200);

    // A move into a customer deleted before it landed goes nowhere.
    let gone = h.customer("Gone").await;
    let put = json!({"devices": [{"serial": "AP0000041", "mac": mac_of("AP0000041")}]});
    let r = h
        .call(
            Method::PUT,
            &format!("/msp_api/v1/customers/{gone}/devices"),
            Some(put),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = h
        .call(
            Method::DELETE,
            &format!("/msp_api/v1/customers/{gone}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    h.sim.advance_clock(61);
    assert_eq!(
        h.sim.dump()["aruba"]["devices"]["AP0000041"]["customer_id"],
        Value::Null
    );
}

#[tokio::test]
async fn licence_assign_without_enough_tokens_is_409_and_atomic() {
    let h = start_with(inventory_with(
        "ADVANCED_70XX = { tokens = 30",
        "ADVANCED_70XX = { tokens = 1",
    ))
    .await;
    let cid = h.customer("Gw").await;
    assert_eq!(
        h.move_devices(&cid, &["GW0000001", "GW0000002"])
            .await
            .status,
        200
    );
    let r = h
        .call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(json!({"serials": ["GW0000001", "GW0000002"], "services": ["ADVANCED_70XX"]})),
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(h.services_of("GW0000001").await.is_empty());
    assert_eq!(h.free_tokens("ADVANCED_70XX").await, 1);
}

#[tokio::test]
async fn auto_licence_applies_to_later_moves_and_pauses_without_tokens() {
    let h = start().await;
    let a = h.customer("Auto A").await;
    let b = h.customer("Auto B").await;
    let path = "/platform/licensing/v1/msp/customer/settings/autolicense";
    let r = h
        .call(
            Method::POST,
            path,
            Some(json!({"services": ["ADVANCED_AP"], "include_customers": [a]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"response": "success"}));
    assert_eq!(h.move_devices(&a, &["AP0000010"]).await.status, 200);
    assert_eq!(h.move_devices(&b, &["AP0000011"]).await.status, 200);
    assert_eq!(h.services_of("AP0000010").await, vec!["ADVANCED_AP"]);
    assert!(h.services_of("AP0000011").await.is_empty());
    let r = h.get(&format!("{path}?customer_id={a}")).await;
    assert_eq!(
        r.body,
        json!({"customer_id": a, "services": ["ADVANCED_AP"]})
    );
    h.sim.aruba_switches(|s| {
        s.autolicense_read_shape = mspform::sim::aruba::AutolicenseReadShape::List;
    });
    let r = h.get(&format!("{path}?customer_id={a}")).await;
    assert_eq!(r.body, json!([{"service": "ADVANCED_AP"}]));

    // Disable: existing licences stay, later moves get none.
    let r = h
        .call(
            Method::DELETE,
            path,
            Some(json!({"services": ["ADVANCED_AP"], "include_customers": [a]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(h.move_devices(&a, &["AP0000012"]).await.status, 200);
    assert!(h.services_of("AP0000012").await.is_empty());
    assert_eq!(h.services_of("AP0000010").await, vec!["ADVANCED_AP"]);

    // No lists: tenants created later inherit.
    let r = h
        .call(
            Method::POST,
            path,
            Some(json!({"services": ["FOUNDATION_SWITCH_6200"]})),
        )
        .await;
    assert_eq!(r.status, 200);
    let c = h.customer("Auto C").await;
    assert_eq!(h.move_devices(&c, &["SW0000005"]).await.status, 200);
    assert_eq!(
        h.services_of("SW0000005").await,
        vec!["FOUNDATION_SWITCH_6200"]
    );
}

#[tokio::test]
async fn auto_licence_is_paused_while_tokens_are_short() {
    let h = start_with(inventory_with(
        "FOUNDATION_AP = { tokens = 150",
        "FOUNDATION_AP = { tokens = 1",
    ))
    .await;
    let a = h.customer("Short").await;
    let path = "/platform/licensing/v1/msp/customer/settings/autolicense";
    let body = json!({"services": ["FOUNDATION_AP"], "include_customers": [a]});
    assert_eq!(h.call(Method::POST, path, Some(body)).await.status, 200);
    assert_eq!(
        h.move_devices(&a, &["AP0000001", "AP0000002"]).await.status,
        200
    );
    assert!(h.services_of("AP0000001").await.is_empty());
    assert!(h.services_of("AP0000002").await.is_empty());
    assert_eq!(h.free_tokens("FOUNDATION_AP").await, 1);
}

#[tokio::test]
async fn msp_licence_job_applies_after_the_delay_within_its_scope() {
    let h = start().await;
    h.sim.aruba_switches(|s| s.license_job_delay_ms = 60_000);
    let a = h.customer("Job A").await;
    let b = h.customer("Job B").await;
    assert_eq!(h.move_devices(&a, &["AP0000001"]).await.status, 200);
    assert_eq!(h.move_devices(&b, &["AP0000002"]).await.status, 200);
    let path = "/platform/licensing/v1/msp/subscriptions/devices/all";
    let r = h
        .call(
            Method::POST,
            path,
            Some(json!({"services": ["ADVANCED_AP"], "exclude_customers": [b]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        h.services_of("AP0000001").await.is_empty(),
        "not before the delay"
    );
    h.sim.advance_clock(61);
    assert_eq!(h.services_of("AP0000001").await, vec!["ADVANCED_AP"]);
    assert!(h.services_of("AP0000002").await.is_empty(), "excluded");
    assert!(
        h.services_of("AP0000003").await.is_empty(),
        "MSP-owned never licensed"
    );

    h.sim.aruba_switches(|s| s.license_job_delay_ms = 0);
    let r = h
        .call(
            Method::POST,
            path,
            Some(json!({"services": ["FOUNDATION_AP"], "include_customers": [b]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(h.services_of("AP0000002").await, vec!["FOUNDATION_AP"]);
    assert!(
        !h.services_of("AP0000001")
            .await
            .contains(&"FOUNDATION_AP".to_string())
    );
    let r = h
        .call(
            Method::DELETE,
            path,
            Some(json!({"services": ["ADVANCED_AP"]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(h.services_of("AP0000001").await.is_empty());
    assert_eq!(
        h.call(Method::POST, path, Some(json!({"services": ["BOGUS"]})))
            .await
            .status,
        400
    );
}

fn site_body(name: &str) -> Value {
    json!({"site_name": name, "site_address": {
        "address": "3970 Rivermark Plaza", "city": "Santa Clara", "state": "California",
        "country": "United States", "zipcode": "95053"}})
}

#[tokio::test]
async fn sites_are_per_tenant_and_validated() {
    let h = start().await;
    let a = h.customer("Sites A").await;
    let b = h.customer("Sites B").await;
    let r = h
        .tenant(
            Method::POST,
            "/central/v2/sites",
            Some(site_body("Santa Clara")),
            &a,
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let id = r.body["site_id"].as_u64().expect("int site_id");
    assert_eq!(r.body["country"], "United States");
    assert!(r.body["latitude"].is_string() && r.body["longitude"].is_string());
    assert!(!r.body["latitude"].as_str().expect("lat").is_empty());

    let geo =
        json!({"site_name": "Alpha", "geolocation": {"latitude": "37.38", "longitude": "-121.97"}});
    let r = h
        .tenant(Method::POST, "/central/v2/sites", Some(geo), &a)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["address"], "");
    assert_eq!(r.body["latitude"], "37.38");

    // Validation.
    let mut both = site_body("Both");
    both["geolocation"] = json!({"latitude": "1", "longitude": "2"});
    for bad in [
        both,
        json!({"site_name": "Neither"}),
        json!({"site_name": "NoLon", "geolocation": {"latitude": "1"}}),
        json!({"site_name": "NoCity", "site_address": {"address": "x", "state": "y", "country": "z"}}),
        site_body("Santa Clara"),
    ] {
        let r = h
            .tenant(Method::POST, "/central/v2/sites", Some(bad.clone()), &a)
            .await;
        assert_eq!(r.status, 400, "{bad}");
    }

    // Visibility.
    let list = h.tenant(Method::GET, "/central/v2/sites", None, &a).await;
    assert_eq!(list.body["total"], 2);
    assert_eq!(list.body["count"], 2);
    assert_eq!(
        h.tenant(Method::GET, "/central/v2/sites", None, &b)
            .await
            .body["total"],
        0
    );
    assert_eq!(h.get("/central/v2/sites").await.body["total"], 0);
    assert_eq!(
        h.tenant(Method::GET, &format!("/central/v2/sites/{id}"), None, &b)
            .await
            .status,
        404
    );
    assert_eq!(
        h.tenant(
            Method::POST,
            "/central/v2/sites",
            Some(site_body("Santa Clara")),
            &b
        )
        .await
        .status,
        200
    );

    // Sort and limits.
    let asc = h
        .tenant(Method::GET, "/central/v2/sites?sort=%2Bsite_name", None, &a)
        .await;
    assert_eq!(asc.body["sites"][0]["site_name"], "Alpha");
    let desc = h
        .tenant(Method::GET, "/central/v2/sites?sort=-site_name", None, &a)
        .await;
    assert_eq!(desc.body["sites"][0]["site_name"], "Santa Clara");
    let page = h
        .tenant(
            Method::GET,
            "/central/v2/sites?limit=1&offset=1&calculate_total=true",
            None,
            &a,
        )
        .await;
    assert_eq!(page.body["count"], 1);
    assert_eq!(page.body["total"], 2);
    assert_eq!(
        h.tenant(Method::GET, "/central/v2/sites?limit=1001", None, &a)
            .await
            .status,
        400
    );

    // PATCH (address → geolocation) and DELETE.
    let patch = json!({"site_name": "Santa Clara HQ", "geolocation": {"latitude": "1.5", "longitude": "2.5"}});
    let r = h
        .tenant(
            Method::PATCH,
            &format!("/central/v2/sites/{id}"),
            Some(patch),
            &a,
        )
        .await;
    assert_eq!(r.status, 200);
    let one = h
        .tenant(Method::GET, &format!("/central/v2/sites/{id}"), None, &a)
        .await;
    assert_eq!(one.body["site_name"], "Santa Clara HQ");
    assert_eq!(one.body["city"], "");
    assert_eq!(
        h.tenant(Method::DELETE, &format!("/central/v2/sites/{id}"), None, &a)
            .await
            .status,
        200
    );
    assert_eq!(
        h.tenant(Method::DELETE, &format!("/central/v2/sites/{id}"), None, &a)
            .await
            .status,
        404
    );
    assert_eq!(
        h.tenant(
            Method::PATCH,
            "/central/v2/sites/999",
            Some(site_body("x")),
            &a
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn associations_keep_a_device_in_one_site() {
    let h = start().await;
    let a = h.customer("Assoc A").await;
    let b = h.customer("Assoc B").await;
    assert_eq!(
        h.move_devices(&a, &["AP0000001", "AP0000002", "SW0000001"])
            .await
            .status,
        200
    );
    assert_eq!(h.move_devices(&b, &["AP0000003"]).await.status, 200);
    let s1 = h
        .tenant(
            Method::POST,
            "/central/v2/sites",
            Some(site_body("One")),
            &a,
        )
        .await
        .body["site_id"]
        .clone();
    let s2 = h
        .tenant(
            Method::POST,
            "/central/v2/sites",
            Some(site_body("Two")),
            &a,
        )
        .await
        .body["site_id"]
        .clone();
    let assoc = |site: &Value, ty: &str, ids: Vec<&str>| {
        h.tenant(
            Method::POST,
            "/central/v2/sites/associations",
            Some(json!({"site_id": site, "device_type": ty, "device_ids": ids})),
            &a,
        )
    };
    let r = assoc(
        &s1,
        "IAP",
        vec!["AP0000001", "AP0000002", "AP0000003", "SW0000001", "NOPE"],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["success"],
        json!([{"device_id": "AP0000001"}, {"device_id": "AP0000002"}])
    );
    let failed: Vec<&str> = r.body["failed"]
        .as_array()
        .expect("failed")
        .iter()
        .map(|f| f["device_id"].as_str().expect("id"))
        .collect();
    assert_eq!(failed, vec!["AP0000003", "SW0000001", "NOPE"]);
    assert!(r.body["failed"][0]["reason"].is_string());

    // Already in this site → success; in another site → failed (switch: moved).
    assert_eq!(
        assoc(&s1, "IAP", vec!["AP0000001"]).await.body["success"][0]["device_id"],
        "AP0000001"
    );
    let r = assoc(&s2, "IAP", vec!["AP0000001"]).await;
    assert_eq!(r.body["failed"][0]["device_id"], "AP0000001");
    let counts = |r: &Resp| -> Vec<u64> {
        r.body["sites"]
            .as_array()
            .expect("sites")
            .iter()
            .map(|s| s["associated_device_count"].as_u64().expect("n"))
            .collect()
    };
    assert_eq!(
        counts(&h.tenant(Method::GET, "/central/v2/sites", None, &a).await),
        vec![2, 0]
    );
    h.sim.aruba_switches(|s| {
        s.association_conflict = mspform::sim::aruba::AssociationConflict::Move
    });
    let r = assoc(&s2, "IAP", vec!["AP0000001"]).await;
    assert_eq!(r.body["success"][0]["device_id"], "AP0000001");
    assert_eq!(
        counts(&h.tenant(Method::GET, "/central/v2/sites", None, &a).await),
        vec![1, 1]
    );

    // Bad device_type, oversize batches, unknown site.
    assert_eq!(
        assoc(&s1, "ArubaSwitch", vec!["SW0000001"]).await.status,
        400
    );
    let many: Vec<String> = (0..5001).map(|i| format!("X{i}")).collect();
    let r = h
        .tenant(
            Method::POST,
            "/central/v2/sites/associations",
            Some(json!({"site_id": s1, "device_type": "IAP", "device_ids": many})),
            &a,
        )
        .await;
    assert_eq!(r.status, 413);
    let r = h
        .tenant(
            Method::POST,
            "/central/v2/sites/associations",
            Some(json!({"site_id": s1, "device_type": "IAP", "device_ids": many[..5000]})),
            &a,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["failed"].as_array().expect("failed").len(), 5000);
    assert_eq!(
        assoc(&json!(999), "IAP", vec!["AP0000002"]).await.status,
        404
    );

    // DELETE with a JSON body.
    let r = h
        .tenant(
            Method::DELETE,
            "/central/v2/sites/associations",
            Some(json!({"site_id": s1, "device_type": "IAP", "device_ids": ["AP0000002", "AP0000001", "NOPE"]})),
            &a,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["success"], json!([{"device_id": "AP0000002"}]));
    assert_eq!(r.body["failed"].as_array().expect("failed").len(), 2);
    assert_eq!(
        counts(&h.tenant(Method::GET, "/central/v2/sites", None, &a).await),
        vec![0, 1]
    );

    // Leaving the tenant drops the association.
    assert_eq!(h.move_devices(MSP_ID, &["AP0000001"]).await.status, 200);
    assert_eq!(
        counts(&h.tenant(Method::GET, "/central/v2/sites", None, &a).await),
        vec![0, 0]
    );
}

#[tokio::test]
async fn deleting_a_customer_returns_its_devices_unlicensed() {
    let h = start().await;
    let cid = h.customer("Doomed").await;
    assert_eq!(
        h.move_devices(&cid, &["AP0000001", "AP0000002"])
            .await
            .status,
        200
    );
    let r = h
        .call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(json!({"serials": ["AP0000001"], "services": ["ADVANCED_AP"]})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.tenant(
            Method::POST,
            "/central/v2/sites",
            Some(site_body("S")),
            &cid
        )
        .await
        .status,
        200
    );
    let r = h
        .call(
            Method::DELETE,
            &format!("/msp_api/v1/customers/{cid}"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        h.get(&format!("/msp_api/v1/customers/{cid}")).await.status,
        404
    );
    assert_eq!(h.get("/msp_api/v1/customers").await.body["total"], 0);
    assert!(h.services_of("AP0000001").await.is_empty());
    assert_eq!(h.free_tokens("ADVANCED_AP").await, 150);
    let available = h
        .get("/msp_api/v1/devices?device_allocation_status=2")
        .await;
    assert_eq!(available.body["deviceList"]["total_devices"], 210);
    assert_eq!(
        h.tenant(Method::GET, "/central/v2/sites", None, &cid)
            .await
            .status,
        403
    );
    assert_eq!(
        h.call(
            Method::DELETE,
            &format!("/msp_api/v1/customers/{cid}"),
            None
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn faults_status_latency_rate_limit_and_drop_after_commit() {
    let h = start().await;
    let cid = h.customer("Faulty").await;
    h.sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: DEVICES_PUT.into(),
        kind: FaultKind::Status { status: 500 },
        count: Some(2),
        rate: None,
    });
    assert_eq!(h.move_devices(&cid, &["AP0000001"]).await.status, 500);
    assert_eq!(h.move_devices(&cid, &["AP0000001"]).await.status, 500);
    let list = h.get(&format!("/msp_api/v1/customers/{cid}/devices")).await;
    assert_eq!(
        list.body["deviceList"]["total_devices"], 0,
        "a 500 fault commits nothing"
    );
    assert_eq!(h.move_devices(&cid, &["AP0000001"]).await.status, 200);
    assert_eq!(h.sim.calls("aruba", DEVICES_PUT), 3);
    assert_eq!(h.sim.faults_fired("aruba", DEVICES_PUT), 2, "count: 2");
    assert_eq!(h.sim.faults_fired("aruba", "* *"), 2);
    assert_eq!(h.sim.faults_fired("extreme", "* *"), 0);
    let fired = &h.sim.dump()["faults_fired"];
    assert_eq!(
        fired[0],
        json!({"vendor": "aruba", "call": DEVICES_PUT, "kind": {"type": "status", "status": 500}})
    );

    // A vendor that quotes the rejected request back: nothing is committed.
    h.sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "POST /msp_api/v2/customers".into(),
        kind: FaultKind::Echo { status: 400 },
        count: Some(1),
        rate: None,
    });
    let sent = customer_body("Echoed");
    let r = h
        .call(Method::POST, "/msp_api/v2/customers", Some(sent.clone()))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body, sent, "the request body, verbatim");
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        h.get("/msp_api/v1/customers?customer_name=Echoed")
            .await
            .body["total"],
        0
    );

    // Over HTTP: latency on every GET of one route.
    let r = h
        .http
        .post(format!("{}/_sim/faults", h.sim.url()))
        .json(&json!({"vendor": "aruba", "route": "GET /msp_api/v1/customers/*", "kind": {"type": "latency", "ms": 200}, "count": 1}))
        .send()
        .await
        .expect("control");
    assert_eq!(r.status(), 200);
    let t = Instant::now();
    assert_eq!(
        h.get(&format!("/msp_api/v1/customers/{cid}")).await.status,
        200
    );
    assert!(t.elapsed() >= Duration::from_millis(200));

    h.sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "* *".into(),
        kind: FaultKind::RateLimitSecond,
        count: Some(1),
        rate: None,
    });
    let r = h.get("/msp_api/v1/devices").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-remaining-second"), "0");

    // The create commits, but the client sees a broken connection.
    h.sim.aruba_switches(|s| s.provision_invisible_polls = 0);
    h.sim.inject_fault(FaultSpec {
        vendor: "aruba".into(),
        route: "POST /msp_api/v2/customers".into(),
        kind: FaultKind::DropAfterCommit,
        count: Some(1),
        rate: None,
    });
    let err = h
        .http
        .post(format!("{}/msp_api/v2/customers", h.base))
        .bearer_auth("sim-token")
        .json(&customer_body("Dropped"))
        .send()
        .await;
    assert!(err.is_err(), "client must see an error, got {err:?}");
    h.sim.advance_clock(1);
    let r = h.get("/msp_api/v1/customers?customer_name=Dropped").await;
    assert_eq!(r.body["total"], 1, "the write committed (and provisioned)");
    // The simulator still serves afterwards, and DELETE /_sim/faults clears.
    h.sim.inject_fault(FaultSpec {
        vendor: "*".into(),
        route: "*".into(),
        kind: FaultKind::Status { status: 503 },
        count: None,
        rate: Some(1.0),
    });
    assert_eq!(h.get("/msp_api/v1/customers").await.status, 503);
    let r = h
        .http
        .delete(format!("{}/_sim/faults", h.sim.url()))
        .send()
        .await
        .expect("control");
    assert_eq!(r.status(), 200);
    assert_eq!(h.get("/msp_api/v1/customers").await.status, 200);
}

#[tokio::test]
async fn portal_edits_change_live_state() {
    let h = start().await;
    let cid = h.customer("Edited").await;
    assert_eq!(
        h.move_devices(&cid, &["AP0000001", "AP0000002"])
            .await
            .status,
        200
    );
    for name in ["One", "Two"] {
        assert_eq!(
            h.tenant(
                Method::POST,
                "/central/v2/sites",
                Some(site_body(name)),
                &cid
            )
            .await
            .status,
            200
        );
    }
    let sites = h.tenant(Method::GET, "/central/v2/sites", None, &cid).await;
    let s1 = sites.body["sites"][0]["site_id"].clone();
    let r = h
        .tenant(
            Method::POST,
            "/central/v2/sites/associations",
            Some(json!({"site_id": s1, "device_type": "IAP", "device_ids": ["AP0000001"]})),
            &cid,
        )
        .await;
    assert_eq!(r.body["success"].as_array().expect("success").len(), 1);
    let r = h
        .call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(json!({"serials": ["AP0000002"], "services": ["ADVANCED_AP"]})),
        )
        .await;
    assert_eq!(r.status, 200);

    let r = h
        .http
        .post(format!("{}/_sim/aruba/edit", h.sim.url()))
        .json(&json!({"op": "customer_field", "customer_name": "Edited", "field": "city", "value": "Austin"}))
        .send()
        .await
        .expect("control");
    assert_eq!(r.status(), 200);
    let c = h.get(&format!("/msp_api/v1/customers/{cid}")).await;
    assert_eq!(
        c.body["platform_customer_details"]["address"]["city"],
        "Austin"
    );
    h.sim
        .aruba_edit(ArubaEdit::CustomerField {
            customer_name: "Edited".into(),
            field: "group".into(),
            value: json!("retail_group"),
        })
        .expect("edit");
    assert_eq!(
        h.get(&format!("/msp_api/v1/customers/{cid}")).await.body["group"]["name"],
        "retail_group"
    );
    assert!(
        h.sim
            .aruba_edit(ArubaEdit::CustomerField {
                customer_name: "Nobody".into(),
                field: "city".into(),
                value: json!("x"),
            })
            .is_err()
    );

    h.sim
        .aruba_edit(ArubaEdit::MoveDeviceSite {
            serial: "AP0000001".into(),
            site_name: "Two".into(),
        })
        .expect("move site");
    let counts: Vec<u64> = h
        .tenant(
            Method::GET,
            "/central/v2/sites?sort=%2Bsite_name",
            None,
            &cid,
        )
        .await
        .body["sites"]
        .as_array()
        .expect("sites")
        .iter()
        .map(|s| s["associated_device_count"].as_u64().expect("n"))
        .collect();
    assert_eq!(counts, vec![0, 1]);
    h.sim
        .aruba_edit(ArubaEdit::UnlicenseDevice {
            serial: "AP0000002".into(),
            service: "ADVANCED_AP".into(),
        })
        .expect("unlicense");
    assert!(h.services_of("AP0000002").await.is_empty());
    h.sim
        .aruba_edit(ArubaEdit::DeleteSite {
            customer_name: "Edited".into(),
            site_name: "Two".into(),
        })
        .expect("delete site");
    assert_eq!(
        h.tenant(Method::GET, "/central/v2/sites", None, &cid)
            .await
            .body["total"],
        1
    );
    h.sim
        .aruba_edit(ArubaEdit::MoveDeviceToMsp {
            serial: "AP0000002".into(),
        })
        .expect("to msp");
    let list = h.get(&format!("/msp_api/v1/customers/{cid}/devices")).await;
    assert_eq!(list.body["deviceList"]["total_devices"], 1);
}

#[tokio::test]
async fn call_counts_switches_and_reset_over_http() {
    let h = start().await;
    let cid = h.customer("Counted").await;
    assert_eq!(h.move_devices(&cid, &["AP0000001"]).await.status, 200);
    assert_eq!(h.sim.calls("aruba", "GET /msp_api/v1/customers"), 2);
    assert_eq!(h.sim.calls("aruba", "POST /msp_api/v2/customers"), 1);
    assert_eq!(h.sim.write_calls("aruba"), 2);
    assert_eq!(h.sim.total_calls("aruba"), 4);
    let calls: Value = h
        .http
        .get(format!("{}/_sim/calls", h.sim.url()))
        .send()
        .await
        .expect("control")
        .json()
        .await
        .expect("json");
    assert_eq!(calls["aruba"][DEVICES_PUT], 1);
    assert_eq!(calls["aruba_writes"], 2);

    let r = h
        .http
        .post(format!("{}/_sim/aruba/switches", h.sim.url()))
        .json(&json!({"allow_duplicate_names": true}))
        .send()
        .await
        .expect("control");
    assert_eq!(r.status(), 200);
    assert_eq!(
        h.call(
            Method::POST,
            "/msp_api/v2/customers",
            Some(customer_body("Counted"))
        )
        .await
        .status,
        200
    );
    let r = h
        .http
        .post(format!("{}/_sim/aruba/switches", h.sim.url()))
        .json(&json!({"no_such_switch": 1}))
        .send()
        .await
        .expect("control");
    assert_eq!(r.status(), 400);

    let state: Value = h
        .http
        .get(format!("{}/_sim/state", h.sim.url()))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    assert_eq!(
        state["aruba"]["customers"]
            .as_array()
            .expect("customers")
            .len(),
        2
    );

    let r = h
        .http
        .post(format!("{}/_sim/reset", h.sim.url()))
        .send()
        .await
        .expect("reset");
    assert_eq!(r.status(), 200);
    assert_eq!(h.sim.total_calls("aruba"), 0);
    h.sim.aruba_switches(|s| s.limit_per_second = 0);
    assert_eq!(h.get("/msp_api/v1/customers").await.body["total"], 0);
    let r = h.get("/msp_api/v1/no/such/route").await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_object());
    let r = h.call(Method::PATCH, "/msp_api/v1/customers", None).await;
    assert_eq!(r.status, 405);
    assert!(r.body["description"].is_string());
    let r = h
        .http
        .post(format!("{}/_sim/clock", h.sim.url()))
        .json(&json!({"advance_secs": 10}))
        .send()
        .await
        .expect("clock");
    assert_eq!(r.status(), 200);
    assert_eq!(h.sim.dump()["clock_offset_secs"], 10);
    let r = h
        .http
        .post(format!("{}/_sim/clock", h.sim.url()))
        .json(&json!({"advance": 10}))
        .send()
        .await
        .expect("clock");
    assert_eq!(r.status(), 400, "a misspelt field is refused");
}

/// A frozen simulated clock moves only when advanced; unfrozen, it runs again.
#[tokio::test]
async fn a_frozen_clock_moves_only_when_advanced() {
    let h = start().await;
    let clock = |body: Value| {
        let http = h.http.clone();
        let url = format!("{}/_sim/clock", h.sim.url());
        async move { Resp::read(http.post(url).json(&body).send().await.expect("clock")).await }
    };
    let frozen = clock(json!({"freeze": true})).await;
    assert_eq!(frozen.status, 200);
    assert_eq!(frozen.body["frozen"], true);
    let at = frozen.body["now_ms"].as_u64().expect("now_ms");
    // Wait (bounded) until the wall clock has moved on by a millisecond at least.
    let wall = Instant::now();
    while wall.elapsed() < Duration::from_millis(2) {
        tokio::task::yield_now().await;
    }
    assert_eq!(h.sim.dump()["now_ms"], at, "it stands still");
    h.sim.advance_clock(5);
    assert_eq!(h.sim.dump()["now_ms"], at + 5000);
    let running = clock(json!({"freeze": false})).await;
    assert_eq!(running.body["frozen"], false);
    assert!(running.body["now_ms"].as_u64().expect("now_ms") >= at + 5000);
}

#[tokio::test]
async fn data_dir_persists_the_cloud_across_simulators() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = || SimOptions {
        aruba_listen: Some(local()),
        data_dir: Some(dir.path().to_path_buf()),
        ..SimOptions::new(local(), Inventory::embedded())
    };
    let first = Simulator::start(opts()).await.expect("start");
    first.aruba_switches(|s| s.limit_per_second = 0);
    let h = H {
        base: first.base_url("aruba"),
        sim: first,
        http: reqwest::Client::new(),
    };
    let cid = h.customer("Persisted").await;
    assert_eq!(h.move_devices(&cid, &["SW0000002"]).await.status, 200);
    assert_eq!(
        h.tenant(
            Method::POST,
            "/central/v2/sites",
            Some(site_body("Kept")),
            &cid
        )
        .await
        .status,
        200
    );
    h.sim.shutdown().await;
    assert!(dir.path().join("sim-state.json").exists());

    let second = Simulator::start(opts()).await.expect("restart");
    // Aruba also answers at the root of its own listener.
    let root = format!("http://{}", second.aruba_addr().expect("aruba listener"));
    let h2 = H {
        base: root,
        sim: second,
        http: reqwest::Client::new(),
    };
    let list = h2
        .get(&format!("/msp_api/v1/customers/{cid}/devices"))
        .await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["deviceList"]["devices"][0]["serial"], "SW0000002");
    assert_eq!(
        h2.tenant(Method::GET, "/central/v2/sites", None, &cid)
            .await
            .body["sites"][0]["site_name"],
        "Kept"
    );
    assert_eq!(
        h2.sim.calls("aruba", "GET /msp_api/v1/customers/*/devices"),
        1
    );
    h2.sim.shutdown().await;
}

impl H {
    /// A write with a raw body and an explicit content type (None: no header).
    async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: &str,
    ) -> Resp {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth("sim-token")
            .body(body.to_string());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        Resp::read(req.send().await.expect("request completes")).await
    }
}

/// A field the fact sheet does not list is refused with a 400 naming it, and nothing
/// changes; a JSON body needs `Content-Type: application/json` (415); a call without a
/// body needs none.
#[tokio::test]
async fn unknown_fields_and_other_content_types_are_refused() {
    let h = start().await;
    let cid = h.customer("Strict Co").await;

    let mut b = customer_body("Typo Co");
    b["customer_nmae"] = json!("Typo Co");
    b["address"]["zip"] = json!("95002");
    let r = h.call(Method::POST, "/msp_api/v2/customers", Some(b)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    let text = r.body["description"].as_str().expect("service error body");
    assert!(
        text.contains("`address.zip`") && text.contains("`customer_nmae`"),
        "{text}"
    );
    let r = h.get("/msp_api/v1/customers?customer_name=Typo").await;
    assert_eq!(r.body["total"], 0, "nothing created");

    // Nested: a device entry with a third member; nothing moves.
    let body =
        json!({"devices": [{"serial": "AP0000001", "mac": mac_of("AP0000001"), "macaddr": "x"}]});
    let r = h
        .call(
            Method::PUT,
            &format!("/msp_api/v1/customers/{cid}/devices"),
            Some(body),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("`devices[0].macaddr`"), "{}", r.text);
    let list = h.get(&format!("/msp_api/v1/customers/{cid}/devices")).await;
    assert_eq!(list.body["deviceList"]["total_devices"], 0);

    // Every documented body is checked: sites, associations, licences, auto-licence.
    for (method, path, body, field) in [
        (
            Method::POST,
            "/central/v2/sites",
            json!({"site_name": "S", "site_address": {"address": "a", "city": "c", "state": "s", "country": "US", "zip": "1"}}),
            "site_address.zip",
        ),
        (
            Method::POST,
            "/central/v2/sites",
            json!({"site_name": "S", "geolocation": {"lat": "1", "longitude": "2"}}),
            "geolocation.lat",
        ),
        (
            Method::POST,
            "/central/v2/sites/associations",
            json!({"site_id": 1, "device_type": "IAP", "device_ids": ["AP0000001"], "serials": []}),
            "serials",
        ),
        (
            Method::DELETE,
            "/central/v2/sites/associations",
            json!({"site_id": 1, "deviceType": "IAP", "device_ids": ["AP0000001"]}),
            "deviceType",
        ),
        (
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            json!({"serials": ["AP0000001"], "service": ["ADVANCED_AP"]}),
            "service",
        ),
        (
            Method::POST,
            "/platform/licensing/v1/msp/customer/settings/autolicense",
            json!({"services": ["ADVANCED_AP"], "include_customer": [cid]}),
            "include_customer",
        ),
    ] {
        let r = h.tenant(method, path, Some(body), &cid).await;
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert!(r.text.contains(&format!("`{field}`")), "{path}: {}", r.text);
    }
    let sites = h.tenant(Method::GET, "/central/v2/sites", None, &cid).await;
    assert_eq!(sites.body["total"], 0, "no site was created");

    // Content type: JSON with parameters is fine, anything else (or none) is 415.
    let text = customer_body("Typed Co").to_string();
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let r = h
            .raw(Method::POST, "/msp_api/v2/customers", ct, &text)
            .await;
        assert_eq!(r.status, 415, "{ct:?}: {}", r.text);
        assert!(r.body["description"].is_string(), "{}", r.text);
    }
    let r = h
        .raw(
            Method::POST,
            "/msp_api/v2/customers",
            Some("application/json; charset=utf-8"),
            &text,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A call without a body needs no content type (unassign-all, delete).
    let r = h
        .raw(Method::PUT, &format!("/msp_api/v2/{cid}/devices"), None, "")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = h
        .raw(
            Method::DELETE,
            &format!("/msp_api/v1/customers/{cid}"),
            None,
            "",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// The error bodies and statuses the fact sheet only assumes are switches (item 56).
#[tokio::test]
async fn assumed_error_bodies_and_statuses_are_switches() {
    use mspform::sim::aruba::{ErrorBody, RateLimitBody, UnauthorizedBody};
    let h = start_with(inventory_with(
        "ADVANCED_70XX = { tokens = 30",
        "ADVANCED_70XX = { tokens = 1",
    ))
    .await;
    // Moves land at once here: the licence refusal below is about tokens only.
    h.sim.aruba_switches(|s| s.device_move_delay_ms = 0);
    let cid = h.customer("Errors Co").await;

    // 401: always the text `invalid_token`, in three shapes.
    for (shape, json) in [
        (UnauthorizedBody::Oauth, true),
        (UnauthorizedBody::ErrorOnly, true),
        (UnauthorizedBody::Text, false),
    ] {
        h.sim.aruba_switches(|s| s.unauthorized_body = shape);
        let r = h
            .call_as(
                Method::GET,
                "/msp_api/v1/customers",
                None,
                None,
                Some("bad"),
            )
            .await;
        assert_eq!(r.status, 401);
        assert!(r.text.contains("invalid_token"), "{shape:?}: {}", r.text);
        assert_eq!(r.body["error"] == "invalid_token", json, "{shape:?}");
    }

    // 429: the headers say which window; the body is a switch (injected ones too).
    for shape in [
        RateLimitBody::Kong,
        RateLimitBody::Empty,
        RateLimitBody::Text,
    ] {
        h.sim.aruba_switches(|s| s.rate_limit_body = shape);
        h.sim.inject_fault(FaultSpec {
            vendor: "aruba".into(),
            route: "GET /msp_api/v1/customers".into(),
            kind: FaultKind::RateLimitSecond,
            count: Some(1),
            rate: None,
        });
        let r = h.get("/msp_api/v1/customers").await;
        assert_eq!(r.status, 429);
        assert_eq!(r.header("x-ratelimit-remaining-second"), "0");
        let want = match shape {
            RateLimitBody::Kong => r.body["message"] == "API rate limit exceeded",
            RateLimitBody::Empty => r.text.is_empty(),
            RateLimitBody::Text => r.text == "API rate limit exceeded",
        };
        assert!(want, "{shape:?}: {:?}", r.text);
    }

    // Unknown serial, no free licence, unknown site: statuses are switches.
    let devices_path = format!("/msp_api/v1/customers/{cid}/devices");
    let unknown_serial = || {
        let body = json!({"devices": [{"serial": "ZZ0000001", "mac": "00:00:00:00:00:01"}]});
        h.call(Method::PUT, &devices_path, Some(body))
    };
    assert_eq!(unknown_serial().await.status, 400);
    let r = h
        .call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(json!({"serials": ["ZZ0000001"], "services": ["ADVANCED_AP"]})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    let site = || h.tenant(Method::GET, "/central/v2/sites/999", None, &cid);
    assert_eq!(site().await.status, 404);
    h.sim.aruba_switches(|s| {
        s.unknown_serial_status = 404;
        s.unknown_site_status = 400;
        s.error_body = ErrorBody::Message;
    });
    let r = unknown_serial().await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("ZZ0000001")),
        "{}",
        r.text
    );
    let r = site().await;
    assert_eq!(r.status, 400, "{}", r.text);
    h.sim.aruba_switches(|s| s.error_body = ErrorBody::InBand);
    let r = site().await;
    assert_eq!(r.body["status"], "failure", "{}", r.text);
    assert_eq!(r.body["status_code"], 400);
    assert!(
        r.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("999"))
    );

    // No free licence: 409 by default, the switch otherwise; nothing assigned.
    h.move_devices(&cid, &["GW0000001", "GW0000002", "GW0000003"])
        .await;
    let assign = || {
        h.call(
            Method::POST,
            "/platform/licensing/v1/subscriptions/assign",
            Some(json!({"serials": ["GW0000001", "GW0000002", "GW0000003"], "services": ["ADVANCED_70XX"]})),
        )
    };
    let free = h.free_tokens("ADVANCED_70XX").await;
    assert_eq!(free, 1);
    h.sim.aruba_switches(|s| s.error_body = ErrorBody::Service);
    assert_eq!(assign().await.status, 409);
    h.sim.aruba_switches(|s| s.no_free_license_status = 400);
    let r = assign().await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["description"].is_string(), "{}", r.text);
    assert_eq!(h.free_tokens("ADVANCED_70XX").await, free);
}
