//! What a refresh read from Aruba Central (the vendor's snapshot): its
//! customers, the MSP inventory's devices, and the sites of the customers
//! mspform manages. Pure data: `refresh` builds it; `resolve` maps it onto
//! stable addresses.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveCustomer {
    pub id: String,
    pub name: String,
    pub country: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub group: Option<String>,
    pub description: String,
    pub lock_msp_ssids: bool,
    /// Auto-licence services when the vendor told us; None when it could not be read.
    pub auto_license: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveSite {
    pub id: String,
    pub customer_id: String,
    pub name: String,
    pub street: String,
    pub city: String,
    pub state: String,
    pub country: String,
    pub zip: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub associated_device_count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveDevice {
    pub serial: String,
    /// Upper-case colon form.
    pub mac: String,
    /// None while the device sits in the MSP inventory (whether the vendor said so
    /// with null, "" or the MSP's own id).
    pub customer_id: Option<String>,
    /// "IAP", "SWITCH" or "CONTROLLER".
    pub device_type: String,
    /// Sorted.
    pub licenses: Vec<String>,
}

/// One provider's live state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveSnapshot {
    /// The MSP's own customer id (where devices go back to), when known: from a
    /// customer record, or on an account without customers from the device list.
    pub msp_id: Option<String>,
    pub customers: Vec<LiveCustomer>,
    pub devices: BTreeMap<String, LiveDevice>,
    /// Sites of the customers whose sites were read, by customer id (a customer
    /// missing here was not read, which is not "no sites").
    pub sites: BTreeMap<String, Vec<LiveSite>>,
    /// Customer ids whose auto-licence setting was read (mspform manages it only
    /// where the files declare it or state records one).
    #[serde(default)]
    pub auto_read: BTreeSet<String>,
}

impl LiveSnapshot {
    pub fn customer_by_id(&self, id: &str) -> Option<&LiveCustomer> {
        self.customers.iter().find(|c| c.id == id)
    }
}
