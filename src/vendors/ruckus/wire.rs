//! RUCKUS One wire types (vendor-apis.md §3), parsed leniently: unknown fields are
//! ignored, numbers may arrive as strings and strings as numbers (the seed's own
//! examples do both), key spellings vary between endpoints (`totalCount` /
//! `total`, `tenantId` / `tenant_id` / `id`). Pure data and parsing; no I/O.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Any scalar as text: strings as they are, numbers and booleans written out,
/// `null` (and objects/arrays) as `None`.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A non-empty trimmed text value.
fn nonempty(v: Option<&Value>) -> Option<String> {
    v.and_then(text)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(text(&Value::deserialize(d)?))
}

/// The first of several spellings of one key.
fn first<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .find_map(|k| obj.get(*k).filter(|v| !v.is_null()))
}

/// A count that may be a number or a numeric string.
pub fn count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Token {
    pub access_token: String,
    /// Seconds; absent or unreadable → the default lifetime.
    #[serde(default, deserialize_with = "lenient_string")]
    pub expires_in: Option<String>,
}

/// The EC view of `GET /tenants/{id}` (snake_case), every field optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct EcView {
    #[serde(default, deserialize_with = "lenient_string")]
    pub tenant_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub street_address: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub postal_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub phone_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub fax_number: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub mapping_url: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub service_effective_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub service_expiration_date: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub tier: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub tenant_type: Option<String>,
    #[serde(default, rename = "privacyFeatures")]
    pub privacy_features: Option<Value>,
}

/// The EC view fields a query row may carry, as (row key, view key). The
/// fact sheet (§3.4) lists `streetAddress` among the rows' fields and the
/// body's `fields` picks what a row holds; whether the other view fields can
/// be asked for is not documented [assumed], so a row is read for what it
/// carries and the rest comes from `GET /tenants/{id}`.
pub const ROW_DETAIL: [(&str, &str); 11] = [
    ("streetAddress", "street_address"),
    ("city", "city"),
    ("state", "state"),
    ("country", "country"),
    ("postalCode", "postal_code"),
    ("phoneNumber", "phone_number"),
    ("faxNumber", "fax_number"),
    ("mappingUrl", "mapping_url"),
    ("serviceEffectiveDate", "service_effective_date"),
    ("serviceExpirationDate", "service_expiration_date"),
    ("tier", "tier"),
];
/// The row key of the EC's privacy features (sent back unchanged by an update).
pub const ROW_PRIVACY: &str = "privacyFeatures";

/// One row of a query answer (camelCase), or an EC view of the legacy list.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub tenant_type: Option<String>,
    /// The EC view fields the row carried (view keys of [`ROW_DETAIL`], and
    /// `privacyFeatures`), a `null` included: `detail` holds their values.
    pub carried: BTreeSet<&'static str>,
    pub detail: EcView,
}

impl Row {
    pub fn from_value(v: &Value) -> Option<Row> {
        let obj = v.as_object()?;
        let mut carried = BTreeSet::new();
        let mut view = Map::new();
        for (row_key, view_key) in ROW_DETAIL {
            if let Some(val) = obj.get(row_key).or_else(|| obj.get(view_key)) {
                carried.insert(view_key);
                view.insert(view_key.to_string(), val.clone());
            }
        }
        if let Some(val) = obj.get(ROW_PRIVACY) {
            carried.insert(ROW_PRIVACY);
            view.insert(ROW_PRIVACY.to_string(), val.clone());
        }
        let detail = serde_json::from_value(Value::Object(view)).unwrap_or_default();
        Some(Row {
            id: nonempty(first(obj, &["id", "tenantId", "tenant_id"]))?,
            name: first(obj, &["name", "tenantName"])
                .and_then(text)
                .unwrap_or_default(),
            tenant_type: nonempty(first(obj, &["tenantType", "tenant_type"])),
            carried,
            detail,
        })
    }

    /// Whether the row carries every field an update sends back (it can stand
    /// in for `GET /tenants/{id}`).
    pub fn complete(&self) -> bool {
        ROW_DETAIL.iter().all(|(_, k)| self.carried.contains(k))
            && self.carried.contains(ROW_PRIVACY)
    }
}

/// One page of a query answer: `{"data":[…], "totalCount"|"total": n, "page": n}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub rows: Vec<Value>,
    pub total: Option<u64>,
    /// The page number the server says it answered.
    pub page: Option<u64>,
}

impl Page {
    pub fn from_value(v: &Value) -> Option<Page> {
        match v {
            // Tolerated: a bare array is the whole answer.
            Value::Array(rows) => Some(Page {
                rows: rows.clone(),
                total: Some(rows.len() as u64),
                page: None,
            }),
            Value::Object(obj) => {
                let rows = first(obj, &["data", "content", "items"])?
                    .as_array()?
                    .clone();
                Some(Page {
                    rows,
                    total: first(obj, &["totalCount", "total", "totalElements"]).and_then(count),
                    page: obj.get("page").and_then(count),
                })
            }
            _ => None,
        }
    }
}

/// `{requestId, tenantId}` of a 202 (or 200) answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accepted {
    pub request_id: Option<String>,
    pub tenant_id: Option<String>,
}

impl Accepted {
    pub fn from_value(v: &Value) -> Accepted {
        let Some(obj) = v.as_object() else {
            return Accepted::default();
        };
        Accepted {
            request_id: nonempty(first(obj, &["requestId", "request_id", "id"])),
            tenant_id: nonempty(first(obj, &["tenantId", "tenant_id"])),
        }
    }

    /// The `data` items of a batch create answer, in input order. Tolerated: a
    /// bare array, or a single object for a one-item batch.
    pub fn list(v: &Value) -> Vec<Accepted> {
        let items = match v {
            Value::Array(a) => a.clone(),
            Value::Object(obj) => match obj.get("data") {
                Some(Value::Array(a)) => a.clone(),
                Some(other @ Value::Object(_)) => vec![other.clone()],
                _ => vec![v.clone()],
            },
            _ => Vec::new(),
        };
        items.iter().map(Accepted::from_value).collect()
    }
}

/// Where an activity stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityStatus {
    Success,
    /// With the activity's message, when it has one.
    Fail(String),
    /// Any other status (the non-terminal values are not documented).
    Pending(String),
}

impl ActivityStatus {
    pub fn from_value(v: &Value) -> ActivityStatus {
        let obj = v.as_object();
        let field = |keys: &[&str]| obj.and_then(|o| nonempty(first(o, keys)));
        let status = field(&["status", "state"]).unwrap_or_default();
        match status.to_ascii_uppercase().as_str() {
            "SUCCESS" => ActivityStatus::Success,
            "FAIL" => {
                let message = field(&["message", "error", "detail", "description"])
                    .or_else(|| {
                        obj.and_then(|o| o.get("errors"))
                            .and_then(|e| e.as_array())
                            .and_then(|e| e.first())
                            .and_then(|e| e.as_object())
                            .and_then(|e| nonempty(first(e, &["message", "code"])))
                    })
                    .unwrap_or_else(|| "no message given".to_string());
                ActivityStatus::Fail(message)
            }
            "" => ActivityStatus::Pending("(no status)".into()),
            _ => ActivityStatus::Pending(status),
        }
    }
}

/// The EC ids of a tech partner's assignment read. Tolerated shapes: an object
/// with `mspec_list` (or `mspecList`, `mspEcList`, `data`, `tenants`), a bare
/// array, and items that are ids or objects carrying `id`, `tenant_id`,
/// `tenantId` or `mspec_id`. `None` when no list can be found.
pub fn assigned_ids(v: &Value) -> Option<Vec<String>> {
    let items = match v {
        Value::Array(a) => a,
        Value::Object(obj) => first(
            obj,
            &[
                "mspec_list",
                "mspecList",
                "mspEcList",
                "mspec_ids",
                "assignedMspEcList",
                "data",
                "tenants",
            ],
        )?
        .as_array()?,
        Value::Null => return Some(Vec::new()),
        _ => return None,
    };
    let mut ids: Vec<String> = Vec::new();
    for item in items {
        let id = match item {
            Value::Object(o) => nonempty(first(
                o,
                &[
                    "id",
                    "tenant_id",
                    "tenantId",
                    "mspec_id",
                    "mspecId",
                    "delegatedBy",
                ],
            )),
            other => nonempty(Some(other)),
        };
        if let Some(id) = id
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    Some(ids)
}

/// One administrator of an EC's administrator list, as far as it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// As listed (not lower-cased).
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

fn admin_items(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Array(a) => Some(a),
        Value::Object(obj) => first(obj, &["data", "content", "admins", "items"])?.as_array(),
        _ => None,
    }
}

/// The email addresses (lower case) of an EC's administrator list
/// (`GET /tenants/{id}/admins`). Tolerated shapes: a bare array, or an object with
/// `data` (or `content`, `admins`, `items`); items are objects carrying `email`
/// (or `user_name`, `userName`, `emailAddress`), or plain strings. `None` when no
/// list can be found.
pub fn admin_emails(v: &Value) -> Option<Vec<String>> {
    let mut emails = Vec::new();
    for item in admin_items(v)? {
        let found = match item {
            Value::Object(o) => ["email", "user_name", "userName", "emailAddress", "username"]
                .iter()
                .filter_map(|k| nonempty(o.get(*k)))
                .collect(),
            other => nonempty(Some(other)).into_iter().collect::<Vec<_>>(),
        };
        for e in found {
            let e = e.to_lowercase();
            if !emails.contains(&e) {
                emails.push(e);
            }
        }
    }
    Some(emails)
}

/// The administrators of an EC's administrator list in the order listed, once
/// per email (compared without case), with the names where the list has them.
/// Same tolerated shapes as [`admin_emails`]; `None` when no list can be found.
pub fn admins(v: &Value) -> Option<Vec<Admin>> {
    let mut out: Vec<Admin> = Vec::new();
    for item in admin_items(v)? {
        let (email, first_name, last_name) = match item {
            Value::Object(o) => (
                nonempty(first(
                    o,
                    &["email", "emailAddress", "user_name", "userName", "username"],
                )),
                nonempty(first(o, &["first_name", "firstName"])),
                nonempty(first(o, &["last_name", "lastName"])),
            ),
            other => (nonempty(Some(other)), None, None),
        };
        let Some(email) = email else { continue };
        if !out.iter().any(|a| a.email.eq_ignore_ascii_case(&email)) {
            out.push(Admin {
                email,
                first_name,
                last_name,
            });
        }
    }
    Some(out)
}

/// The calendar day of a vendor date: `2019-09-14 01:12:51Z`,
/// `2019-09-14T01:12:51.805Z`, a bare `2019-09-14`, or epoch seconds/millis.
pub fn day_of(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() >= 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' {
        let day = &s[..10];
        return super::model::parse_day(day).map(|_| day.to_string());
    }
    let n: u64 = s.parse().ok()?;
    let secs = if n > 100_000_000_000 { n / 1000 } else { n };
    let (y, m, d) = crate::clock::civil_from_days((secs / 86_400) as i64);
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn admin_lists_are_read_in_any_shape_and_compared_in_lower_case() {
        let rows = json!([{"id": "1", "email": "IT@Harbor.example", "user_name": "it@harbor.example"},
                          {"userName": "ops@x.example"}, "raw@y.example", {"id": "2"}]);
        assert_eq!(
            admin_emails(&rows).unwrap(),
            ["it@harbor.example", "ops@x.example", "raw@y.example"]
        );
        let wrapped = json!({"data": [{"email": "a@b.example"}], "totalCount": 1});
        assert_eq!(admin_emails(&wrapped).unwrap(), ["a@b.example"]);
        assert_eq!(
            admin_emails(&json!({"data": []})).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(admin_emails(&json!({"error": "x"})), None);
    }

    #[test]
    fn admins_keep_their_names_and_spelling_once_per_email() {
        let rows = json!({"data": [
            {"email": "IT@Harbor.example", "first_name": "Hal", "last_name": "Bor"},
            {"userName": "it@harbor.example", "firstName": "Again"},
            "raw@y.example",
            {"id": "no email"}
        ]});
        assert_eq!(
            admins(&rows).unwrap(),
            [
                Admin {
                    email: "IT@Harbor.example".into(),
                    first_name: Some("Hal".into()),
                    last_name: Some("Bor".into()),
                },
                Admin {
                    email: "raw@y.example".into(),
                    first_name: None,
                    last_name: None,
                },
            ]
        );
        assert_eq!(admins(&json!("x")), None);
    }

    #[test]
    fn ec_views_tolerate_numbers_in_string_fields() {
        let v: EcView = serde_json::from_value(json!({
            "name": "Acme", "street_address": 350, "postal_code": 95089, "is_active": "true",
            "tenant_id": "6173ca160495421c95be47b42b349067", "unknown": {"x": 1}
        }))
        .unwrap();
        assert_eq!(v.street_address.as_deref(), Some("350"));
        assert_eq!(v.postal_code.as_deref(), Some("95089"));
        assert_eq!(v.city, None);
    }

    #[test]
    fn pages_take_either_total_key_and_numbers_as_strings() {
        let p = Page::from_value(&json!({"data": [{"id": "a"}], "totalCount": "7", "page": 0}))
            .unwrap();
        assert_eq!((p.rows.len(), p.total, p.page), (1, Some(7), Some(0)));
        let p = Page::from_value(&json!({"data": [], "total": 3})).unwrap();
        assert_eq!(p.total, Some(3));
        let p = Page::from_value(&json!([{"tenant_id": "x", "name": "X"}])).unwrap();
        assert_eq!(p.total, Some(1));
        assert_eq!(Row::from_value(&p.rows[0]).unwrap().id, "x");
        assert!(Page::from_value(&json!({"nothing": 1})).is_none());
    }

    #[test]
    fn batch_answers_map_in_order_whatever_the_wrapping() {
        let a = Accepted::list(
            &json!({"data": [{"requestId": "r1", "tenantId": "t1"}, {"requestId": "r2"}]}),
        );
        assert_eq!(a[0].tenant_id.as_deref(), Some("t1"));
        assert_eq!(a[1].request_id.as_deref(), Some("r2"));
        assert_eq!(a[1].tenant_id, None);
        assert_eq!(Accepted::list(&json!({"requestId": "r"})).len(), 1);
        assert_eq!(Accepted::list(&json!([{"requestId": "r"}])).len(), 1);
    }

    #[test]
    fn activity_statuses_other_than_success_and_fail_are_pending() {
        assert_eq!(
            ActivityStatus::from_value(&json!({"status": "SUCCESS"})),
            ActivityStatus::Success
        );
        assert_eq!(
            ActivityStatus::from_value(&json!({"status": "FAIL", "message": "nope"})),
            ActivityStatus::Fail("nope".into())
        );
        assert_eq!(
            ActivityStatus::from_value(&json!({"status": "INPROGRESS"})),
            ActivityStatus::Pending("INPROGRESS".into())
        );
        assert!(matches!(
            ActivityStatus::from_value(&json!({})),
            ActivityStatus::Pending(_)
        ));
        assert_eq!(
            ActivityStatus::from_value(&json!({"status": "success"})),
            ActivityStatus::Success
        );
    }

    #[test]
    fn assignment_reads_in_any_documented_or_plausible_shape() {
        let want = Some(vec!["a".to_string(), "b".to_string()]);
        assert_eq!(assigned_ids(&json!({"mspec_list": ["a", "b"]})), want);
        assert_eq!(assigned_ids(&json!(["a", "b", "a"])), want);
        assert_eq!(
            assigned_ids(&json!([{"id": "a"}, {"tenant_id": "b"}])),
            want
        );
        assert_eq!(
            assigned_ids(&json!({"data": [{"tenantId": "a"}, {"id": "b"}]})),
            want
        );
        assert_eq!(assigned_ids(&json!(null)), Some(vec![]));
        assert_eq!(assigned_ids(&json!({"other": 1})), None);
    }

    #[test]
    fn vendor_dates_compare_by_day() {
        assert_eq!(
            day_of("2019-09-14 01:12:51Z").as_deref(),
            Some("2019-09-14")
        );
        assert_eq!(
            day_of("2019-09-14T23:59:59.805Z").as_deref(),
            Some("2019-09-14")
        );
        assert_eq!(day_of("2019-09-14").as_deref(), Some("2019-09-14"));
        assert_eq!(day_of("1568423571000").as_deref(), Some("2019-09-14"));
        assert_eq!(day_of("soon"), None);
    }
}
