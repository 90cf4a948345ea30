//! `import` for Aruba Central: every live customer (or those named) with its
//! sites, the devices in it (with their licences) and its auto-licence. Aruba
//! cannot say which site a device is in (only a per-site count), so imported
//! devices carry no `site` and say so in a comment; a plan of the imported files
//! only adopts. The MSP inventory is never imported as a customer.

use super::live::{LiveCustomer, LiveDevice, LiveSite, LiveSnapshot};
use super::refresh::Contents;
use super::{Aruba, Client};
use crate::vendor::import::{Field, ImportedCustomer, ImportedDevice, ImportedSite, Value};
use crate::vendor::{Import, ImportCtx, Imported, ProviderError};

/// Said above every imported device.
pub const NO_SITE: &str = "no `site`: Aruba does not say which site a device is in; add it if you want mspform to manage the association";

fn site(s: &LiveSite) -> ImportedSite {
    let placed_by_coordinates = s.street.is_empty() && s.city.is_empty();
    let field = match (s.latitude, s.longitude, placed_by_coordinates) {
        (Some(lat), Some(lon), true) => Field::new(
            "geolocation",
            Value::Table(vec![
                ("latitude".into(), Value::Float(lat)),
                ("longitude".into(), Value::Float(lon)),
            ]),
        ),
        _ => {
            let mut entries = vec![
                ("street", s.street.as_str()),
                ("city", s.city.as_str()),
                ("state", s.state.as_str()),
                ("country", s.country.as_str()),
            ];
            if !s.zip.is_empty() {
                entries.push(("zip", s.zip.as_str()));
            }
            Field::table("address", &entries)
        }
    };
    ImportedSite {
        name: s.name.clone(),
        fields: vec![field],
    }
}

fn device(d: &LiveDevice) -> ImportedDevice {
    let mut fields = vec![Field::new("mac", d.mac.clone())];
    if !d.licenses.is_empty() {
        fields.push(Field::list("licenses", &d.licenses));
    }
    ImportedDevice {
        serial: d.serial.clone(),
        fields,
        comments: vec![NO_SITE.to_string()],
    }
}

fn customer(c: &LiveCustomer, snap: &LiveSnapshot) -> ImportedCustomer {
    let mut fields = vec![
        Field::new("country", c.country.clone()),
        Field::table(
            "address",
            &[
                ("street", c.street.as_str()),
                ("city", c.city.as_str()),
                ("state", c.state.as_str()),
                ("zip", c.zip.as_str()),
            ],
        ),
    ];
    if let Some(g) = &c.group {
        fields.push(Field::new("group", g.clone()));
    }
    fields.push(Field::new("description", c.description.clone()));
    fields.push(Field::new("lock_msp_ssids", c.lock_msp_ssids));
    if let Some(auto) = c.auto_license.as_ref().filter(|a| !a.is_empty()) {
        fields.push(Field::list("auto_license", auto));
    }
    let mut sites: Vec<&LiveSite> = snap.sites.get(&c.id).into_iter().flatten().collect();
    sites.sort_by(|a, b| a.name.cmp(&b.name));
    let devices = snap
        .devices
        .values()
        .filter(|d| d.customer_id.as_deref() == Some(c.id.as_str()))
        .map(device)
        .collect();
    ImportedCustomer {
        name: c.name.clone(),
        fields,
        comments: Vec::new(),
        sites: sites.into_iter().map(site).collect(),
        devices,
    }
}

impl Import<Aruba> for Client {
    async fn import<'a>(&'a self, ctx: ImportCtx<'a, Aruba>) -> Result<Imported, ProviderError> {
        let wanted = |c: &LiveCustomer| ctx.names.is_empty() || ctx.names.contains(&c.name);
        let everything = |c: &LiveCustomer| {
            let read = wanted(c);
            Contents {
                sites: read,
                auto_license: read,
            }
        };
        let snap = self.snapshot(None, everything).await?;
        let customers = snap
            .customers
            .iter()
            .filter(|c| wanted(c))
            .map(|c| customer(c, &snap))
            .collect();
        Ok(Imported {
            customers,
            partners: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_keep_how_they_are_placed_and_devices_say_their_site_is_unknown() {
        let mut s = LiveSite {
            id: "1".into(),
            customer_id: "c".into(),
            name: "Roastery".into(),
            street: String::new(),
            city: String::new(),
            state: String::new(),
            country: String::new(),
            zip: String::new(),
            latitude: Some(37.5),
            longitude: Some(-121.9),
            associated_device_count: Some(0),
        };
        assert_eq!(
            site(&s).fields[0].to_string_for_test(),
            "geolocation = { latitude = 37.5, longitude = -121.9 }"
        );
        s.street = "1 Main St".into();
        assert_eq!(
            site(&s).fields[0].to_string_for_test(),
            "address = { street = \"1 Main St\", city = \"\", state = \"\", country = \"\" }"
        );
        let d = device(&LiveDevice {
            serial: "AP1".into(),
            mac: "20:4C:03:00:00:01".into(),
            customer_id: Some("c".into()),
            device_type: "IAP".into(),
            licenses: vec![],
        });
        assert_eq!(d.fields.len(), 1, "no empty licence list");
        assert_eq!(d.comments, [NO_SITE]);
    }

    trait Line {
        fn to_string_for_test(&self) -> String;
    }

    impl Line for Field {
        fn to_string_for_test(&self) -> String {
            format!("{} = {}", self.key, self.value)
        }
    }
}
