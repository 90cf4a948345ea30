//! RUCKUS One endpoints (vendor-apis.md §3.2–3.5), one method each, plus paged
//! queries and activity polling. Every loop is bounded in count and time.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::Client;
use super::wire::{self, Accepted, ActivityStatus, EcView, Page, Row};
use crate::vendor::Stop;
use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, WriteCtx, snippet};
use crate::vendor::transport::{Answer, Call};

/// Rows asked for per query page (the web UI asks for 10 000).
pub const PAGE_SIZE: u64 = 10_000;
/// Pages read before a listing is declared endless.
const MAX_PAGES: u32 = 1000;
/// Longest wait between two activity polls.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(8);

/// The fields a tenant query asks for: the row's identity, and the EC view's
/// fields in the rows' camelCase (a server that does not carry them answers
/// without them; the view is then read per tenant where needed).
const QUERY_FIELDS: [&str; 15] = [
    "id",
    "name",
    "tenantType",
    "streetAddress",
    "city",
    "state",
    "country",
    "postalCode",
    "phoneNumber",
    "faxNumber",
    "mappingUrl",
    "serviceEffectiveDate",
    "serviceExpirationDate",
    "tier",
    "privacyFeatures",
];

/// The query of every managed tenant, and the (deprecated) one of tech partners.
const TENANTS_QUERY: &str = "/tenants/query";
const TECHPARTNERS_QUERY: &str = "/techpartners/mspecs/query";

/// The tenant types of managed tenants and of tech partners.
pub const EC: &str = "MSP_EC";
pub const PARTNER_TYPES: [&str; 2] = ["MSP_INTEGRATOR", "MSP_INSTALLER"];

/// A listed tenant: the query row, and the full EC view when the listing had it
/// (the legacy list does; the query does not).
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub row: Row,
    pub view: Option<EcView>,
}

/// How long activities take, learned from the first one a run waits for: the
/// others wait for it (`leader`), then first read theirs after as long.
#[derive(Debug, Default)]
pub struct ActivityPace {
    pub(crate) leader: tokio::sync::Mutex<()>,
    took: std::sync::Mutex<Option<Duration>>,
}

impl ActivityPace {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Duration>> {
        self.took.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long an activity of this run took (until it was seen done).
    pub fn learned(&self) -> Option<Duration> {
        *self.slot()
    }

    pub fn learn(&self, took: Duration) {
        *self.slot() = Some(took);
    }
}

/// How an activity ended, as far as polling could tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Success,
    Fail(String),
    /// `GET /activities/{id}` kept answering 404 [assumed: unknown id].
    Unknown,
    /// Still not terminal when the timeout ran out; the last status seen.
    TimedOut(String),
}

impl Client {
    pub(crate) async fn send(
        &self,
        call: &Call,
        write: Option<&WriteCtx>,
    ) -> Result<Answer, ProviderError> {
        self.transport.send(call, self.auth.as_ref(), write).await
    }

    fn json(&self, answer: &Answer, call: &Call) -> Result<Value, ProviderError> {
        answer.json(self.key(), &call.name())
    }

    /// The R1 query body.
    fn query_body(types: &[&str], search: Option<&str>, page: u64) -> Value {
        json!({
            "fields": QUERY_FIELDS,
            "searchString": search.unwrap_or(""),
            "searchTargetFields": ["name"],
            "filters": {"tenantType": types},
            "page": page,
            "pageSize": PAGE_SIZE,
            "sortField": "name",
            "sortOrder": "ASC",
        })
    }

    /// All rows of `POST /tenants/query` for these tenant types.
    pub async fn query_tenants(
        &self,
        types: &[&str],
        search: Option<&str>,
    ) -> Result<Vec<Row>, ProviderError> {
        self.query_rows(TENANTS_QUERY, types, search).await
    }

    /// The MSP's tech partners (integrators and installers): the documented
    /// `POST /techpartners/mspecs/query` ("Query tech-partner ECs": the partners'
    /// own tenant rows, as the web UI reads it), or, only when that answers 404
    /// (the vendor has deprecated it), the tenant-type filter on `POST /tenants/query`.
    /// Any other failure is an error: never silently the other endpoint.
    pub async fn query_partners(&self) -> Result<Vec<Row>, ProviderError> {
        match self
            .query_rows(TECHPARTNERS_QUERY, &PARTNER_TYPES, None)
            .await
        {
            Err(e) if e.status() == Some(404) => {
                tracing::info!(provider = %self.key(), "POST {TECHPARTNERS_QUERY} is not served here; reading the tech partners from POST {TENANTS_QUERY}");
                self.query_rows(TENANTS_QUERY, &PARTNER_TYPES, None).await
            }
            other => other,
        }
    }

    /// All rows of one R1 query endpoint for these tenant types. Pages from 0
    /// (from 1 when the server refuses page 0), follows the page number the
    /// server echoes, and ends on the total (`totalCount` or `total`), on an
    /// empty page, or when a page brings nothing new.
    async fn query_rows(
        &self,
        path: &str,
        types: &[&str],
        search: Option<&str>,
    ) -> Result<Vec<Row>, ProviderError> {
        let mut rows: Vec<Row> = Vec::new();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut page = 0u64;
        let mut tried_one_based = false;
        let mut idle = 0;
        for _ in 0..MAX_PAGES {
            let call = Call::new(Method::POST, path)
                .json(Self::query_body(types, search, page))
                .idempotent(true);
            let answer = match self.send(&call, None).await {
                Ok(a) => a,
                Err(e) if e.status() == Some(400) && page == 0 && !tried_one_based => {
                    // [assumed] page base: a server counting from 1 refuses page 0.
                    tried_one_based = true;
                    page = 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let body = self.json(&answer, &call)?;
            let parsed = Page::from_value(&body).ok_or_else(|| {
                self.undecodable(
                    call.name(),
                    format!("no `data` list in the answer: {}", snippet(&answer.text)),
                )
            })?;
            let before = rows.len();
            for r in parsed.rows.iter().filter_map(Row::from_value) {
                if seen.insert(r.id.clone()) {
                    rows.push(r);
                }
            }
            let fresh = rows.len() - before;
            // Without a total a short page proves nothing (the server may cap the
            // page size): only an empty page or one with nothing new ends the list.
            let complete = parsed.total.is_some_and(|total| rows.len() as u64 >= total);
            idle = if fresh == 0 { idle + 1 } else { 0 };
            // Without a total, a page with nothing new is the end; with one, a
            // server that numbers pages differently gets one more look.
            if parsed.rows.is_empty() || complete || idle > usize::from(parsed.total.is_some()) {
                return Ok(rows);
            }
            page = (page + 1).max(parsed.page.map_or(0, |p| p + 1));
        }
        Err(self.other(format!("POST {path} did not end after {MAX_PAGES} pages")))
    }

    /// Every managed tenant (MSP-EC): the query endpoint, or the deprecated
    /// `GET /mspCustomers` list when the query answers 404 (older deployments).
    pub async fn list_ecs(&self) -> Result<Vec<Listed>, ProviderError> {
        match self.query_tenants(&[EC], None).await {
            Ok(rows) => Ok(rows
                .into_iter()
                .filter(|r| r.tenant_type.as_deref().is_none_or(|t| t == EC))
                .map(|row| Listed { row, view: None })
                .collect()),
            Err(e) if e.status() == Some(404) => {
                tracing::info!(provider = %self.key(), "POST /tenants/query is not served here; reading the legacy GET /mspCustomers list");
                self.list_legacy().await
            }
            Err(e) => Err(e),
        }
    }

    async fn list_legacy(&self) -> Result<Vec<Listed>, ProviderError> {
        let call = Call::get("/mspCustomers");
        let answer = self.send(&call, None).await?;
        let body = self.json(&answer, &call)?;
        let page = Page::from_value(&body).ok_or_else(|| {
            self.undecodable(call.name(), "expected a JSON array of MSP-EC accounts")
        })?;
        let mut out = Vec::new();
        for v in &page.rows {
            let Some(row) = Row::from_value(v) else {
                continue;
            };
            if row.tenant_type.as_deref().is_some_and(|t| t != EC) {
                continue;
            }
            let view: Option<EcView> = serde_json::from_value(v.clone()).ok();
            out.push(Listed { row, view });
        }
        Ok(out)
    }

    /// Managed tenants named exactly `name` (the search is a substring match).
    pub async fn ecs_named(&self, name: &str) -> Result<Vec<Row>, ProviderError> {
        let rows = match self.query_tenants(&[EC], Some(name)).await {
            Ok(rows) => rows,
            Err(e) if e.status() == Some(404) => self
                .list_legacy()
                .await?
                .into_iter()
                .map(|l| l.row)
                .collect(),
            Err(e) => return Err(e),
        };
        Ok(rows
            .into_iter()
            .filter(|r| r.name == name && r.tenant_type.as_deref().is_none_or(|t| t == EC))
            .collect())
    }

    /// `GET /tenants/{id}`; `None` on 404.
    pub async fn get_ec(&self, id: &str) -> Result<Option<EcView>, ProviderError> {
        let call = Call::get(format!("/tenants/{id}"));
        match self.send(&call, None).await {
            Ok(answer) => Ok(Some(answer.decode(self.key(), &call.name())?)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /tenants` `{"data":[…]}` (1–100 unique items) → `data[i]` in input
    /// order. Not journaled here: the caller journals one entry per tenant.
    pub async fn create_ecs(&self, items: &[Value]) -> Result<Vec<Accepted>, ProviderError> {
        let call = Call::new(Method::POST, "/tenants").json(json!({ "data": items }));
        let answer = self.send(&call, None).await?;
        Ok(Accepted::list(&self.json(&answer, &call)?))
    }

    /// `PUT /tenants/{id}` with every required field.
    pub async fn update_ec(
        &self,
        id: &str,
        body: &Value,
        ctx: &WriteCtx,
    ) -> Result<Accepted, ProviderError> {
        let call = Call::new(Method::PUT, format!("/tenants/{id}")).json(body.clone());
        let answer = self.send(&call, Some(ctx)).await?;
        Ok(Accepted::from_value(&self.json(&answer, &call)?))
    }

    /// `DELETE /tenants/{id}` → 200 or 202 `{requestId}`; `None` when it was gone (404).
    pub async fn delete_ec(
        &self,
        id: &str,
        ctx: &WriteCtx,
    ) -> Result<Option<Accepted>, ProviderError> {
        let call = Call::new(Method::DELETE, format!("/tenants/{id}"));
        match self.send(&call, Some(ctx)).await {
            Ok(answer) => Ok(Some(Accepted::from_value(&self.json(&answer, &call)?))),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /tenants/{id}/invitations` `{"admin_email", "resend"}` → 204. Not
    /// journaled here: the caller journals it (and records the intent) first.
    pub async fn invite(
        &self,
        id: &str,
        email: &str,
        resend: bool,
    ) -> Result<Accepted, ProviderError> {
        let call = Call::new(Method::POST, format!("/tenants/{id}/invitations"))
            .json(json!({"admin_email": email, "resend": resend}));
        let answer = self.send(&call, None).await?;
        Ok(Accepted::from_value(&self.json(&answer, &call)?))
    }

    /// `GET /tenants/{id}/admins`, parsed by `parse`. `None` when the list cannot
    /// be read here: 403, 404 or 405 (not allowed, not served, or the tenant is
    /// gone) or an answer with no list in it; the caller then proves nothing from
    /// it (it never reads that as "nobody"). Any other failure is an error.
    async fn read_admins<T>(
        &self,
        id: &str,
        parse: fn(&Value) -> Option<T>,
    ) -> Result<Option<T>, ProviderError> {
        let call = Call::get(format!("/tenants/{id}/admins"));
        let answer = match self.send(&call, None).await {
            Ok(a) => a,
            Err(e) if matches!(e.status(), Some(403..=405)) => {
                tracing::debug!(provider = %self.key(), error = %e, "the tenant's administrators cannot be read");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let list = serde_json::from_str::<Value>(&answer.text)
            .ok()
            .and_then(|body| parse(&body));
        if list.is_none() {
            tracing::warn!(provider = %self.key(), call = %call.name(), body = %snippet(&answer.text), "no list of administrators in the answer");
        }
        Ok(list)
    }

    /// The EC's administrators' emails (lower case); `None` when they cannot be
    /// read here (see [`Client::read_admins`]).
    pub async fn ec_admins(&self, id: &str) -> Result<Option<Vec<String>>, ProviderError> {
        self.read_admins(id, wire::admin_emails).await
    }

    /// The EC's administrators as listed, with their names; `None` when they
    /// cannot be read here.
    pub async fn ec_admin_list(&self, id: &str) -> Result<Option<Vec<wire::Admin>>, ProviderError> {
        self.read_admins(id, wire::admins).await
    }

    /// `GET /mspIntegrators/{id}?delegationType=…`: the EC ids assigned to a tech partner.
    pub async fn partner_ecs(
        &self,
        id: &str,
        delegation_type: &str,
    ) -> Result<Vec<String>, ProviderError> {
        let call =
            Call::get(format!("/mspIntegrators/{id}")).query("delegationType", delegation_type);
        let answer = self.send(&call, None).await?;
        let body = self.json(&answer, &call)?;
        wire::assigned_ids(&body).ok_or_else(|| {
            self.undecodable(
                call.name(),
                format!(
                    "no list of MSP-EC ids in the answer: {}",
                    snippet(&answer.text)
                ),
            )
        })
    }

    /// `PATCH /mspIntegrators/{id}` `{"delegation_type", "number_of_days": null,
    /// "mspec_list"}`: the partner's ECs of that type become exactly the list.
    pub async fn assign_partner(
        &self,
        id: &str,
        delegation_type: &str,
        ecs: &[String],
        ctx: &WriteCtx,
    ) -> Result<Accepted, ProviderError> {
        let call = Call::new(Method::PATCH, format!("/mspIntegrators/{id}"))
            .json(json!({
                "delegation_type": delegation_type,
                "number_of_days": null,
                "mspec_list": ecs,
            }))
            // The body states the whole outcome: sending it twice changes nothing.
            .idempotent(true);
        let answer = self.send(&call, Some(ctx)).await?;
        Ok(Accepted::from_value(&self.json(&answer, &call)?))
    }

    /// One look at an activity; `None` when the id is unknown (404).
    pub async fn activity(
        &self,
        request_id: &str,
    ) -> Result<Option<ActivityStatus>, ProviderError> {
        let call = Call::get(format!("/activities/{request_id}"));
        match self.send(&call, None).await {
            Ok(answer) => Ok(Some(ActivityStatus::from_value(
                &self.json(&answer, &call)?,
            ))),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The activity timeout as a duration.
    pub fn activity_window(&self) -> Duration {
        Duration::from_secs(self.settings.activity_timeout_secs.max(1))
    }

    /// Polls an activity until SUCCESS or FAIL: `poll_interval_ms` doubling up to
    /// 8 s, at most `activity_timeout_secs` overall. An unknown id is looked at
    /// three times (a new activity may not be visible at once) before giving up.
    /// Ctrl-C (`stop`) ends the wait early with an error: the request id is in
    /// the journal, so the next apply resumes it.
    pub async fn await_activity(
        &self,
        request_id: &str,
        stop: &Stop,
    ) -> Result<Settled, ProviderError> {
        let start = Instant::now();
        let deadline = start + Duration::from_secs(self.settings.activity_timeout_secs.max(1));
        let _waiting = crate::vendor::wait_for(
            format!("RUCKUS activity {request_id} to finish"),
            deadline - start,
        );
        // The first activity of a run is polled from the start; the others
        // wait for it, then sleep as long as it took before their first read
        // (activities of one account take about as long as each other), so
        // a batch of N costs about N reads instead of one per poll interval each.
        let leading = match self.pace.learned() {
            Some(_) => None,
            None => match self.pace.leader.try_lock() {
                Ok(guard) => Some(guard),
                Err(_) => {
                    drop(self.pace.leader.lock().await);
                    None
                }
            },
        };
        if leading.is_none()
            && let Some(took) = self.pace.learned()
        {
            let until = (start + took).min(deadline);
            while Instant::now() < until && !stop.is_set() {
                let step = (until - Instant::now()).min(Duration::from_secs(1));
                tokio::time::sleep(step).await;
            }
        }
        let mut interval = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        let mut unknown = 0;
        let mut reads = 0u32;
        loop {
            reads += 1;
            let last = match self.activity(request_id).await? {
                Some(ActivityStatus::Success) => {
                    // The first to finish, or one that took longer than learned.
                    if leading.is_some() || reads > 1 {
                        self.pace.learn(start.elapsed());
                    }
                    return Ok(Settled::Success);
                }
                Some(ActivityStatus::Fail(m)) => return Ok(Settled::Fail(m)),
                Some(ActivityStatus::Pending(s)) => {
                    unknown = 0;
                    s
                }
                None => {
                    unknown += 1;
                    if unknown >= 3 {
                        return Ok(Settled::Unknown);
                    }
                    "(unknown id)".to_string()
                }
            };
            let now = Instant::now();
            if now >= deadline {
                return Ok(Settled::TimedOut(last));
            }
            if stop.is_set() {
                return Err(self.other(format!(
                    "interrupted while activity {request_id} was still {last}; its request id is in the journal, so the next apply resumes waiting for it"
                )));
            }
            tracing::debug!(provider = %self.key(), request_id, status = %last, "activity not finished yet");
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval * 2).min(MAX_POLL_INTERVAL);
        }
    }

    /// Waits up to `within` (at least one look) for managed tenants named `names`
    /// to appear; returns name → tenant id of those found. A name held by several
    /// tenants is an error: mspform will not guess. Ctrl-C (`stop`) ends the
    /// wait early with an error (nothing was posted again).
    pub async fn wait_for_names(
        &self,
        names: &[String],
        within: Duration,
        stop: &Stop,
    ) -> Result<std::collections::BTreeMap<String, String>, ProviderError> {
        let deadline = Instant::now() + within;
        let mut interval = Duration::from_millis(self.settings.poll_interval_ms.max(10));
        // Declared at the first pause: names found at once are no wait.
        let mut _waiting = None;
        loop {
            let rows = if names.len() == 1 {
                self.ecs_named(&names[0]).await?
            } else {
                self.list_ecs().await?.into_iter().map(|l| l.row).collect()
            };
            let mut found = std::collections::BTreeMap::new();
            for name in names {
                let ids: Vec<&str> = rows
                    .iter()
                    .filter(|r| &r.name == name)
                    .map(|r| r.id.as_str())
                    .collect();
                match ids.as_slice() {
                    [] => {}
                    [id] => {
                        found.insert(name.clone(), id.to_string());
                    }
                    many => {
                        return Err(self.other(format!(
                            "{} managed tenants are named {name:?} ({}); refusing to guess which one mspform created",
                            many.len(),
                            many.join(", ")
                        )));
                    }
                }
            }
            let now = Instant::now();
            if found.len() == names.len() || now >= deadline {
                return Ok(found);
            }
            if stop.is_set() {
                return Err(self.other(format!(
                    "interrupted while waiting for {} to appear; nothing was posted again, and the next apply looks for it first",
                    names.join(", ")
                )));
            }
            _waiting.get_or_insert_with(|| {
                let missing: Vec<&str> = names
                    .iter()
                    .filter(|n| !found.contains_key(*n))
                    .map(String::as_str)
                    .collect();
                crate::vendor::wait_for(
                    format!("managed tenant(s) {} to appear", missing.join(", ")),
                    within,
                )
            });
            tokio::time::sleep(interval.min(deadline - now)).await;
            interval = (interval * 2).min(MAX_POLL_INTERVAL);
        }
    }
}
