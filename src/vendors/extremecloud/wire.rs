//! ExtremeCloud's wire format, read leniently: ids in `custId` (or `id`), numbers
//! where strings are expected, unknown fields ignored, `null` for anything. A
//! partner keeps the whole document as read, because its PUT must send it back
//! with every field. Pure.

use serde::Serialize;
use serde_json::{Map, Value};

/// A string field, tolerating numbers and booleans; `null`, missing or empty → None.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The first of `keys` that holds a usable string.
fn first(obj: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| text(obj.get(*k)))
}

/// An object's vendor id: `custId`, else `id` (null in every documented sample).
pub fn id_of(obj: &Map<String, Value>) -> Option<String> {
    first(obj, &["custId", "custID", "id", "tenantId"])
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub email: String,
    pub name: String,
    pub phone: String,
}

/// An MSP tenant (end customer) as `GET …/msptenants` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    /// Upper case as read.
    pub country: String,
    pub time_zone: String,
    pub contact: Contact,
    /// `userId`, the first power admin: null in the documented samples; some
    /// accounts echo it. Never compared (it cannot change); `import` uses it.
    pub user_id: Option<String>,
}

/// A partner as `GET …/msppartners` shows it, with the document kept whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub id: String,
    pub name: String,
    /// Tenant ids, in the vendor's order.
    pub tenants: Vec<String>,
    pub doc: Value,
}

/// A live object found by its exact name (tenants and partners alike).
pub trait Named {
    fn id(&self) -> &str;
    fn name(&self) -> &str;
}

impl Named for Tenant {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for Partner {
    fn id(&self) -> &str {
        &self.id
    }
    fn name(&self) -> &str {
        &self.name
    }
}

pub fn tenant(v: &Value) -> Option<Tenant> {
    let obj = v.as_object()?;
    let contact = obj
        .get("mspContact")
        .and_then(Value::as_object)
        .map(|c| Contact {
            email: first(c, &["contactEmail", "email"]).unwrap_or_default(),
            name: first(c, &["contactName", "name"]).unwrap_or_default(),
            phone: first(c, &["contactPhoneNumber", "phone", "phoneNumber"]).unwrap_or_default(),
        })
        .unwrap_or_default();
    Some(Tenant {
        id: id_of(obj)?,
        name: first(obj, &["accountName", "name"]).unwrap_or_default(),
        country: first(obj, &["country"])
            .unwrap_or_default()
            .to_ascii_uppercase(),
        time_zone: first(obj, &["timeZone", "timezone"]).unwrap_or_default(),
        contact,
        user_id: first(obj, &["userId", "userID"]),
    })
}

/// The tenant ids of a partner document: strings (documented), numbers, or
/// objects carrying an id.
pub fn tenant_ids(v: Option<&Value>) -> Vec<String> {
    let Some(Value::Array(items)) = v else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Object(o) => id_of(o),
            other => text(Some(other)),
        })
        .collect()
}

pub fn partner(v: &Value) -> Option<Partner> {
    let obj = v.as_object()?;
    Some(Partner {
        id: id_of(obj)?,
        name: first(obj, &["accountName", "name"]).unwrap_or_default(),
        tenants: tenant_ids(obj.get("tenants")),
        doc: v.clone(),
    })
}

/// The items of a list answer: a bare array (documented), or an object wrapping
/// exactly one array (`{"data":[…]}` and the like). None when it is neither.
pub fn items(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Array(items) => Some(items),
        Value::Object(obj) => {
            let arrays: Vec<&Vec<Value>> = obj.values().filter_map(Value::as_array).collect();
            match arrays.as_slice() {
                [one] => Some(one),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `GET …/msptenants/nametoidmap` as (name, id) pairs. Tolerates
/// `{"<name>":"<id>"}` (assumed), `{"<name>":["<id>",…]}`, an array of objects
/// (`{accountName, custId}` or similar), an array of `[name, id]` pairs, and any of
/// these wrapped in a one-key object. None when nothing can be read from it.
pub fn name_to_id(v: &Value) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    match v {
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(o) => {
                        let name = first(o, &["accountName", "name", "tenantName", "key"]);
                        let id = id_of(o).or_else(|| first(o, &["value"]));
                        if let (Some(name), Some(id)) = (name, id) {
                            out.push((name, id));
                        }
                    }
                    Value::Array(pair) if pair.len() == 2 => {
                        if let (Some(name), Some(id)) = (text(pair.first()), text(pair.get(1))) {
                            out.push((name, id));
                        }
                    }
                    _ => {}
                }
            }
            if out.is_empty() && !items.is_empty() {
                return None;
            }
        }
        Value::Object(obj) => {
            let nested: Vec<&Value> = obj
                .values()
                .filter(|v| v.is_object() || v.is_array())
                .collect();
            let flat = obj.values().all(|v| !v.is_object());
            if obj.len() == 1 && nested.len() == 1 && !is_id_list(nested[0]) {
                return name_to_id(nested[0]);
            }
            if !flat {
                return None;
            }
            for (name, value) in obj {
                match value {
                    Value::Array(ids) => {
                        out.extend(
                            ids.iter()
                                .filter_map(|id| text(Some(id)))
                                .map(|id| (name.clone(), id)),
                        );
                    }
                    other => {
                        if let Some(id) = text(Some(other)) {
                            out.push((name.clone(), id));
                        }
                    }
                }
            }
        }
        _ => return None,
    }
    Some(out)
}

/// An array of plain ids (the value of one name in `{"<name>":["<id>",…]}`).
fn is_id_list(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x.is_string() || x.is_number()))
}

/// The token endpoint's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub access_token: String,
    /// Seconds.
    pub expires_in: Option<u64>,
    /// Seconds a token may stay unused.
    pub idle_timeout: Option<u64>,
    pub refresh_token: Option<String>,
}

fn seconds(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub fn token(v: &Value) -> Option<Token> {
    let obj = v.as_object()?;
    Some(Token {
        access_token: first(obj, &["access_token", "accessToken"])?,
        expires_in: seconds(obj.get("expires_in").or_else(|| obj.get("expiresIn"))),
        idle_timeout: seconds(obj.get("idle_timeout").or_else(|| obj.get("idleTimeout"))),
        refresh_token: first(obj, &["refresh_token", "refreshToken"]),
    })
}

/// `mspContact` of a create body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactBody {
    pub contact_email: String,
    pub contact_name: String,
    pub contact_phone_number: String,
}

/// `POST …/msptenants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantBody {
    pub account_name: String,
    pub country: String,
    pub time_zone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msp_contact: Option<ContactBody>,
    pub user_id: String,
}

/// The partner document to PUT: the document as read, with `tenants` replaced.
pub fn partner_with_tenants(doc: &Value, tenants: &[String]) -> Value {
    let mut doc = doc.clone();
    if let Value::Object(obj) = &mut doc {
        obj.insert(
            "tenants".into(),
            Value::Array(tenants.iter().cloned().map(Value::String).collect()),
        );
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tenants_are_read_leniently() {
        let t = tenant(&json!({"custId": "MspEndCustomer-tenantid-A", "id": null, "accountName": "Acme",
            "country": "nl", "timeZone": "Europe/Amsterdam", "userId": null, "extra": [1],
            "mspContact": {"custId": null, "id": null, "contactEmail": "a@b.example", "contactName": "N", "contactPhoneNumber": null}}))
        .unwrap();
        assert_eq!(t.id, "MspEndCustomer-tenantid-A");
        assert_eq!(t.country, "NL");
        assert_eq!(t.contact.phone, "");
        assert_eq!(t.user_id, None);
        let t = tenant(&json!({"custId": null, "id": 42, "accountName": "X", "mspContact": null, "userId": "a@x.example"}))
            .unwrap();
        assert_eq!(t.user_id.as_deref(), Some("a@x.example"));
        assert_eq!(t.id, "42");
        assert_eq!(t.contact, Contact::default());
        assert!(tenant(&json!({"custId": null, "id": null, "accountName": "X"})).is_none());
    }

    #[test]
    fn partner_tenants_as_strings_numbers_or_objects() {
        let p = partner(&json!({"custId": "P1", "accountName": "Partner", "tenants": ["T1", 2, {"custId": "T3"}]})).unwrap();
        assert_eq!(p.tenants, ["T1", "2", "T3"]);
        let p =
            partner(&json!({"custId": "P1", "accountName": "Partner", "tenants": null})).unwrap();
        assert!(p.tenants.is_empty());
    }

    #[test]
    fn list_answers_bare_or_wrapped() {
        assert_eq!(items(&json!([1, 2])).unwrap().len(), 2);
        assert_eq!(items(&json!({"data": [1], "total": 1})).unwrap().len(), 1);
        assert!(items(&json!({"a": [1], "b": [2]})).is_none());
        assert!(items(&Value::Null).is_none());
    }

    #[test]
    fn name_to_id_shapes() {
        let want = vec![("Acme".to_string(), "T1".to_string())];
        assert_eq!(name_to_id(&json!({"Acme": "T1"})), Some(want.clone()));
        assert_eq!(
            name_to_id(&json!([{"accountName": "Acme", "custId": "T1"}])),
            Some(want.clone())
        );
        assert_eq!(
            name_to_id(&json!([{"name": "Acme", "id": "T1"}])),
            Some(want.clone())
        );
        assert_eq!(name_to_id(&json!([["Acme", "T1"]])), Some(want.clone()));
        assert_eq!(
            name_to_id(&json!({"data": {"Acme": "T1"}})),
            Some(want.clone())
        );
        assert_eq!(
            name_to_id(&json!({"nameToIdMap": [{"accountName": "Acme", "custId": "T1"}]})),
            Some(want.clone())
        );
        assert_eq!(name_to_id(&json!({"Acme": ["T1"]})), Some(want));
        assert_eq!(
            name_to_id(&json!({"Acme": ["T1", "T2"], "B": "T3"}))
                .unwrap()
                .len(),
            3
        );
        assert_eq!(name_to_id(&json!({})), Some(vec![]));
        assert_eq!(name_to_id(&json!([])), Some(vec![]));
        assert_eq!(name_to_id(&json!([{"foo": 1}])), None);
        assert_eq!(name_to_id(&json!("nope")), None);
        assert_eq!(name_to_id(&json!({"a": {"b": 1}, "c": "d"})), None);
    }

    #[test]
    fn tokens() {
        let t = token(&json!({"access_token": "A", "token_type": "Bearer", "expires_in": 7200, "idle_timeout": "3600", "refresh_token": "R"})).unwrap();
        assert_eq!(t.expires_in, Some(7200));
        assert_eq!(t.idle_timeout, Some(3600));
        assert_eq!(t.refresh_token.as_deref(), Some("R"));
        assert!(token(&json!({"token_type": "Bearer"})).is_none());
    }

    #[test]
    fn a_put_keeps_every_field_of_the_document() {
        let doc = json!({"custId": "P1", "id": null, "accountName": "P", "userId": null, "entitlements": [{"entitlementId": "E"}], "tenants": ["A"], "x": 1});
        let out = partner_with_tenants(&doc, &["B".to_string()]);
        assert_eq!(out["tenants"], json!(["B"]));
        assert_eq!(out["entitlements"], doc["entitlements"]);
        assert_eq!(out["x"], 1);
        assert_eq!(out["userId"], Value::Null);
    }

    #[test]
    fn create_body_is_camel_case() {
        let body = TenantBody {
            account_name: "Acme".into(),
            country: "NL".into(),
            time_zone: "Europe/Amsterdam".into(),
            msp_contact: Some(ContactBody {
                contact_email: "a@b.example".into(),
                contact_name: "N".into(),
                contact_phone_number: "".into(),
            }),
            user_id: "admin@acme.example".into(),
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(v["accountName"], "Acme");
        assert_eq!(v["timeZone"], "Europe/Amsterdam");
        assert_eq!(v["mspContact"]["contactPhoneNumber"], "");
        assert_eq!(v["userId"], "admin@acme.example");
    }
}
