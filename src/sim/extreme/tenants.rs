//! ExtremeCloud tenants (end customers), fact sheet §2.2: list, create, the name→id map,
//! and the undocumented single-tenant routes behind `tenant_item_routes`. Also the
//! account-field parsing partners share.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Map, Value, json};

use super::super::Shared;
use super::validate::{self, FieldError};
use super::{
    ApiError, ApiResult, Contact, CreateBody, DuplicateNames, ExtremeState, NameToIdShape,
    TENANT_ID_PREFIX, Tenant, json_status, opt_str, parse_object, req_str,
};

/// The account fields tenants and partners share, validated.
pub(super) struct Fields {
    pub account_name: String,
    /// None: absent (keep on update).
    pub country: Option<String>,
    pub time_zone: Option<String>,
    pub contact: Option<Contact>,
    /// Only on create.
    pub user_id: Option<String>,
}

impl Fields {
    /// An update of an account's fields: the name always, the others when given.
    pub(super) fn update(
        self,
        account_name: &mut String,
        country: &mut String,
        time_zone: &mut String,
        contact: &mut Option<Contact>,
    ) {
        *account_name = self.account_name;
        if let Some(c) = self.country {
            *country = c;
        }
        if let Some(tz) = self.time_zone {
            *time_zone = tz;
        }
        if self.contact.is_some() {
            *contact = self.contact;
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Create,
    Update,
}

fn field_err(status: u16) -> impl Fn(FieldError) -> ApiError {
    move |e| ApiError::field(status, e)
}

fn parse_contact(v: &Value, status: u16) -> Result<Option<Contact>, ApiError> {
    let m = match v {
        Value::Null => return Ok(None),
        Value::Object(m) => m,
        _ => {
            return Err(ApiError::field(
                status,
                FieldError {
                    property: "mspContact",
                    message: "must be an object".into(),
                },
            ));
        }
    };
    let email = req_str(m, "contactEmail", status)?;
    validate::email(&email, "contactEmail").map_err(field_err(status))?;
    let name = req_str(m, "contactName", status)?;
    validate::contact_name(&name).map_err(field_err(status))?;
    let phone = opt_str(m, "contactPhoneNumber", status)?.unwrap_or_default();
    Ok(Some(Contact { email, name, phone }))
}

/// Check the shared account fields of a create or update body.
pub(super) fn parse_fields(
    x: &ExtremeState,
    m: &Map<String, Value>,
    mode: Mode,
) -> Result<Fields, ApiError> {
    let status = x.switches.validation_status;
    let account_name = req_str(m, "accountName", status)?;
    validate::account_name(&account_name).map_err(field_err(status))?;
    let country = match opt_str(m, "country", status)? {
        Some(c) => Some(validate::country(&c).map_err(field_err(status))?),
        None if mode == Mode::Create => return Err(required("country", status)),
        None => None,
    };
    let time_zone = match opt_str(m, "timeZone", status)? {
        Some(tz) => {
            validate::time_zone(&tz).map_err(field_err(status))?;
            Some(tz)
        }
        None if mode == Mode::Create => return Err(required("timeZone", status)),
        None => None,
    };
    let contact = match m.get("mspContact") {
        None => None,
        Some(v) => parse_contact(v, status)?,
    };
    let user_id = if mode == Mode::Create {
        let u = req_str(m, "userId", status)?;
        validate::user_id(&u).map_err(field_err(status))?;
        if x.user_id_taken(&u) {
            return Err(ApiError::field(
                status,
                FieldError {
                    property: "userId",
                    message: format!("{u:?} is already used in ExtremeCloud"),
                },
            ));
        }
        Some(u)
    } else {
        None
    };
    Ok(Fields {
        account_name,
        country,
        time_zone,
        contact,
        user_id,
    })
}

fn required(property: &'static str, status: u16) -> ApiError {
    ApiError::field(
        status,
        FieldError {
            property,
            message: "is required".into(),
        },
    )
}

/// 400 (`validation_status`) when `duplicate_names = "reject"` and another
/// account of the kind (`what`: tenant or partner) has the name (`taken`).
pub(super) fn check_unique(
    x: &ExtremeState,
    what: &str,
    name: &str,
    taken: impl FnOnce() -> bool,
) -> Result<(), ApiError> {
    if x.switches.duplicate_names == DuplicateNames::Reject && taken() {
        return Err(ApiError::field(
            x.switches.validation_status,
            FieldError {
                property: "accountName",
                message: format!("a {what} named {name:?} already exists"),
            },
        ));
    }
    Ok(())
}

fn check_unique_name(x: &ExtremeState, name: &str, self_id: Option<&str>) -> Result<(), ApiError> {
    check_unique(x, "tenant", name, || {
        x.tenants
            .iter()
            .any(|t| t.account_name == name && Some(t.cust_id.as_str()) != self_id)
    })
}

/// The answer to a successful create.
pub(super) fn created(x: &ExtremeState, doc: Value) -> ApiResult {
    let status = x.switches.create_status;
    Ok(match x.switches.create_body {
        CreateBody::Doc => json_status(status, doc),
        CreateBody::Empty => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::CREATED)
            .into_response(),
    })
}

pub(super) async fn list(State(sh): State<Shared>) -> ApiResult {
    let st = sh.lock();
    let x = &st.extreme;
    let docs: Vec<Value> = x.tenants.iter().map(|t| x.tenant_wire(t)).collect();
    Ok(json_status(200, Value::Array(docs)))
}

pub(super) async fn create(State(sh): State<Shared>, body: Bytes) -> ApiResult {
    let m = parse_object(&body)?;
    let mut st = sh.lock();
    let x = &mut st.extreme;
    let f = parse_fields(x, &m, Mode::Create)?;
    check_unique_name(x, &f.account_name, None)?;
    let cust_id = x.new_id(TENANT_ID_PREFIX);
    let t = Tenant {
        cust_id,
        account_name: f.account_name,
        country: f.country.unwrap_or_default(),
        time_zone: f.time_zone.unwrap_or_default(),
        contact: f.contact,
        user_id: f.user_id.unwrap_or_default(),
    };
    let doc = x.tenant_wire(&t);
    x.tenants.push(t);
    created(x, doc)
}

pub(super) async fn name_to_id(State(sh): State<Shared>) -> ApiResult {
    let st = sh.lock();
    let x = &st.extreme;
    let body = match x.switches.nametoidmap_shape {
        NameToIdShape::Object => {
            let mut m = Map::new();
            for t in &x.tenants {
                m.insert(t.account_name.clone(), json!(t.cust_id));
            }
            Value::Object(m)
        }
        NameToIdShape::List => x
            .tenants
            .iter()
            .map(|t| json!({"accountName": t.account_name, "custId": t.cust_id}))
            .collect(),
    };
    Ok(json_status(200, body))
}

/// The single-tenant routes exist only with `tenant_item_routes`; otherwise they answer
/// like an unknown path. Returns the tenant's index.
fn item(x: &ExtremeState, id: &str) -> Result<usize, ApiError> {
    if !x.switches.tenant_item_routes {
        return Err(ApiError::new(404, format!("no route for /msptenants/{id}")));
    }
    x.tenant_index(id).ok_or_else(|| {
        ApiError::new(
            x.switches.unknown_id_status,
            format!("tenant {id} not found"),
        )
    })
}

pub(super) async fn get_one(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let st = sh.lock();
    let x = &st.extreme;
    let i = item(x, &id)?;
    Ok(json_status(200, x.tenant_wire(&x.tenants[i])))
}

pub(super) async fn update(
    State(sh): State<Shared>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let mut st = sh.lock();
    let x = &mut st.extreme;
    let i = item(x, &id)?;
    let m = parse_object(&body)?;
    let f = parse_fields(x, &m, Mode::Update)?;
    check_unique_name(x, &f.account_name, Some(&id))?;
    let t = &mut x.tenants[i];
    f.update(
        &mut t.account_name,
        &mut t.country,
        &mut t.time_zone,
        &mut t.contact,
    );
    let doc = x.tenant_wire(&x.tenants[i]);
    Ok(json_status(200, doc))
}

pub(super) async fn delete(State(sh): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let mut st = sh.lock();
    let x = &mut st.extreme;
    item(x, &id)?;
    x.remove_tenant(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
