//! `import` for RUCKUS One: every managed tenant (or those named) as a customer
//! table — name, address, phone, tier, service dates and the administrator the
//! tenant lists — and the tech partners managing the imported tenants, with
//! their `role`. What the API does not return (the administrator's role, the
//! names of one it does not list) is left out with a comment saying so. A plan
//! of the imported files only adopts: an adopted tenant's declared
//! administrator is taken as it is (it is not invited again).

use std::collections::{BTreeMap, BTreeSet};

use super::api::Listed;
use super::config::is_email;
use super::model::partner_role;
use super::wire::{Admin, EcView, day_of};
use super::{Client, Ruckus};
use crate::vendor::import::{Field, ImportedCustomer, ImportedPartner, Value};
use crate::vendor::{Import, ImportCtx, Imported, ProviderError};

/// A tenant as import read it.
struct Tenant {
    id: String,
    name: String,
    view: EcView,
    /// `None`: the administrator list cannot be read here.
    admins: Option<Vec<Admin>>,
}

/// A non-blank value, trimmed.
fn present(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn address(v: &EcView) -> Option<Field> {
    let parts: Vec<(&str, String)> = [
        ("street", &v.street_address),
        ("city", &v.city),
        ("state", &v.state),
        ("country", &v.country),
        ("zip", &v.postal_code),
    ]
    .into_iter()
    .filter_map(|(k, val)| Some((k, present(val)?)))
    .collect();
    if parts.is_empty() {
        return None;
    }
    let entries: Vec<(&str, &str)> = parts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Some(Field::table("address", &entries))
}

/// `service_start`/`service_end` by day; a date that cannot be read is left
/// out (and not managed) with a comment.
fn dates(v: &EcView, fields: &mut Vec<Field>, comments: &mut Vec<String>) {
    for (key, raw) in [
        ("service_start", &v.service_effective_date),
        ("service_end", &v.service_expiration_date),
    ] {
        match raw.as_deref().map(|d| (d, day_of(d))) {
            Some((_, Some(day))) => fields.push(Field::new(key, day)),
            Some((d, None)) => comments.push(format!(
                "{key} is left out: RUCKUS One shows {d:?}, which is not a date mspform can read"
            )),
            None => {}
        }
    }
}

/// The first administrator the tenant lists, as `admin`; the others and what
/// cannot be read are comments.
fn admin(t: &Tenant, fields: &mut Vec<Field>, comments: &mut Vec<String>) {
    let Some(admins) = &t.admins else {
        comments.push(
            "the tenant's administrators cannot be read here (GET /tenants/{id}/admins): add admin = { email = \"…\" } to record who it is".to_string(),
        );
        return;
    };
    let mut usable = admins.iter().filter(|a| is_email(&a.email));
    let Some(first) = usable.next() else {
        if !admins.is_empty() {
            comments.push(format!(
                "the tenant lists no administrator by email address ({}): add admin = {{ email = \"…\" }} to record who it is",
                admins.iter().map(|a| a.email.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        return;
    };
    let mut entries = vec![("email", first.email.clone())];
    for (key, val) in [
        ("first_name", &first.first_name),
        ("last_name", &first.last_name),
    ] {
        if let Some(v) = present(val) {
            entries.push((key, v));
        }
    }
    let value = Value::Table(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::Str(v)))
            .collect(),
    );
    fields.push(Field::noted(
        "admin",
        value,
        "as the tenant lists it; its role is not readable, and an adopted tenant is not invited again",
    ));
    let others: Vec<&str> = usable.map(|a| a.email.as_str()).collect();
    if !others.is_empty() {
        comments.push(format!(
            "the tenant also lists administrator(s) {}, which mspform does not manage",
            others.join(", ")
        ));
    }
}

fn customer(t: &Tenant, same_name: usize) -> ImportedCustomer {
    let v = &t.view;
    let mut fields = Vec::new();
    let mut comments = Vec::new();
    if same_name > 1 {
        comments.push(format!(
            "RUCKUS One has {same_name} managed tenants named {:?}: mspform cannot tell them apart; rename one in the portal (this one is {})",
            t.name, t.id
        ));
    }
    fields.extend(address(v));
    for (key, val) in [("phone", &v.phone_number), ("tier", &v.tier)] {
        if let Some(val) = present(val) {
            fields.push(Field::new(key, val));
        }
    }
    dates(v, &mut fields, &mut comments);
    admin(t, &mut fields, &mut comments);
    let unmanaged: Vec<&str> = [
        ("fax_number", present(&v.fax_number).is_some()),
        ("mapping_url", present(&v.mapping_url).is_some()),
        (
            "privacyFeatures",
            matches!(&v.privacy_features, Some(serde_json::Value::Array(a)) if !a.is_empty()),
        ),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if !unmanaged.is_empty() {
        comments.push(format!(
            "the tenant's {} are kept as they are (mspform does not manage them)",
            unmanaged.join(", ")
        ));
    }
    ImportedCustomer {
        name: t.name.clone(),
        fields,
        comments,
        ..Default::default()
    }
}

impl Client {
    /// The full view and the administrators of one listed tenant; `None` when
    /// it was deleted since the list.
    async fn import_tenant(&self, listed: Listed) -> Result<Option<Tenant>, ProviderError> {
        let view = match listed.view {
            Some(v) => v,
            None => match self.get_ec(&listed.row.id).await? {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        let name = present(&view.name).unwrap_or(listed.row.name);
        let admins = self.ec_admin_list(&listed.row.id).await?;
        Ok(Some(Tenant {
            id: listed.row.id,
            name,
            view,
            admins,
        }))
    }

    /// The tech partners managing any of `imported` (tenant ids), each with the
    /// names of every tenant it manages that the list shows (`names`: id → name).
    async fn import_partners(
        &self,
        imported: &BTreeSet<String>,
        names: &BTreeMap<String, String>,
    ) -> Result<Vec<ImportedPartner>, ProviderError> {
        let mut partners = self.tech_partners().await?;
        let reads = partners
            .iter()
            .map(|p| (p.id.clone(), p.tenant_type.clone()))
            .collect();
        self.read_assignments(&mut partners, reads).await?;
        let mut out = Vec::new();
        for p in partners {
            let ecs = p.assigned.map(|a| a.ecs).unwrap_or_default();
            if !ecs.iter().any(|id| imported.contains(id)) {
                continue;
            }
            out.push(ImportedPartner {
                name: p.name,
                role: partner_role(&p.tenant_type).map(str::to_string),
                customers: ecs.iter().filter_map(|id| names.get(id).cloned()).collect(),
            });
        }
        Ok(out)
    }
}

/// The listed name of a tenant (the legacy list's view, else the query row).
fn listed_name(l: &Listed) -> String {
    l.view
        .as_ref()
        .and_then(|v| present(&v.name))
        .unwrap_or_else(|| l.row.name.clone())
}

impl Import<Ruckus> for Client {
    async fn import<'a>(&'a self, ctx: ImportCtx<'a, Ruckus>) -> Result<Imported, ProviderError> {
        let listed = self.list_ecs().await?;
        let names: BTreeMap<String, String> = listed
            .iter()
            .map(|l| (l.row.id.clone(), listed_name(l)))
            .collect();
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for name in names.values() {
            *count.entry(name.as_str()).or_default() += 1;
        }
        let mut customers = Vec::new();
        let mut imported = BTreeSet::new();
        for l in listed {
            let name = listed_name(&l);
            if !ctx.names.is_empty() && !ctx.names.contains(&name) {
                continue;
            }
            let same_name = count.get(name.as_str()).copied().unwrap_or(1);
            if let Some(t) = self.import_tenant(l).await? {
                customers.push(customer(&t, same_name));
                imported.insert(t.id);
            }
        }
        let partners = if imported.is_empty() {
            Vec::new()
        } else {
            self.import_partners(&imported, &names).await?
        };
        Ok(Imported {
            customers,
            partners,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tenant(view: EcView, admins: Option<Vec<Admin>>) -> Tenant {
        Tenant {
            id: "t1".into(),
            name: "Acme".into(),
            view,
            admins,
        }
    }

    fn admin(email: &str) -> Admin {
        Admin {
            email: email.into(),
            first_name: None,
            last_name: None,
        }
    }

    fn keys(c: &ImportedCustomer) -> Vec<&str> {
        c.fields.iter().map(|f| f.key.as_str()).collect()
    }

    #[test]
    fn blank_values_are_left_out_and_dates_are_days() {
        let view = EcView {
            street_address: Some("  ".into()),
            city: Some(" Sunnyvale ".into()),
            phone_number: Some(String::new()),
            tier: Some("GOLD".into()),
            service_effective_date: Some("2025-01-01 13:45:00Z".into()),
            service_expiration_date: Some("soon".into()),
            ..EcView::default()
        };
        let c = customer(&tenant(view, Some(vec![admin("a@b.example")])), 1);
        assert_eq!(keys(&c), ["address", "tier", "service_start", "admin"]);
        assert_eq!(c.fields[0].value.to_string(), "{ city = \"Sunnyvale\" }");
        assert_eq!(c.fields[2].value, Value::Str("2025-01-01".into()));
        assert!(
            c.comments[0].contains("service_end is left out") && c.comments[0].contains("soon"),
            "{:?}",
            c.comments
        );
    }

    #[test]
    fn an_administrator_list_that_cannot_be_read_or_holds_no_email_is_a_comment() {
        let c = customer(&tenant(EcView::default(), None), 1);
        assert!(keys(&c).is_empty());
        assert!(c.comments[0].contains("cannot be read"), "{:?}", c.comments);
        let c = customer(&tenant(EcView::default(), Some(vec![admin("ops")])), 1);
        assert!(keys(&c).is_empty());
        assert!(
            c.comments[0].contains("no administrator by email address (ops)"),
            "{:?}",
            c.comments
        );
        // Nobody listed: nothing to say.
        let c = customer(&tenant(EcView::default(), Some(vec![])), 1);
        assert!(c.fields.is_empty() && c.comments.is_empty());
    }

    #[test]
    fn the_first_administrator_is_declared_and_the_others_named() {
        let first = Admin {
            email: "IT@Acme.example".into(),
            first_name: Some("Ada".into()),
            last_name: Some(" ".into()),
        };
        let admins = vec![first, admin("ops@acme.example")];
        let c = customer(&tenant(EcView::default(), Some(admins)), 1);
        assert_eq!(
            c.fields[0].value.to_string(),
            "{ email = \"IT@Acme.example\", first_name = \"Ada\" }"
        );
        assert!(
            c.fields[0]
                .comment
                .as_deref()
                .is_some_and(|n| n.contains("role is not readable")),
            "{:?}",
            c.fields[0]
        );
        assert!(
            c.comments[0].contains("ops@acme.example"),
            "{:?}",
            c.comments
        );
    }

    #[test]
    fn twins_and_unmanaged_fields_are_named_in_comments() {
        let view = EcView {
            fax_number: Some("555".into()),
            privacy_features: Some(json!([{"featureName": "ARC"}])),
            ..EcView::default()
        };
        let c = customer(&tenant(view, Some(vec![])), 2);
        assert!(
            c.comments[0].contains("2 managed tenants named \"Acme\"")
                && c.comments[0].contains("t1"),
            "{:?}",
            c.comments
        );
        assert!(
            c.comments[1].contains("fax_number, privacyFeatures are kept as they are"),
            "{:?}",
            c.comments
        );
    }
}
