//! AudioCodes Live Platform wire types, as the client reads and writes them.
//! Lenient on input: GET answers are PascalCase but their site items camelCase,
//! the create answer is camelCase, so every key is matched case-insensitively
//! (keys are lower-cased before decoding); ids and numbers may come as strings
//! or numbers; unknown fields are ignored; a bare array or a wrapped one is read.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// Lower-cases every object key, recursively.
pub fn lower_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_lowercase(), lower_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(lower_keys).collect()),
        other => other,
    }
}

type Map = serde_json::Map<String, Value>;

/// The first of `keys` (lower case) present and not null.
fn pick<'a>(map: &'a Map, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .find_map(|k| map.get(*k).filter(|v| !v.is_null()))
}

/// A string, number or bool as a string (`""` is none).
fn text(map: &Map, keys: &[&str]) -> Option<String> {
    match pick(map, keys)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number or numeric string as an integer.
fn int(map: &Map, keys: &[&str]) -> Option<i64> {
    match pick(map, keys)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An array of objects (a single object is a one-item array).
fn objects<'a>(map: &'a Map, keys: &[&str]) -> Vec<&'a Map> {
    match pick(map, keys) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(o)) => vec![o],
        _ => Vec::new(),
    }
}

/// Ids as strings, whatever their JSON type (the doc says integer, the example GUIDs).
fn ids(map: &Map, keys: &[&str]) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match pick(map, keys) {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(v) => one(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// One customer of `GET /api/v3/customer?allDetails=true`. `Id`/`ShortName`/
/// `FullName` (the v2 spellings of the same fields) are read too.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub guid: Option<String>,
    pub short_name: Option<String>,
    pub full_name: Option<String>,
    pub ms_tenant_id: Option<String>,
    pub sites: Vec<Site>,
}

/// A site location item.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    pub id: Option<String>,
    pub name: Option<String>,
    pub sbc_id: Option<i64>,
    /// A string such as `"Deployed"`; some endpoints give integers whose meaning is undocumented.
    pub state: Option<Value>,
}

impl Customer {
    fn from_map(m: &Map) -> Customer {
        Customer {
            guid: text(m, &["umpcustomerguid", "customerguid", "id"]),
            short_name: text(m, &["customershortname", "shortname"]),
            full_name: text(m, &["customerfullname", "fullname"]),
            ms_tenant_id: text(m, &["mstenantid"]),
            sites: objects(m, &["sitelocation", "sitelocations"])
                .into_iter()
                .map(|s| Site {
                    id: text(s, &["id", "sitelocationid", "sitelocationguid"]),
                    name: text(s, &["name", "sitename", "sitelocationname"]),
                    sbc_id: int(s, &["sbcid"]),
                    state: pick(s, &["sbcdeploymentstate"]).cloned(),
                })
                .collect(),
        }
    }
}

/// The customer list: a bare array as documented, or an object wrapping one.
pub fn customers(body: Value) -> Option<Vec<Customer>> {
    let items = match lower_keys(body) {
        Value::Array(items) => items,
        Value::Object(map) => {
            let wrapped = ["customers", "value", "items", "data", "result"]
                .iter()
                .find_map(|k| match map.get(*k) {
                    Some(Value::Array(a)) => Some(a.clone()),
                    _ => None,
                });
            wrapped?
        }
        // An empty body is no answer, not an empty account.
        _ => return None,
    };
    Some(
        items
            .iter()
            .filter_map(Value::as_object)
            .map(Customer::from_map)
            .collect(),
    )
}

/// The answer of `POST /api/v2/customer`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Created {
    pub id: Option<String>,
    pub customer_id: Option<String>,
    pub site_location_ids: Vec<String>,
    pub deployment_state: Option<String>,
    pub error_details: Option<String>,
    pub progress_details: Option<String>,
}

impl Created {
    pub fn from_value(v: Value) -> Created {
        let v = lower_keys(v);
        let Some(m) = v.as_object() else {
            return Created::default();
        };
        Created {
            id: text(m, &["id", "umpcustomerguid", "customerguid"]),
            customer_id: text(m, &["customerid"]),
            site_location_ids: ids(m, &["sitelocationids"]),
            deployment_state: text(m, &["deploymentstate"]),
            error_details: text(m, &["errordetails"]),
            progress_details: text(m, &["progressdetails"]),
        }
    }

    /// Deployed, or (when the state is missing) no error reported.
    pub fn deployed(&self) -> bool {
        match &self.deployment_state {
            Some(s) => s.eq_ignore_ascii_case(DEPLOYED),
            None => self.error_details.is_none(),
        }
    }
}

/// The one documented successful deployment state.
pub const DEPLOYED: &str = "Deployed";

/// `siteLocation` of the create body: an object, as in the example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SiteBody {
    pub sbc_id: u64,
    pub sbc_onboarding_script: u64,
    pub sbc_cleanup_script: u64,
}

/// The body of `POST /api/v2/customer`. Holds resolved secrets: never log it.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    pub short_name: String,
    pub full_name: String,
    pub site_location: SiteBody,
    pub ovoc_customer_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms_tenant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lc_customer_id: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub script_parameters: BTreeMap<String, String>,
}

impl std::fmt::Debug for CreateBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateBody")
            .field("short_name", &self.short_name)
            .field("script_parameters", &self.script_parameters.keys())
            .finish_non_exhaustive()
    }
}

/// The token endpoint's answer (Entra v2 gives `expires_in` as a number, v1 as a string).
#[derive(Debug, PartialEq)]
pub struct Token {
    pub access_token: String,
    pub expires_in: Option<i64>,
}

impl Token {
    pub fn from_value(v: Value) -> Option<Token> {
        let v = lower_keys(v);
        let m = v.as_object()?;
        Some(Token {
            access_token: text(m, &["access_token"])?,
            expires_in: int(m, &["expires_in"]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_list_is_read_in_pascal_case_with_camel_case_sites() {
        let body = json!([{
            "UmpCustomerGuid": "b38e5a04-6d32-4be8-95bb-53bf7d6fa95c",
            "CustomerShortName": "SaraTest1",
            "CustomerFullName": "SaraTest1",
            "LicenseType": 0,
            "MsTenantId": "4BF50A33-A383-4D3F-9403-220C898BC1B2",
            "SiteLocation": [{"id": "2205294f", "name": "SaraTest1", "sbcId": "5", "sbcDeploymentState": "Deployed", "sbcConfigurationType": "SipTrunk"}]
        }]);
        let list = customers(body).unwrap();
        assert_eq!(list.len(), 1);
        let c = &list[0];
        assert_eq!(c.short_name.as_deref(), Some("SaraTest1"));
        assert_eq!(
            c.guid.as_deref(),
            Some("b38e5a04-6d32-4be8-95bb-53bf7d6fa95c")
        );
        assert_eq!(c.sites[0].sbc_id, Some(5));
        assert_eq!(c.sites[0].state, Some(json!("Deployed")));
    }

    #[test]
    fn wrapped_lists_v2_spellings_and_nulls_are_tolerated() {
        let body = json!({"customers": [{"Id": "g1", "ShortName": "A1c", "FullName": null, "SiteLocation": null}]});
        let list = customers(body).unwrap();
        assert_eq!(list[0].guid.as_deref(), Some("g1"));
        assert_eq!(list[0].short_name.as_deref(), Some("A1c"));
        assert!(list[0].sites.is_empty());
        // Both spellings at once are no error: the documented one wins.
        let both = customers(
            json!([{"UmpCustomerGuid": "g2", "Id": "other", "CustomerShortName": "Abc"}]),
        )
        .unwrap();
        assert_eq!(both[0].guid.as_deref(), Some("g2"));
        assert!(customers(json!("nonsense")).is_none());
        assert!(customers(json!({"error": "x"})).is_none());
        assert_eq!(customers(json!([])).unwrap().len(), 0);
        assert!(customers(Value::Null).is_none());
    }

    #[test]
    fn the_create_answer_is_read_whatever_the_id_types() {
        let c = Created::from_value(json!({
            "id": "b38e5a04", "customerId": "SaraTest1", "siteLocationIds": [7, "2205294f"],
            "deploymentState": "Deployed", "errorDetails": null, "progressDetails": "(Information, x)"
        }));
        assert!(c.deployed());
        assert_eq!(c.id.as_deref(), Some("b38e5a04"));
        assert_eq!(c.site_location_ids, ["7", "2205294f"]);
        let failed = Created::from_value(
            json!({"id": "x", "deploymentState": "Failed", "errorDetails": "SBC unreachable"}),
        );
        assert!(!failed.deployed());
        assert!(!Created::from_value(json!({"errorDetails": "boom"})).deployed());
        assert!(Created::from_value(json!({"id": "y"})).deployed());
        let t = Token::from_value(
            json!({"token_type": "Bearer", "expires_in": "3599", "access_token": "abc"}),
        )
        .unwrap();
        assert_eq!(t.expires_in, Some(3599));
        assert!(Token::from_value(json!({"error": "unauthorized_client"})).is_none());
    }

    #[test]
    fn the_create_body_uses_the_example_spelling_and_never_debugs_secrets() {
        let body = CreateBody {
            short_name: "Acme".into(),
            full_name: "AcmeCorp".into(),
            site_location: SiteBody {
                sbc_id: 5,
                sbc_onboarding_script: 10007,
                sbc_cleanup_script: 10700,
            },
            ovoc_customer_type: "IPGROUP_TYPE".into(),
            ms_tenant_id: None,
            channel_id: None,
            lc_customer_id: None,
            script_parameters: [(
                "CarrierUserPassword".to_string(),
                "s3cret-value".to_string(),
            )]
            .into(),
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(
            v,
            json!({"shortName": "Acme", "fullName": "AcmeCorp",
                "siteLocation": {"sbcId": 5, "sbcOnboardingScript": 10007, "sbcCleanupScript": 10700},
                "ovocCustomerType": "IPGROUP_TYPE",
                "scriptParameters": {"CarrierUserPassword": "s3cret-value"}})
        );
        assert!(!format!("{body:?}").contains("s3cret-value"));
    }
}
