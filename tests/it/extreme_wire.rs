//! The ExtremeCloud client against a hand-written fake of the vendor (not the
//! simulator): the exact headers and bodies it sends, and answers in shapes the
//! simulator does not produce (wrapped lists, ids as numbers or in `id`, tenants
//! as objects, a wrapped name→id map, unknown fields everywhere).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use mspform::engine;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Value,
}

#[derive(Default)]
struct Fake {
    seen: Vec<Seen>,
    /// Tenants created so far (name → id), after the initial one.
    created: Vec<(String, String)>,
    partner_tenants: Vec<Value>,
}

type Shared = Arc<Mutex<Fake>>;

fn tenant_doc(id: Value, name: &str) -> Value {
    json!({"custId": null, "id": id, "accountName": name, "country": "us", "timeZone": "America/New_York",
        "mspContact": {"contactEmail": format!("noc@{}.example", name.to_lowercase().replace(' ', "-")),
                       "contactName": format!("{name} NOC"), "contactPhoneNumber": null, "extra": 1},
        "userId": null, "createdAt": 1_700_000_000, "nested": {"anything": [1, 2]}})
}

async fn handle(
    State(sh): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut fake = sh.lock().unwrap();
    fake.seen.push(Seen {
        method: method.clone(),
        path: path.clone(),
        headers,
        body: body.clone(),
    });
    let json = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    match (method.as_str(), path.as_str()) {
        ("POST", "/api/login") => json(
            json!({"accessToken": "fake-access", "expiresIn": "7200", "idleTimeout": 3600, "tokenType": "Bearer"}),
        ),
        ("GET", "/msp/v1/msptenants") => {
            let mut list = vec![tenant_doc(json!(41), "Beta Ltd")];
            for (name, id) in &fake.created {
                list.push(tenant_doc(json!(id), name));
            }
            json(json!({"content": list, "totalElements": list.len()}))
        }
        ("GET", "/msp/v1/msptenants/nametoidmap") => {
            let mut map = serde_json::Map::new();
            map.insert("Beta Ltd".into(), json!(41));
            for (name, id) in &fake.created {
                map.insert(name.clone(), json!(id));
            }
            json(json!({"nameToIdMap": map}))
        }
        ("POST", "/msp/v1/msptenants") => {
            let name = body["accountName"].as_str().unwrap_or_default().to_string();
            fake.created.push((name, "T-NEW".into()));
            StatusCode::CREATED.into_response()
        }
        ("GET", "/msp/v1/msppartners") => json(json!([{
            "custId": "P-1", "id": null, "accountName": "Partner One", "country": "US",
            "timeZone": "America/Chicago", "userId": null, "vendorOnly": {"keep": true},
            "tenants": fake.partner_tenants, "entitlements": [{"entitlementId": "E1", "serialNumber": "S1"}]
        }])),
        ("PUT", "/msp/v1/msppartners/P-1") => {
            fake.partner_tenants = body["tenants"].as_array().cloned().unwrap_or_default();
            json(body)
        }
        _ => (StatusCode::NOT_FOUND, "no such route").into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_bodies_and_unusual_answer_shapes() {
    let shared: Shared = Arc::new(Mutex::new(Fake {
        // Tenants as objects, ids as numbers.
        partner_tenants: vec![json!({"custId": 41})],
        ..Fake::default()
    }));
    let app = Router::new().fallback(handle).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pw"), "s3cret").unwrap();
    let text = format!(
        r#"[providers.ext]
type = "extremecloud"
base_url = "http://{addr}"
token_path = "/api/login"
msp_prefix = "/msp/v1"
login = {{ user = "msp-admin@example.net", password = {{ file = "pw" }}, scope = "msp" }}

[customers.beta]
provider = "ext"
name = "Beta Ltd"
country = "US"
time_zone = "America/New_York"
contact = {{ email = "noc@beta-ltd.example", name = "Beta Ltd NOC" }}
admin_user = "admin@beta.example"

[customers.acme]
provider = "ext"
name = "Acme Corp"
country = "US"
time_zone = "America/New_York"
contact = {{ email = "noc@acme-corp.example", name = "Acme Corp NOC" }}
admin_user = "admin@acme.example"

[partners.one]
provider = "ext"
name = "Partner One"
customers = ["acme", "beta"]
"#
    );
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).unwrap();
    let desired = mspform::config::load(&path).expect("config loads");
    let store: Arc<dyn mspform::state::StateStore> = Arc::new(mspform::state::MemStore::default());
    let prepared = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .expect("plan");
    let ops: Vec<(String, mspform::diff::Op)> = prepared
        .plan
        .actions
        .iter()
        .map(|a| (a.address.to_string(), a.op))
        .collect();
    use mspform::diff::Op;
    assert_eq!(
        ops,
        [
            ("customer.acme".to_string(), Op::Create),
            ("customer.beta".to_string(), Op::Adopt),
            ("partner.one".to_string(), Op::Adopt)
        ]
    );
    let report = engine::apply(&prepared, &desired, store.clone(), &engine::Stop::new()).await;
    assert!(report.ok(), "{:#?}", report.actions);
    assert_eq!(
        store
            .get_owned("customer.acme")
            .unwrap()
            .unwrap()
            .vendor_id
            .as_deref(),
        Some("T-NEW")
    );
    assert_eq!(
        store
            .get_owned("customer.beta")
            .unwrap()
            .unwrap()
            .vendor_id
            .as_deref(),
        Some("41")
    );

    let seen = shared.lock().unwrap().seen.clone();
    let login = &seen[0];
    assert_eq!(
        (login.method.as_str(), login.path.as_str()),
        ("POST", "/api/login")
    );
    assert_eq!(
        login.body,
        json!({"grantType": "password", "userId": "msp-admin@example.net", "password": "s3cret", "scope": "msp"})
    );
    assert!(login.headers.get("authorization").is_none());
    assert_eq!(seen.iter().filter(|s| s.path == "/api/login").count(), 1);
    for s in seen
        .iter()
        .filter(|s| s.method == Method::POST || s.method == Method::PUT)
    {
        let all = |name: &str| -> Vec<&str> {
            s.headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap())
                .collect()
        };
        assert_eq!(
            all("content-type"),
            ["application/json;charset=UTF-8"],
            "{}",
            s.path
        );
        assert_eq!(
            all("accept"),
            ["application/json, text/plain, */*"],
            "{}",
            s.path
        );
    }
    for s in seen.iter().filter(|s| s.path != "/api/login") {
        assert_eq!(
            s.headers.get("authorization").unwrap(),
            "Bearer fake-access"
        );
    }
    let create = seen
        .iter()
        .find(|s| s.method == Method::POST && s.path == "/msp/v1/msptenants")
        .unwrap();
    assert_eq!(
        create.body,
        json!({"accountName": "Acme Corp", "country": "US", "timeZone": "America/New_York",
               "mspContact": {"contactEmail": "noc@acme-corp.example", "contactName": "Acme Corp NOC", "contactPhoneNumber": ""},
               "userId": "admin@acme.example"})
    );
    let put = seen.iter().find(|s| s.method == Method::PUT).unwrap();
    assert_eq!(put.path, "/msp/v1/msppartners/P-1");
    // The whole document as read, with the tenant list replaced (strings).
    assert_eq!(put.body["vendorOnly"], json!({"keep": true}));
    assert_eq!(
        put.body["entitlements"],
        json!([{"entitlementId": "E1", "serialNumber": "S1"}])
    );
    assert_eq!(put.body["userId"], Value::Null);
    assert_eq!(put.body["tenants"], json!(["41", "T-NEW"]));
    let calls: Vec<String> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        calls,
        [
            "POST /api/login",
            "GET /msp/v1/msptenants",
            "GET /msp/v1/msppartners",
            "POST /msp/v1/msptenants",
            "GET /msp/v1/msptenants/nametoidmap",
            "GET /msp/v1/msppartners",
            "PUT /msp/v1/msppartners/P-1",
        ]
    );

    // Read back through the same shapes: nothing left to do.
    let again = engine::plan(&desired, store.clone(), &Default::default())
        .await
        .expect("plan");
    assert!(!again.plan.has_changes(), "{:?}", again.plan.actions);
}
