//! The documented calls mspform uses, one function each (vendor-apis.md §4.2):
//! `GET /api/v3/customer?allDetails=true`, `POST /api/v2/customer`,
//! `DELETE /api/v2/customer/{guid}`.

use reqwest::Method;
use serde_json::Value;

use super::Client;
use super::wire::{self, CreateBody, Created};
use crate::vendor::VendorClient;
use crate::vendor::http::{ProviderError, WriteCtx, snippet};
use crate::vendor::transport::Call;

pub const LIST: &str = "/api/v3/customer";
pub const CREATE: &str = "/api/v2/customer";

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Deleted,
    /// 404 with the documented "not found" body: gone before we asked.
    AlreadyGone,
}

/// The documented 404 body is a JSON string (`"Customer with <id> not found"`);
/// a problem object saying "not found" is taken the same way. Anything else
/// (an HTML page, an empty body) is a wrong URL, not a missing customer.
pub fn is_not_found_body(body: &str) -> bool {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::String(_)) => true,
        Ok(Value::Object(map)) => map.values().any(|v| {
            v.as_str()
                .is_some_and(|s| s.to_lowercase().contains("not found"))
        }),
        _ => false,
    }
}

impl Client {
    /// Every customer, with its site locations. One call: the list is not paged.
    pub(super) async fn list_customers(&self) -> Result<Vec<wire::Customer>, ProviderError> {
        let call = Call::get(LIST).query("allDetails", "true");
        let answer = self.transport.send(&call, self.auth.as_ref(), None).await?;
        let body = answer.json(self.key(), &call.name())?;
        wire::customers(body).ok_or_else(|| {
            self.undecodable(
                call.name(),
                format!(
                    "expected an array of customers; body: {}",
                    self.scrub(&snippet(&answer.text), &[])
                ),
            )
        })
    }

    /// Creates an Essentials customer with its site. Synchronous and slow: sent
    /// once (never retried by the transport), with `create_timeout_secs`.
    /// `secrets` are the resolved script secrets in `body`: scrubbed from errors.
    pub(super) async fn create_customer(
        &self,
        body: &CreateBody,
        secrets: &[String],
        ctx: &WriteCtx,
    ) -> Result<Created, ProviderError> {
        let json = serde_json::to_value(body)
            .map_err(|e| self.other(format!("cannot encode the create body: {e}")))?;
        let call = Call::new(Method::POST, CREATE).json(json);
        let transport = self.create_transport(secrets)?;
        // The vendor answers only once it onboarded the SBC: that is the wait.
        let _waiting = crate::vendor::wait_for(
            "AudioCodes to onboard the SBC and answer the create",
            std::time::Duration::from_secs(self.settings.create_timeout_secs),
        );
        let result = transport.send(&call, self.auth.as_ref(), Some(ctx)).await;
        self.count_create(&transport);
        let answer = result?;
        let value = serde_json::from_str::<Value>(&answer.text).unwrap_or(Value::Null);
        let mut created = Created::from_value(value);
        // What the vendor reports is shown in errors: keep secrets out of it.
        created.error_details = created.error_details.map(|t| self.scrub(&t, secrets));
        created.progress_details = created.progress_details.map(|t| self.scrub(&t, secrets));
        Ok(created)
    }

    /// Deletes a customer and its site locations. Idempotent: a 404 with the
    /// documented body means it is already gone.
    pub(super) async fn delete_customer(
        &self,
        guid: &str,
        ctx: &WriteCtx,
    ) -> Result<Deleted, ProviderError> {
        let call = Call::new(Method::DELETE, format!("{CREATE}/{guid}"));
        match self
            .transport
            .send(&call, self.auth.as_ref(), Some(ctx))
            .await
        {
            Ok(_) => Ok(Deleted::Deleted),
            Err(ProviderError::Http {
                status: 404, body, ..
            }) if is_not_found_body(&body) => Ok(Deleted::AlreadyGone),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_vendor_not_found_counts_as_gone() {
        assert!(is_not_found_body("\"Customer with b38e not found\""));
        assert!(is_not_found_body(
            r#"{"type":"x","title":"Not Found","status":404}"#
        ));
        assert!(!is_not_found_body(""));
        assert!(!is_not_found_body("<html>404</html>"));
        assert!(!is_not_found_body(r#"{"status":404}"#));
    }
}
