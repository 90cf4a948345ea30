//! `import` for ExtremeCloud: every live tenant (or those named) as a customer
//! table, and the partners holding them with the imported tenants they manage.
//! The tenant list shows the name, country, time zone and contact; the first
//! power admin (`userId`) only on accounts that echo it (the documented samples
//! show null). When it cannot be read, `admin_user` is written as a placeholder
//! on the reserved `.invalid` domain with a comment: a plan of the imported
//! files adopts the tenant (the value is never compared or sent), and refuses
//! to create the tenant again with it. Values the configuration would refuse
//! are written as read, with a comment saying what to fix.

use super::config::{check_contact_name, check_email, check_time_zone};
use super::wire::{Partner, Tenant};
use super::{Client, ExtremeCloud};
use crate::config::normalize_country;
use crate::vendor::import::{Field, ImportedCustomer, ImportedPartner};
use crate::vendor::{Import, ImportCtx, Imported, ProviderError};

/// What `admin_user` is when ExtremeCloud does not show it.
pub const UNREADABLE_ADMIN: &str = "unknown@admin-user.invalid";

const ADMIN_NOTE: &str = "not readable from the API (ExtremeCloud shows no userId): set the tenant's first power admin; it is sent only if mspform has to create the tenant again, and never as this placeholder";

fn country(t: &Tenant) -> Field {
    match normalize_country(&t.country) {
        Ok(code) => Field::new("country", code),
        Err(_) => Field::noted(
            "country",
            t.country.clone(),
            "as ExtremeCloud shows it, not an ISO 3166-1 alpha-2 code: write the tenant's two-letter country code",
        ),
    }
}

fn time_zone(t: &Tenant) -> Field {
    match check_time_zone(&t.time_zone) {
        Ok(()) => Field::new("time_zone", t.time_zone.clone()),
        Err(_) => Field::noted(
            "time_zone",
            t.time_zone.clone(),
            "as ExtremeCloud shows it, not an IANA time zone name: write the tenant's, e.g. \"Europe/Amsterdam\"",
        ),
    }
}

/// The contact when the tenant has a usable one; otherwise why not (a comment).
fn contact(t: &Tenant) -> Result<Field, String> {
    let c = &t.contact;
    if c.email.is_empty() && c.name.is_empty() && c.phone.is_empty() {
        return Err("the tenant has no MSP contact; mspform leaves it alone".into());
    }
    match (check_email(&c.email), check_contact_name(&c.name)) {
        (Ok(()), Ok(())) => Ok(Field::table(
            "contact",
            &[("email", &c.email), ("name", &c.name), ("phone", &c.phone)],
        )),
        _ => Err(format!(
            "the tenant's MSP contact ({:?}, {:?}) is not one mspform can declare (a valid e-mail and a name of 1–128 characters without ; : &); it is left alone until you add `contact`",
            c.email, c.name
        )),
    }
}

fn customer(t: &Tenant) -> ImportedCustomer {
    let mut fields = vec![country(t), time_zone(t)];
    let mut comments = Vec::new();
    match contact(t) {
        Ok(field) => fields.push(field),
        Err(why) => comments.push(why),
    }
    fields.push(match &t.user_id {
        Some(admin) if check_email(admin).is_ok() => Field::new("admin_user", admin.clone()),
        _ => Field::noted("admin_user", UNREADABLE_ADMIN, ADMIN_NOTE),
    });
    ImportedCustomer {
        name: t.name.clone(),
        fields,
        comments,
        ..Default::default()
    }
}

/// A partner with the names of the imported tenants it holds.
fn partner(p: &Partner, imported: &[&Tenant]) -> ImportedPartner {
    let customers = p
        .tenants
        .iter()
        .filter_map(|id| imported.iter().find(|t| &t.id == id))
        .map(|t| t.name.clone())
        .collect();
    ImportedPartner {
        name: p.name.clone(),
        role: None,
        customers,
    }
}

impl Import<ExtremeCloud> for Client {
    async fn import<'a>(
        &'a self,
        ctx: ImportCtx<'a, ExtremeCloud>,
    ) -> Result<Imported, ProviderError> {
        let snapshot = self.snapshot(true).await?;
        let chosen: Vec<&Tenant> = snapshot
            .tenants
            .iter()
            .filter(|t| ctx.names.is_empty() || ctx.names.contains(&t.name))
            .collect();
        // Every partner when everything is imported; else those holding an imported tenant.
        let partners = snapshot
            .partners()
            .iter()
            .map(|p| partner(p, &chosen))
            .filter(|p| ctx.names.is_empty() || !p.customers.is_empty())
            .collect();
        Ok(Imported {
            customers: chosen.into_iter().map(customer).collect(),
            partners,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{partner as live_partner, tenant};
    use super::*;
    use crate::vendor::import::Value;
    use crate::vendors::extremecloud::resolve::UNREADABLE_DOMAIN;

    #[test]
    fn a_tenant_becomes_a_customer_with_its_admin_marked_when_unreadable() {
        let c = customer(&tenant("T1", "acme", "Acme"));
        assert_eq!(c.name, "Acme");
        let keys: Vec<&str> = c.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["country", "time_zone", "contact", "admin_user"]);
        assert_eq!(c.fields[0].value, Value::from("NL"));
        assert_eq!(c.fields[0].comment, None);
        let admin = &c.fields[3];
        assert_eq!(admin.value, Value::from(UNREADABLE_ADMIN));
        assert!(admin.comment.as_deref().unwrap().contains("not readable"));
        assert!(UNREADABLE_ADMIN.ends_with(UNREADABLE_DOMAIN));
        assert!(check_email(UNREADABLE_ADMIN).is_ok(), "the files validate");

        // An account that echoes userId: written as read.
        let mut t = tenant("T1", "acme", "Acme");
        t.user_id = Some("admin@acme.example".into());
        let admin = customer(&t).fields.pop().unwrap();
        assert_eq!(
            (admin.value, admin.comment),
            (Value::from("admin@acme.example"), None)
        );
    }

    #[test]
    fn values_the_configuration_would_refuse_are_kept_with_a_comment() {
        let mut t = tenant("T1", "acme", "Acme");
        t.time_zone = "CET".into();
        t.country = "Netherlands".into();
        t.contact.email = String::new();
        let c = customer(&t);
        let keys: Vec<&str> = c.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["country", "time_zone", "admin_user"]);
        assert!(c.fields[1].comment.as_deref().unwrap().contains("IANA"));
        assert_eq!(c.comments.len(), 1);
        assert!(c.comments[0].contains("MSP contact"), "{}", c.comments[0]);
        // No contact at all: said so, nothing declared.
        let mut t = tenant("T1", "acme", "Acme");
        t.contact = Default::default();
        let c = customer(&t);
        assert_eq!(
            c.comments,
            ["the tenant has no MSP contact; mspform leaves it alone"]
        );
    }

    #[test]
    fn a_partner_lists_the_imported_tenants_it_holds() {
        let a = tenant("T1", "a", "A");
        let b = tenant("T2", "b", "B");
        let p = partner(&live_partner("P1", "P", &["T2", "T9", "T1"]), &[&a, &b]);
        assert_eq!(p.name, "P");
        assert_eq!(p.role, None);
        assert_eq!(p.customers, ["B", "A"]);
    }
}
