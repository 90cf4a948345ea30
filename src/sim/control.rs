//! The simulator's control plane: per-route call counting, fault injection (status,
//! latency, rate limits, connection dropped after commit) and the unauthenticated
//! `/_sim/` endpoints. Vendor-neutral: vendors call `count_layer` and
//! `fault_layer` with their name, read [`FaultMarker`] off fault responses, and
//! implement [`SimVendor`] for their edits and switches.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::aruba::ArubaState;
use super::audiocodes::AudiocodesState;
use super::common::merge_switches;
use super::extreme::ExtremeState;
use super::ruckus::RuckusState;
use super::{Shared, SimState, strict};

/// One fault to inject into a vendor's routes.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FaultSpec {
    /// "aruba", or "*" for every vendor.
    pub vendor: String,
    /// `METHOD PATTERN` relative to the vendor prefix, `*` matching one segment
    /// (e.g. `PUT /msp_api/v1/customers/*/devices`); "*" alone as method or route matches all.
    pub route: String,
    pub kind: FaultKind,
    /// Fire on the next N matching calls only (forever when absent).
    #[serde(default)]
    pub count: Option<u32>,
    /// Fire with this probability per matching call (seeded PRNG; always when absent).
    #[serde(default)]
    pub rate: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status and a service error body, without running the handler.
    Status { status: u16 },
    /// Sleep this long, then handle normally.
    Latency { ms: u64 },
    /// 429 as if the per-second limit were exhausted.
    RateLimitSecond,
    /// 429 as if the daily quota were exhausted.
    RateLimitDay,
    /// Run and commit the handler, then cut the connection before any response.
    DropAfterCommit,
    /// Answer with this status and the request body sent back verbatim, without
    /// running the handler: a vendor whose validation error echoes its input.
    Echo { status: u16 },
}

/// Put on a fault response so the vendor layer can set its own headers (e.g. Aruba's
/// `X-RateLimit-Remaining-second: 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultMarker {
    RateLimitSecond,
    RateLimitDay,
}

#[derive(Debug)]
struct ActiveFault {
    spec: FaultSpec,
    remaining: Option<u32>,
}

/// A fault that fired: on which vendor, on which call (`METHOD /route`), what it did.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FiredFault {
    pub vendor: String,
    pub call: String,
    pub kind: FaultKind,
}

/// The injected faults, in the order they were added; the first that fires wins.
/// Every fault that fires is logged, so a test can prove it fired.
#[derive(Debug)]
pub(crate) struct Faults {
    active: Vec<ActiveFault>,
    fired: Vec<FiredFault>,
    rng: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            active: Vec::new(),
            fired: Vec::new(),
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl Faults {
    pub fn add(&mut self, spec: FaultSpec) {
        let remaining = spec.count;
        self.active.push(ActiveFault { spec, remaining });
    }

    /// Removes the active faults; the log of those that fired stays.
    pub fn clear(&mut self) {
        self.active.clear();
    }

    /// How many times a fault fired on `vendor` for a call matching `pattern`.
    pub fn fired(&self, vendor: &str, pattern: &str) -> u64 {
        self.fired
            .iter()
            .filter(|f| f.vendor == vendor && route_matches(pattern, &f.call))
            .count() as u64
    }

    fn next_f64(&mut self) -> f64 {
        // xorshift64*: deterministic, good enough for fault sampling.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault to apply to this call, if any (consumes one of its `count`).
    fn take(&mut self, vendor: &str, route: &str) -> Option<FaultKind> {
        let mut fired = None;
        for i in 0..self.active.len() {
            let f = &self.active[i];
            if !(f.spec.vendor == "*" || f.spec.vendor == vendor)
                || !route_matches(&f.spec.route, route)
            {
                continue;
            }
            if let Some(rate) = f.spec.rate
                && self.next_f64() >= rate
            {
                continue;
            }
            fired = Some(i);
            break;
        }
        let i = fired?;
        let kind = self.active[i].spec.kind.clone();
        self.fired.push(FiredFault {
            vendor: vendor.to_string(),
            call: route.to_string(),
            kind: kind.clone(),
        });
        if let Some(n) = &mut self.active[i].remaining {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.active.remove(i);
            }
        }
        Some(kind)
    }

    fn specs(&self) -> Vec<Value> {
        self.active
            .iter()
            .map(|f| json!({"spec": f.spec, "remaining": f.remaining}))
            .collect()
    }
}

/// Does a fault pattern (`METHOD /a/*/b`, `*`, `* /a/*`, `GET *`) match a call key?
pub(crate) fn route_matches(pattern: &str, key: &str) -> bool {
    let pattern = pattern.trim();
    if pattern == "*" {
        return true;
    }
    let (pm, pp) = pattern.split_once(' ').unwrap_or(("*", pattern));
    let Some((km, kp)) = key.split_once(' ') else {
        return false;
    };
    if pm != "*" && !pm.eq_ignore_ascii_case(km) {
        return false;
    }
    let pp = pp.trim();
    if pp == "*" {
        return true;
    }
    let ps: Vec<&str> = pp.trim_matches('/').split('/').collect();
    let ks: Vec<&str> = kp.trim_matches('/').split('/').collect();
    ps.len() == ks.len() && ps.iter().zip(&ks).all(|(p, k)| *p == "*" || p == k)
}

/// Per-vendor, per-route call counts.
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    routes: BTreeMap<String, BTreeMap<String, u64>>,
}

impl CallLog {
    fn record(&mut self, vendor: &str, route: &str) {
        *self
            .routes
            .entry(vendor.to_string())
            .or_default()
            .entry(route.to_string())
            .or_default() += 1;
    }

    pub fn get(&self, vendor: &str, route: &str) -> u64 {
        self.routes
            .get(vendor)
            .and_then(|r| r.get(route.trim()))
            .copied()
            .unwrap_or(0)
    }

    pub fn total(&self, vendor: &str) -> u64 {
        self.routes.get(vendor).map_or(0, |r| r.values().sum())
    }

    /// Every route of a vendor that was called, with its count (empty when none).
    pub fn routes(&self, vendor: &str) -> BTreeMap<String, u64> {
        self.routes.get(vendor).cloned().unwrap_or_default()
    }

    /// Non-GET calls, OAuth excluded.
    pub fn writes(&self, vendor: &str) -> u64 {
        self.routes.get(vendor).map_or(0, |r| {
            r.iter().filter(|(k, _)| is_write(k)).map(|(_, v)| v).sum()
        })
    }

    fn to_json(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (vendor, routes) in &self.routes {
            out.insert(vendor.clone(), json!(routes));
            out.insert(format!("{vendor}_writes"), json!(self.writes(vendor)));
            out.insert(format!("{vendor}_total"), json!(self.total(vendor)));
        }
        Value::Object(out)
    }
}

/// Whether a call changes vendor data: not a read, not a token request, and not
/// one of RUCKUS One's read-only `POST …/query` searches.
fn is_write(key: &str) -> bool {
    let (m, p) = key.split_once(' ').unwrap_or((key, ""));
    !matches!(m, "GET" | "HEAD") && !p.contains("/oauth2/") && !p.ends_with("/query")
}

/// `METHOD /pattern` for a matched request, the vendor prefix stripped and `{param}`
/// segments written as `*`.
pub(crate) fn route_key(req: &Request, vendor: &str) -> String {
    let pattern = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let prefix = format!("/{vendor}");
    let rel = pattern
        .strip_prefix(&prefix)
        .filter(|r| r.starts_with('/'))
        .unwrap_or(&pattern);
    let path: Vec<&str> = rel
        .split('/')
        .map(|s| if s.starts_with('{') { "*" } else { s })
        .collect();
    format!("{} {}", req.method(), path.join("/"))
}

/// Outermost vendor layer: count every matched call.
pub(crate) async fn count_layer(
    State((sh, vendor)): State<(Shared, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    let key = route_key(&req, vendor);
    sh.lock().calls.record(vendor, &key);
    next.run(req).await
}

/// Innermost vendor layer: apply an injected fault, if one fires for this call.
pub(crate) async fn fault_layer(
    State((sh, vendor)): State<(Shared, &'static str)>,
    req: Request,
    next: Next,
) -> Response {
    let key = route_key(&req, vendor);
    let fault = sh.lock().faults.take(vendor, &key);
    match fault {
        None => next.run(req).await,
        Some(FaultKind::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(req).await
        }
        Some(FaultKind::Status { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({
                "description": format!("injected fault on {key}"),
                "error_code": status.as_u16().to_string(),
                "service_name": "mspform-sim",
            });
            (status, Json(body)).into_response()
        }
        Some(FaultKind::Echo { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            (
                status,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Some(kind @ (FaultKind::RateLimitSecond | FaultKind::RateLimitDay)) => {
            let marker = if kind == FaultKind::RateLimitSecond {
                FaultMarker::RateLimitSecond
            } else {
                FaultMarker::RateLimitDay
            };
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"message": "API rate limit exceeded"})),
            )
                .into_response();
            resp.extensions_mut().insert(marker);
            resp
        }
        Some(FaultKind::DropAfterCommit) => {
            let _committed = next.run(req).await;
            sh.persist();
            // Unwinding out of the connection task makes hyper drop the socket before a
            // byte of the response is written: the client sees an incomplete message.
            // `resume_unwind` skips the panic hook, so nothing is printed.
            std::panic::resume_unwind(Box::new("mspform-sim: drop_after_commit"))
        }
    }
}

/// 404 for any unknown route.
pub(crate) async fn not_found(method: Method, uri: axum::http::Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({
            "description": format!("no route for {method} {}", uri.path()),
            "error_code": "404",
            "service_name": "mspform-sim",
        })),
    )
        .into_response()
}

/// 405 for a known path with an unsupported method.
pub(crate) async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({
            "description": format!("{method} is not supported on {}", uri.path()),
            "error_code": "405",
            "service_name": "mspform-sim",
        })),
    )
        .into_response()
}

/// The route layers every vendor's routes carry, innermost first: injected faults,
/// the strict checks of its documented bodies, the vendor's own auth and limits
/// (`gate` adds that layer), and the call count outermost.
pub(crate) fn vendor_layers(
    routes: Router<Shared>,
    sh: &Shared,
    vendor: &'static str,
    gate: impl FnOnce(Router<Shared>) -> Router<Shared>,
) -> Router<Shared> {
    let checked = routes
        .route_layer(from_fn_with_state((sh.clone(), vendor), fault_layer))
        .route_layer(from_fn_with_state((sh.clone(), vendor), strict::layer));
    gate(checked).route_layer(from_fn_with_state((sh.clone(), vendor), count_layer))
}

/// The `/_sim/` endpoints (mounted under `/_sim` by the main router).
pub(crate) fn router() -> Router<Shared> {
    Router::new()
        .route(
            "/faults",
            post(add_fault).delete(clear_faults).get(list_faults),
        )
        .route("/calls", get(get_calls).delete(reset_calls))
        .route("/reset", post(reset))
        .route("/state", get(state))
        .route("/clock", post(clock))
        .merge(vendor_routes::<ArubaState>())
        .merge(vendor_routes::<AudiocodesState>())
        .merge(vendor_routes::<ExtremeState>())
        .merge(vendor_routes::<RuckusState>())
}

/// What the control plane (and the [`Simulator`](super::Simulator) handle) needs of
/// one simulated vendor: its name, its part of the state, its behaviour switches and
/// its out-of-band "portal" edits. Each vendor implements it beside its edits.
pub(crate) trait SimVendor: Sized + 'static {
    /// The path segment under `/_sim/` (and the vendor's prefix).
    const NAME: &'static str;
    type Switches: Serialize + DeserializeOwned;
    type Edit: DeserializeOwned;
    fn of(st: &mut SimState) -> &mut Self;
    fn switches(&mut self) -> &mut Self::Switches;
    /// Applies a portal edit at `now_ms` (simulated); an edit that creates an
    /// object answers its id.
    fn edit(&mut self, edit: Self::Edit, now_ms: u64) -> anyhow::Result<Option<String>>;
    /// Checks a whole set of switches before it replaces the current one.
    fn check(_switches: &Self::Switches) -> Result<(), String> {
        Ok(())
    }
}

/// `POST /_sim/<vendor>/edit` and `GET|POST /_sim/<vendor>/switches`.
fn vendor_routes<V: SimVendor>() -> Router<Shared> {
    Router::new()
        .route(&format!("/{}/edit", V::NAME), post(edit::<V>))
        .route(
            &format!("/{}/switches", V::NAME),
            post(set_switches::<V>).get(get_switches::<V>),
        )
}

async fn edit<V: SimVendor>(State(sh): State<Shared>, body: Bytes) -> Response {
    let edit = match serde_json::from_slice::<V::Edit>(&body) {
        Ok(e) => e,
        Err(e) => return bad_request(format!("invalid {} edit: {e}", V::NAME)),
    };
    let mut st = sh.lock();
    let now = st.now_ms();
    match V::of(&mut st).edit(edit, now) {
        Ok(None) => ok(),
        Ok(Some(id)) => Json(json!({"status": "ok", "id": id})).into_response(),
        Err(e) => bad_request(e),
    }
}

fn switches_json<V: SimVendor>(st: &mut SimState) -> Response {
    Json(serde_json::to_value(V::of(st).switches()).unwrap_or(Value::Null)).into_response()
}

async fn get_switches<V: SimVendor>(State(sh): State<Shared>) -> Response {
    switches_json::<V>(&mut sh.lock())
}

/// Merges a partial JSON object into the switches and answers them all.
async fn set_switches<V: SimVendor>(State(sh): State<Shared>, body: Bytes) -> Response {
    let mut st = sh.lock();
    let merged = merge_switches(V::of(&mut st).switches(), &body, V::NAME)
        .and_then(|sw| V::check(&sw).map(|()| sw));
    match merged {
        Ok(sw) => {
            *V::of(&mut st).switches() = sw;
            switches_json::<V>(&mut st)
        }
        Err(e) => bad_request(e),
    }
}

fn bad_request(msg: impl std::fmt::Display) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": msg.to_string()})),
    )
        .into_response()
}

fn ok() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

async fn add_fault(State(sh): State<Shared>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultSpec>(&body) {
        Ok(spec) => {
            sh.lock().faults.add(spec);
            ok()
        }
        Err(e) => bad_request(format!("invalid fault spec: {e}")),
    }
}

async fn clear_faults(State(sh): State<Shared>) -> Response {
    sh.lock().faults.clear();
    ok()
}

async fn list_faults(State(sh): State<Shared>) -> Response {
    Json(Value::Array(sh.lock().faults.specs())).into_response()
}

async fn get_calls(State(sh): State<Shared>) -> Response {
    Json(sh.lock().calls.to_json()).into_response()
}

async fn reset_calls(State(sh): State<Shared>) -> Response {
    sh.lock().calls = CallLog::default();
    ok()
}

async fn reset(State(sh): State<Shared>) -> Response {
    sh.reset();
    ok()
}

async fn state(State(sh): State<Shared>) -> Response {
    let mut st = sh.lock();
    let now = st.now_ms();
    st.ruckus.settle(now);
    st.aruba.settle(now);
    Json(dump(&st)).into_response()
}

/// The whole simulator state as JSON.
pub(crate) fn dump(st: &SimState) -> Value {
    json!({
        "aruba": serde_json::to_value(&st.aruba).unwrap_or(Value::Null),
        "audiocodes": serde_json::to_value(&st.audiocodes).unwrap_or(Value::Null),
        "extreme": serde_json::to_value(&st.extreme).unwrap_or(Value::Null),
        "ruckus": serde_json::to_value(&st.ruckus).unwrap_or(Value::Null),
        "calls": st.calls.to_json(),
        "faults": st.faults.specs(),
        "faults_fired": st.faults.fired,
        "clock_offset_secs": st.clock_offset_secs,
        "now_ms": st.now_ms(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    #[serde(default)]
    advance_secs: u64,
    /// Stop (true) or restart (false) the simulated clock; see [`SimState::freeze_clock`].
    #[serde(default)]
    freeze: Option<bool>,
}

async fn clock(State(sh): State<Shared>, body: Bytes) -> Response {
    match serde_json::from_slice::<ClockBody>(&body) {
        Ok(c) => {
            let mut st = sh.lock();
            if let Some(freeze) = c.freeze {
                st.freeze_clock(freeze);
            }
            st.clock_offset_secs = st.clock_offset_secs.saturating_add(c.advance_secs);
            Json(json!({"clock_offset_secs": st.clock_offset_secs, "now_ms": st.now_ms(), "frozen": st.clock_frozen_ms.is_some()}))
                .into_response()
        }
        Err(e) => bad_request(format!(
            "expected {{\"advance_secs\": N, \"freeze\": true|false}}: {e}"
        )),
    }
}
