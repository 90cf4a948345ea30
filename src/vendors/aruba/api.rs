//! Aruba Central endpoints, one method each, paged and chunked as the fact sheet
//! says. Reads return wire types; writes take a [`WriteCtx`] so they are journaled.
//! Calls acting inside a customer carry its id in the `TenantID` header.

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Client;
use super::wire::{self, AssociationResult};
use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, WriteCtx, snippet};
use crate::vendor::transport::{Answer, Call};

/// Upper bound on pages of any list, so a vendor that never stops paging cannot loop us.
const MAX_PAGES: usize = 10_000;
const CUSTOMER_PAGES: &[usize] = &[100, 50, 10];
const DEVICE_PAGES: &[usize] = &[1000, 100, 50];
const SITE_PAGES: &[usize] = &[1000, 100];
/// The vendor recommends at most 20 devices per association call.
pub const ASSOCIATION_CHUNK: usize = 20;
use super::steps::LICENSE_CHUNK;

/// An answer's body as JSON, leniently: empty is `null`, text that is not JSON a string.
fn lenient(answer: &Answer) -> Value {
    if answer.text.trim().is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&answer.text).unwrap_or_else(|_| Value::String(answer.text.clone()))
}

/// A write the vendor retries safely (the transport does not retry a POST or PATCH by itself).
fn write(method: Method, path: impl Into<String>, body: Option<Value>) -> Call {
    let call = Call::new(method, path).idempotent(true);
    match body {
        Some(b) => call.json(b),
        None => call,
    }
}

impl Client {
    fn decode<T: DeserializeOwned>(&self, call: &str, answer: &Answer) -> Result<T, ProviderError> {
        serde_json::from_value(lenient(answer)).map_err(|e| {
            self.undecodable(
                call.to_string(),
                format!("{e}; body: {}", snippet(&answer.text)),
            )
        })
    }

    /// Pages through an offset/limit list until `total` (or an empty page). The
    /// largest page size comes first; a vendor that refuses it (400/413/422, the
    /// maximum is undocumented) is asked again with the next smaller one.
    async fn paged<T, P>(
        &self,
        sizes: &[usize],
        req: impl Fn(usize, usize) -> Call,
        page: P,
    ) -> Result<Vec<T>, ProviderError>
    where
        P: Fn(&Self, &Answer) -> Result<(Vec<T>, Option<u64>), ProviderError>,
    {
        let mut out = Vec::new();
        let mut size = 0;
        for _ in 0..MAX_PAGES {
            let body = match self.send(&req(out.len(), sizes[size]), None).await {
                Ok(body) => body,
                Err(e)
                    if matches!(e.status(), Some(400 | 413 | 422))
                        && out.is_empty()
                        && size + 1 < sizes.len() =>
                {
                    tracing::info!(provider = %self.key(), limit = sizes[size], "page size refused; trying a smaller one");
                    size += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (items, total) = page(self, &body)?;
            let got = items.len();
            out.extend(items);
            let done = got == 0 || total.is_none_or(|t| out.len() as u64 >= t);
            if done {
                return Ok(out);
            }
        }
        Err(self.other(format!("a list did not end after {MAX_PAGES} pages")))
    }

    pub async fn list_customers(&self) -> Result<Vec<wire::Customer>, ProviderError> {
        self.customers_query(None).await
    }

    /// Customers whose name is exactly `name` (the vendor's filter may be a substring match).
    pub async fn customers_named(&self, name: &str) -> Result<Vec<wire::Customer>, ProviderError> {
        Ok(self
            .customers_query(Some(name))
            .await?
            .into_iter()
            .filter(|c| c.customer_name.as_deref() == Some(name))
            .collect())
    }

    async fn customers_query(
        &self,
        name: Option<&str>,
    ) -> Result<Vec<wire::Customer>, ProviderError> {
        const CALL: &str = "GET /msp_api/v1/customers";
        self.paged(
            CUSTOMER_PAGES,
            |offset, limit| {
                let r = Call::get("/msp_api/v1/customers")
                    .query("offset", offset)
                    .query("limit", limit);
                match name {
                    Some(n) => r.query("customer_name", n),
                    None => r,
                }
            },
            |this, body| {
                let list: wire::CustomerList = this.decode(CALL, body)?;
                Ok((list.customers, list.total))
            },
        )
        .await
    }

    pub async fn create_customer(
        &self,
        body: &wire::CustomerBody,
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        let call = Call::new(Method::POST, "/msp_api/v2/customers").json(json!(body));
        self.send(&call, Some(ctx)).await.map(drop)
    }

    pub async fn update_customer(
        &self,
        id: &str,
        body: &wire::CustomerBody,
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        let call = write(
            Method::PUT,
            format!("/msp_api/v2/customers/{id}"),
            Some(json!(body)),
        );
        self.send(&call, Some(ctx)).await.map(drop)
    }

    pub async fn delete_customer(&self, id: &str, ctx: &WriteCtx) -> Result<(), ProviderError> {
        let call = write(Method::DELETE, format!("/msp_api/v1/customers/{id}"), None);
        ok_if_gone(self.send(&call, Some(ctx)).await)
    }

    /// The whole MSP inventory: every device, allocated or not, with its services.
    pub async fn list_devices(&self) -> Result<Vec<wire::Device>, ProviderError> {
        self.device_query("/msp_api/v1/devices", Some(0), None)
            .await
    }

    /// The MSP inventory's devices of one customer (`customer_name`; how the
    /// filter matches is undocumented, so the caller keeps the customer's own).
    pub async fn devices_of_customer(
        &self,
        name: &str,
    ) -> Result<Vec<wire::Device>, ProviderError> {
        self.device_query("/msp_api/v1/devices", Some(0), Some(name))
            .await
    }

    /// The MSP inventory's available devices (`device_allocation_status=2`): the
    /// read that proves a move back to the MSP landed, for every device at once.
    pub async fn available_devices(&self) -> Result<Vec<wire::Device>, ProviderError> {
        self.device_query("/msp_api/v1/devices", Some(2), None)
            .await
    }

    /// One customer's device list: the read that proves a move into it landed.
    pub async fn tenant_devices(
        &self,
        customer_id: &str,
    ) -> Result<Vec<wire::Device>, ProviderError> {
        self.device_query(
            &format!("/msp_api/v1/customers/{customer_id}/devices"),
            None,
            None,
        )
        .await
    }

    /// A paged device list (`deviceList` wrapper with `total_devices`).
    async fn device_query(
        &self,
        path: &str,
        allocation: Option<u8>,
        customer_name: Option<&str>,
    ) -> Result<Vec<wire::Device>, ProviderError> {
        let call = format!("GET {path}");
        self.paged(
            DEVICE_PAGES,
            |offset, limit| {
                let r = Call::get(path)
                    .query("offset", offset)
                    .query("limit", limit);
                let r = match allocation {
                    Some(a) => r.query("device_allocation_status", a),
                    None => r,
                };
                match customer_name {
                    Some(n) => r.query("customer_name", n),
                    None => r,
                }
            },
            |this, body| {
                let env: wire::DeviceListEnvelope = this.decode(&call, body)?;
                let list = env.device_list.ok_or_else(|| ProviderError::Decode {
                    provider: this.key().to_string(),
                    call: call.clone(),
                    message: "no deviceList in the answer".into(),
                })?;
                Ok((list.devices, list.total_devices))
            },
        )
        .await
    }

    /// One batched PUT: moves devices into `customer_id` (or back to the MSP when it is the MSP's id).
    pub async fn move_devices(
        &self,
        customer_id: &str,
        devices: &[(String, String)],
        group: Option<&str>,
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        let body = wire::DeviceMoveBody {
            devices: devices
                .iter()
                .map(|(serial, mac)| wire::DeviceRef { serial, mac })
                .collect(),
            group,
        };
        let path = format!("/msp_api/v1/customers/{customer_id}/devices");
        let call = write(Method::PUT, path.clone(), Some(json!(body)));
        let answer = self.send(&call, Some(ctx)).await?;
        in_band_status(self.key(), &format!("PUT {path}"), &lenient(&answer))
    }

    pub async fn assign_licenses(
        &self,
        serials: &[String],
        services: &[String],
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        self.license_call(
            "/platform/licensing/v1/subscriptions/assign",
            serials,
            services,
            ctx,
        )
        .await
    }

    pub async fn unassign_licenses(
        &self,
        serials: &[String],
        services: &[String],
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        self.license_call(
            "/platform/licensing/v1/subscriptions/unassign",
            serials,
            services,
            ctx,
        )
        .await
    }

    /// Licence calls of at most [`LICENSE_CHUNK`] serials each. The request-size
    /// limit is undocumented (413/417 only): a refused chunk is split in half and
    /// both halves are sent, down to one serial.
    async fn license_call(
        &self,
        path: &str,
        serials: &[String],
        services: &[String],
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        let mut queue: Vec<&[String]> = serials.chunks(LICENSE_CHUNK).rev().collect();
        // Splitting n serials down to one each takes fewer than 2n sends.
        let mut budget = 2 * serials.len() + 1;
        while let Some(chunk) = queue.pop() {
            budget = budget.saturating_sub(1);
            let body = wire::LicenseBody {
                serials: chunk,
                services,
            };
            let call = write(Method::POST, path, Some(json!(body)));
            match self.send(&call, Some(ctx)).await {
                Ok(_) => {}
                Err(e)
                    if matches!(e.status(), Some(413 | 417)) && chunk.len() > 1 && budget > 0 =>
                {
                    tracing::info!(provider = %self.key(), serials = chunk.len(), "licence request too large; splitting it");
                    let (first, second) = chunk.split_at(chunk.len() / 2);
                    queue.push(second);
                    queue.push(first);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The auto-licence services of one customer; None when the answer cannot be read.
    pub async fn autolicense(
        &self,
        customer_id: &str,
    ) -> Result<Option<Vec<String>>, ProviderError> {
        let call = Call::get("/platform/licensing/v1/msp/customer/settings/autolicense")
            .query("customer_id", customer_id);
        match self.send(&call, None).await {
            Ok(answer) => Ok(wire::parse_autolicense(&lenient(&answer))),
            Err(e) if e.status() == Some(404) => Ok(Some(Vec::new())),
            Err(e) => Err(e),
        }
    }

    pub async fn set_autolicense(
        &self,
        customer_id: &str,
        services: &[String],
        enable: bool,
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        let method = if enable { Method::POST } else { Method::DELETE };
        let body = wire::AutoLicenseBody {
            services,
            include_customers: [customer_id],
        };
        let call = write(
            method,
            "/platform/licensing/v1/msp/customer/settings/autolicense",
            Some(json!(body)),
        );
        self.send(&call, Some(ctx)).await.map(drop)
    }

    pub async fn list_sites(&self, customer_id: &str) -> Result<Vec<wire::Site>, ProviderError> {
        const CALL: &str = "GET /central/v2/sites";
        self.paged(
            SITE_PAGES,
            |offset, limit| {
                Call::get("/central/v2/sites")
                    .query("calculate_total", "true")
                    .query("offset", offset)
                    .query("limit", limit)
                    .header("TenantID", customer_id)
            },
            |this, body| {
                let list: wire::SiteList = this.decode(CALL, body)?;
                Ok((list.sites, list.total))
            },
        )
        .await
    }

    /// Creates a site and returns it; the create is not idempotent (the caller looks up by name first).
    pub async fn create_site(
        &self,
        customer_id: &str,
        body: &wire::SiteBody,
        ctx: &WriteCtx,
    ) -> Result<wire::Site, ProviderError> {
        let call = Call::new(Method::POST, "/central/v2/sites")
            .json(json!(body))
            .header("TenantID", customer_id);
        let answer = self.send(&call, Some(ctx)).await?;
        self.decode("POST /central/v2/sites", &answer)
    }

    pub async fn update_site(
        &self,
        customer_id: &str,
        site_id: &str,
        body: &wire::SiteBody,
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        let call = write(
            Method::PATCH,
            format!("/central/v2/sites/{site_id}"),
            Some(json!(body)),
        )
        .header("TenantID", customer_id);
        self.send(&call, Some(ctx)).await.map(drop)
    }

    pub async fn delete_site(
        &self,
        customer_id: &str,
        site_id: &str,
        ctx: &WriteCtx,
    ) -> Result<(), ProviderError> {
        let call = write(Method::DELETE, format!("/central/v2/sites/{site_id}"), None)
            .header("TenantID", customer_id);
        match self.send(&call, Some(ctx)).await {
            Ok(_) => Ok(()),
            Err(e) if e.status() == Some(404) => Ok(()),
            // What an unknown site answers is only assumed (404): a refused delete
            // (e.g. the retry of one whose answer was lost) is done when the site is
            // no longer listed.
            Err(e) if e.status().is_some_and(|s| matches!(s, 400 | 410 | 422)) => {
                let sites = self.list_sites(customer_id).await?;
                if sites.iter().any(|s| s.site_id.as_deref() == Some(site_id)) {
                    Err(e)
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Associates (or with `associate = false` unassociates) devices of one type,
    /// in chunks of 20; returns the serials the vendor listed as failed.
    pub async fn associations(
        &self,
        customer_id: &str,
        site_id: &str,
        device_type: &str,
        serials: &[String],
        associate: bool,
        ctx: &WriteCtx,
    ) -> Result<Vec<String>, ProviderError> {
        let site_num: i64 = site_id
            .parse()
            .map_err(|_| self.other(format!("site id {site_id:?} is not a number")))?;
        let method = if associate {
            Method::POST
        } else {
            Method::DELETE
        };
        let mut failed = Vec::new();
        for chunk in serials.chunks(ASSOCIATION_CHUNK) {
            let body = wire::AssociationBody {
                site_id: site_num,
                device_type,
                device_ids: chunk,
            };
            let call = write(
                method.clone(),
                "/central/v2/sites/associations",
                Some(json!(body)),
            )
            .header("TenantID", customer_id);
            let answer = self.send(&call, Some(ctx)).await?;
            let result: AssociationResult =
                serde_json::from_value(lenient(&answer)).unwrap_or_default();
            failed.extend(result.failed_serials());
        }
        Ok(failed)
    }
}

/// A delete of something already gone is a success.
fn ok_if_gone(result: Result<Answer, ProviderError>) -> Result<(), ProviderError> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.status() == Some(404) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Some MSP calls report failure in the body of a 200.
fn in_band_status(provider: &str, call: &str, body: &Value) -> Result<(), ProviderError> {
    if body.get("status").and_then(Value::as_str) == Some("failure") {
        return Err(ProviderError::Http {
            provider: provider.to_string(),
            call: call.to_string(),
            status: body
                .get("status_code")
                .and_then(Value::as_u64)
                .map(|s| s as u16)
                .unwrap_or(200),
            body: snippet(&body.to_string()),
        });
    }
    Ok(())
}
