//! The documented calls mspform uses, one function each (vendor-apis.md §2.2),
//! under the configurable MSP path prefix: the tenant and partner lists, the
//! name→id map, the tenant create and the partner PUT. POST and PUT carry the
//! headers the vendor's docs show.

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::Value;

use super::{Client, wire};
use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, WriteCtx, snippet};
use crate::vendor::transport::Call;

impl Client {
    fn path(&self, rest: &str) -> String {
        format!("{}{rest}", self.settings.msp_prefix.trim_end_matches('/'))
    }

    async fn get(&self, rest: &str) -> Result<(String, Value), ProviderError> {
        let call = Call::get(self.path(rest));
        let name = call.name();
        let answer = self.transport.send(&call, self.auth.as_ref(), None).await?;
        let value = answer.json(self.key(), &name)?;
        Ok((name, value))
    }

    /// A POST or PUT with the headers the vendor's docs ask for.
    fn write(method: Method, path: String, body: Value) -> Call {
        Call::new(method, path)
            .header("content-type", "application/json;charset=UTF-8")
            .header("accept", "application/json, text/plain, */*")
            .json(body)
    }

    fn list<T>(
        &self,
        name: &str,
        value: &Value,
        parse: impl Fn(&Value) -> Option<T>,
    ) -> Result<Vec<T>, ProviderError> {
        let items = wire::items(value).ok_or_else(|| {
            self.undecodable(
                name.to_string(),
                format!("expected a JSON array, got {}", snippet(&value.to_string())),
            )
        })?;
        let mut out = Vec::new();
        for item in items {
            match parse(item) {
                Some(x) => out.push(x),
                None => {
                    tracing::warn!(provider = %self.key(), call = %name, "skipping an entry without custId/id")
                }
            }
        }
        Ok(out)
    }

    /// `GET {prefix}/msptenants`: every tenant of the MSP (no paging documented).
    pub async fn list_tenants(&self) -> Result<Vec<wire::Tenant>, ProviderError> {
        let (name, value) = self.get("/msptenants").await?;
        self.list(&name, &value, wire::tenant)
    }

    /// `GET {prefix}/msppartners`: every partner, documents kept whole.
    pub async fn list_partners(&self) -> Result<Vec<wire::Partner>, ProviderError> {
        let (name, value) = self.get("/msppartners").await?;
        self.list(&name, &value, wire::partner)
    }

    /// Ids of the tenants named exactly `name`: through `nametoidmap`, and through
    /// the tenant list when the map cannot be read or does not name it.
    pub async fn tenant_ids_named(&self, name: &str) -> Result<Vec<String>, ProviderError> {
        let (_, value) = self.get("/msptenants/nametoidmap").await?;
        if let Some(pairs) = wire::name_to_id(&value) {
            let ids: Vec<String> = pairs
                .into_iter()
                .filter(|(n, _)| n == name)
                .map(|(_, id)| id)
                .collect();
            if !ids.is_empty() {
                return Ok(ids);
            }
        } else {
            tracing::debug!(provider = %self.key(), "nametoidmap has a shape mspform cannot read; using the tenant list");
        }
        Ok(self
            .list_tenants()
            .await?
            .into_iter()
            .filter(|t| t.name == name)
            .map(|t| t.id)
            .collect())
    }

    /// `POST {prefix}/msptenants`: 200 or 201, with the created document (its id)
    /// or an empty body (None: look the id up by name).
    pub async fn create_tenant(
        &self,
        body: &wire::TenantBody,
        ctx: &WriteCtx,
    ) -> Result<Option<String>, ProviderError> {
        let body = serde_json::to_value(body)
            .map_err(|e| self.other(format!("cannot encode the tenant: {e}")))?;
        let call = Self::write(Method::POST, self.path("/msptenants"), body);
        let answer = self
            .transport
            .send(&call, self.auth.as_ref(), Some(ctx))
            .await?;
        // A body that is not JSON still means success: the id is looked up by name.
        let value = answer.json(self.key(), &call.name()).unwrap_or(Value::Null);
        let doc = match &value {
            Value::Object(o) if o.len() == 1 => o.values().next().cloned().unwrap_or(Value::Null),
            other => other.clone(),
        };
        Ok([&value, &doc]
            .iter()
            .find_map(|v| v.as_object().and_then(wire::id_of)))
    }

    /// `PUT {prefix}/msppartners/{id}`; the echoed document (`null` when empty).
    async fn put_to(&self, id: &str, doc: &Value, ctx: &WriteCtx) -> Result<Value, ProviderError> {
        let path = self.path(&format!("/msppartners/{}", encode(id)));
        let call = Self::write(Method::PUT, path, doc.clone());
        let answer = self
            .transport
            .send(&call, self.auth.as_ref(), Some(ctx))
            .await?;
        Ok(answer.json(self.key(), &call.name()).unwrap_or(Value::Null))
    }

    /// `PUT {prefix}/msppartners/{custId}` with the whole partner document; returns
    /// the echoed document (`null` when the body is empty). When the account turns
    /// out to want the MSP's own id in the path (`msp_id` configured), that is used.
    pub async fn put_partner(
        &self,
        partner_id: &str,
        doc: &Value,
        ctx: &WriteCtx,
    ) -> Result<Value, ProviderError> {
        let via_msp = self.put_via_msp.load(Ordering::Relaxed);
        let id = match (&self.settings.msp_id, via_msp) {
            (Some(msp), true) => msp.as_str(),
            _ => partner_id,
        };
        match (self.put_to(id, doc, ctx).await, &self.settings.msp_id) {
            (Ok(echo), _) => Ok(echo),
            (Err(e), Some(msp)) if e.status() == Some(404) && !via_msp => {
                tracing::info!(provider = %self.key(), "the partner PUT by partner id answered 404; trying the MSP id in the path");
                let echo = self.put_to(msp, doc, ctx).await?;
                self.put_via_msp.store(true, Ordering::Relaxed);
                Ok(echo)
            }
            (Err(e), None) if e.status() == Some(404) => Err(self.other(format!(
                    "{e} (if this account expects the MSP's own id in the path of the partner PUT, set msp_id = \"Msp-tenantid-…\" in the provider)"
                ))),
            (Err(e), _) => Err(e),
        }
    }
}

/// Percent-encodes a path segment (ids are alphanumeric with `-`, but be safe).
fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(
            encode("MspPartner-tenantid-YLp4lKdq8n6nQNXf"),
            "MspPartner-tenantid-YLp4lKdq8n6nQNXf"
        );
        assert_eq!(encode("a/b c"), "a%2Fb%20c");
    }
}
