//! Aruba Central wire types, as the client reads and writes them. Lenient on
//! input: unknown fields ignored, numbers or strings accepted for ids, nulls tolerated.

use serde::{Deserialize, Deserializer, Serialize};

/// Accepts a JSON string or number (or null) as an optional string.
pub fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
        _ => None,
    })
}

/// Accepts a JSON number or a numeric string (or null) as an f64.
pub fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient_f64(d)?.filter(|f| *f >= 0.0).map(|f| f as u64))
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) => Some(s.eq_ignore_ascii_case("true")),
        _ => None,
    })
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Deserialize)]
pub struct CustomerList {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub customers: Vec<Customer>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Customer {
    #[serde(deserialize_with = "lenient_string")]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub customer_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub lock_msp_ssids: Option<bool>,
    #[serde(default)]
    pub group: Option<Group>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub msp_id: Option<String>,
    #[serde(default)]
    pub provision_status: Option<String>,
    #[serde(default)]
    pub platform_customer_details: Option<PlatformDetails>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlatformDetails {
    #[serde(default)]
    pub address: Option<PlatformAddress>,
    #[serde(default)]
    pub defaulted_country_code: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PlatformAddress {
    #[serde(default)]
    pub street_address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state_or_region: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub zip: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
}

/// Body of `POST /msp_api/v2/customers` and `PUT /msp_api/v2/customers/{id}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CustomerBody {
    pub customer_name: String,
    pub country_name: String,
    pub address: CustomerBodyAddress,
    pub zip_postal_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
    pub description: String,
    pub lock_msp_ssids: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CustomerBodyAddress {
    pub street_address: String,
    pub city: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupRef {
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct DeviceListEnvelope {
    #[serde(rename = "deviceList", default)]
    pub device_list: Option<DeviceList>,
}

#[derive(Debug, Deserialize)]
pub struct DeviceList {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub devices: Vec<Device>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_devices: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Device {
    #[serde(default, deserialize_with = "lenient_string")]
    pub serial: Option<String>,
    #[serde(default)]
    pub macaddr: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub device_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub services: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DeviceMoveBody<'a> {
    pub devices: Vec<DeviceRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct DeviceRef<'a> {
    pub serial: &'a str,
    pub mac: &'a str,
}

#[derive(Debug, Serialize)]
pub struct LicenseBody<'a> {
    pub serials: &'a [String],
    pub services: &'a [String],
}

#[derive(Debug, Serialize)]
pub struct AutoLicenseBody<'a> {
    pub services: &'a [String],
    pub include_customers: [&'a str; 1],
}

#[derive(Debug, Deserialize)]
pub struct SiteList {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub sites: Vec<Site>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total: Option<u64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Site {
    #[serde(deserialize_with = "lenient_string")]
    pub site_id: Option<String>,
    #[serde(default)]
    pub site_name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "lenient_string")]
    pub zipcode: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub latitude: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    pub longitude: Option<f64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    pub associated_device_count: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SiteBody {
    pub site_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_address: Option<SiteAddressBody>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geolocation: Option<GeolocationBody>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SiteAddressBody {
    pub address: String,
    pub city: String,
    pub state: String,
    pub country: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zipcode: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GeolocationBody {
    pub latitude: String,
    pub longitude: String,
}

#[derive(Debug, Serialize)]
pub struct AssociationBody<'a> {
    pub site_id: i64,
    pub device_type: &'a str,
    pub device_ids: &'a [String],
}

#[derive(Debug, Default, Deserialize)]
pub struct AssociationResult {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub failed: Vec<serde_json::Value>,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub success: Vec<serde_json::Value>,
}

impl AssociationResult {
    /// Serials listed in `failed`, whatever the element shape (string or object).
    pub fn failed_serials(&self) -> Vec<String> {
        self.failed
            .iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Object(o) => o
                    .get("device_id")
                    .or_else(|| o.get("serial"))
                    .and_then(|s| s.as_str())
                    .map(str::to_string),
                _ => None,
            })
            .collect()
    }
}

#[derive(Debug, Deserialize)]
pub struct Token {
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Reads the auto-licence services from whatever shape the vendor answered
/// (the shape is undocumented): `{"services":[..]}`, `{"data":{..}}`, a bare list
/// of names, or a list of `{"service"|"name"|"service_name": ..}` objects.
pub fn parse_autolicense(v: &serde_json::Value) -> Option<Vec<String>> {
    use serde_json::Value;
    fn names(list: &[Value]) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for item in list {
            match item {
                Value::String(s) => out.push(s.clone()),
                Value::Object(o) => {
                    let name = ["service", "name", "service_name"]
                        .iter()
                        .find_map(|k| o.get(*k).and_then(Value::as_str))?;
                    out.push(name.to_string());
                }
                _ => return None,
            }
        }
        out.sort();
        out.dedup();
        Some(out)
    }
    match v {
        Value::Array(list) => names(list),
        Value::Object(o) => {
            for key in ["services", "autolicense_services", "data", "result"] {
                if let Some(inner) = o.get(key)
                    && let Some(found) = parse_autolicense(inner)
                {
                    return Some(found);
                }
            }
            None
        }
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

/// Maps the vendor's many device type spellings onto the association enum.
pub fn association_type(device_type: &str) -> &'static str {
    let t = device_type.to_ascii_uppercase();
    if t.contains("SWITCH") || t == "CX" || t == "HP" {
        "SWITCH"
    } else if t.contains("CONTROLLER") || t.contains("GATEWAY") || t == "GW" {
        "CONTROLLER"
    } else {
        "IAP"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn autolicense_shapes_are_all_read() {
        assert_eq!(
            parse_autolicense(&json!({"customer_id":"x","services":["B","A"]})),
            Some(vec!["A".into(), "B".into()])
        );
        assert_eq!(
            parse_autolicense(&json!([{"service":"A"}])),
            Some(vec!["A".into()])
        );
        assert_eq!(
            parse_autolicense(&json!({"data":{"services":[]}})),
            Some(vec![])
        );
        assert_eq!(parse_autolicense(&json!({"weird": 1})), None);
    }

    #[test]
    fn ids_may_be_numbers_or_strings() {
        let s: Site = serde_json::from_value(
            json!({"site_id": 275, "site_name": "x", "latitude": "37.5", "longitude": -121.9}),
        )
        .unwrap();
        assert_eq!(s.site_id.as_deref(), Some("275"));
        assert_eq!(s.latitude, Some(37.5));
        assert_eq!(s.longitude, Some(-121.9));
    }

    #[test]
    fn failed_entries_of_any_shape() {
        let r: AssociationResult = serde_json::from_value(
            json!({"failed":["A", {"device_id":"B","reason":"x"}], "success": null}),
        )
        .unwrap();
        assert_eq!(r.failed_serials(), vec!["A".to_string(), "B".to_string()]);
    }

    #[test]
    fn device_types_map_to_the_association_enum() {
        assert_eq!(association_type("AP"), "IAP");
        assert_eq!(association_type("IAP"), "IAP");
        assert_eq!(association_type("ArubaSwitch"), "SWITCH");
        assert_eq!(association_type("MobilityController"), "CONTROLLER");
        assert_eq!(association_type("GATEWAY"), "CONTROLLER");
    }
}
