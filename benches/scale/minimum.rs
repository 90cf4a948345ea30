//! The API minimum of each phase, per vendor: the fewest calls the vendor's API
//! (`shared/vendor-apis.md` beside the project, "the fact sheet") allows for what the phase does,
//! as a sum of named terms so the formula prints beside the figure; and the rate
//! bound (the minimum ÷ the vendor's rate, plus the waits the phase cannot overlap).
//!
//! Conventions for every vendor:
//! - a CLI run is a fresh process: where the configuration uses a token grant
//!   (ExtremeCloud login, RUCKUS One and AudioCodes client credentials), one token
//!   call per run is part of the minimum; Aruba uses a static token here;
//! - an asynchronous operation needs one status read, made once it has settled;
//! - "refresh" is what a plan reads; the saved-plan cycle's minimum is one refresh
//!   plus its writes (the figure), plus the second run's token call.

use crate::generate::Shape;
use crate::options::{Phase, Vendor};

/// Aruba's page sizes: `customers_max_limit` (the fact sheet's simulator cap, §1.5)
/// and the device list's (`devices_max_limit`, §1.6); sites page by 1000 (§1.8).
const ARUBA_CUSTOMER_PAGE: usize = 100;
const ARUBA_DEVICE_PAGE: usize = 1000;
/// Licence assignment takes many serials, across customers (§1.7, no `TenantID`
/// needed); the client sends 100 a call (`LICENSE_CHUNK`, src/vendors/aruba/api.rs).
const ARUBA_LICENSE_CHUNK: usize = 100;
/// Site associations: ≤ 20 devices a call recommended (§1.9).
const ARUBA_ASSOCIATION_CHUNK: usize = 20;
/// RUCKUS One: the tenant query's largest page (§3.4, simulator cap 10,000) and
/// creates per `POST /tenants` (1–100 items, §3.4).
const RUCKUS_QUERY_PAGE: usize = 10_000;
const RUCKUS_CREATE_BATCH: usize = 100;

/// A phase's minimum as named terms (count, what).
#[derive(Clone, Debug, Default)]
pub struct Minimum {
    pub terms: Vec<(u64, String)>,
}

impl Minimum {
    fn add(&mut self, n: usize, what: impl Into<String>) -> &mut Self {
        self.terms.push((n as u64, what.into()));
        self
    }

    fn extend(&mut self, other: Minimum) -> &mut Self {
        self.terms.extend(other.terms);
        self
    }

    pub fn total(&self) -> u64 {
        self.terms.iter().map(|(n, _)| n).sum()
    }

    /// `3 = 1 token + 1 tenant list + 1 partner list` (zero terms left out).
    pub fn formula(&self) -> String {
        let parts: Vec<String> = self
            .terms
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, w)| format!("{n} {w}"))
            .collect();
        format!("{} = {}", self.total(), parts.join(" + "))
    }
}

/// At least one page, however few items.
fn pages(items: usize, page: usize) -> usize {
    items.div_ceil(page).max(1)
}

/// The fewest calls for `phase` (for the drift day: one day of hourly runs).
pub fn minimum(shape: &Shape, phase: Phase) -> Minimum {
    match shape.vendor {
        Vendor::Aruba => aruba(shape, phase),
        Vendor::Extreme => extreme(shape, phase),
        Vendor::Ruckus => ruckus(shape, phase),
        Vendor::Audiocodes => audiocodes(shape, phase),
    }
}

/// Aruba (§1). Refresh: the customer list (pages of 100) and the MSP device list
/// (pages of 1000; it carries each device's customer and licences) are MSP-wide;
/// sites are per tenant (`TenantID`), so one read per live managed customer; the
/// auto-licence setting is per customer and read only for customers declaring it.
/// Onboarding: N creates (no id in the answer), one customer-list pass once they
/// provisioned (finds every new id at once), one move per customer, one device-list
/// pass to see the moves landed, licences in chunks of 100 serials across
/// customers, two site creates per customer, ceil(5/20) = 1 association per site,
/// and the auto-licence enable of the customers declaring it.
fn aruba(s: &Shape, phase: Phase) -> Minimum {
    let refresh = |live: usize| {
        let mut m = Minimum::default();
        m.add(pages(live, ARUBA_CUSTOMER_PAGE), "customer page")
            .add(pages(s.devices, ARUBA_DEVICE_PAGE), "device-list page")
            .add(live, "site reads (1 per managed customer)")
            .add(
                if live > 0 { s.auto_license } else { 0 },
                "auto-licence reads (customers declaring it)",
            );
        m
    };
    let mut m = Minimum::default();
    match phase {
        Phase::FirstPlan => {
            m.extend(refresh(0));
        }
        Phase::Apply => {
            m.extend(refresh(0))
                .add(s.n, "creates")
                .add(pages(s.n, ARUBA_CUSTOMER_PAGE), "customer-list pass")
                .add(s.n, "moves (1 per customer)")
                .add(
                    pages(s.devices, ARUBA_DEVICE_PAGE),
                    "device-list pass (moves landed)",
                )
                .add(
                    s.devices.div_ceil(ARUBA_LICENSE_CHUNK),
                    "licence calls (100 serials each)",
                )
                .add(s.sites, "site creates")
                .add(
                    s.sites * s.devices_per_site.div_ceil(ARUBA_ASSOCIATION_CHUNK),
                    "association calls (≤20 a call)",
                )
                .add(s.auto_license, "auto-licence enables");
        }
        Phase::SecondPlan | Phase::Drift | Phase::SecondApply => {
            m.extend(refresh(s.n));
        }
        Phase::Target => {
            // The customer by exact name (or its recorded id), its devices
            // (`GET …/customers/{id}/devices`), its sites, and its auto-licence
            // only if declared; the target is ≤ 10 calls.
            m.add(1, "customer read")
                .add(1, "tenant device read")
                .add(1, "site read");
        }
        Phase::Cycle => {
            m.extend(refresh(s.n)).add(s.edited, "customer updates");
        }
        Phase::DriftDay => {
            // Every hour the MSP-wide lists (customers and devices: customer and
            // device-assignment drift for everyone); per tenant reads once a day.
            let lists = pages(s.n, ARUBA_CUSTOMER_PAGE) + pages(s.devices, ARUBA_DEVICE_PAGE);
            m.add(24 * lists, "list pages (24 runs × customers + devices)")
                .add(s.n, "site reads (each customer once a day)")
                .add(s.auto_license, "auto-licence reads (once a day)");
        }
    }
    m
}

/// ExtremeCloud (§2): no pagination, full arrays. A plan reads the tenant list
/// and, with partners declared, the partner list; creates answer the document
/// with its `custId` (simulator switch `create_body = doc`; with `empty` one
/// `nametoidmap` read would find every new id at once); a partner's tenant list
/// is replaced by one PUT per partner. No tenant update exists.
fn extreme(s: &Shape, phase: Phase) -> Minimum {
    let mut m = Minimum::default();
    let refresh = |m: &mut Minimum| {
        m.add(1, "login")
            .add(1, "tenant list")
            .add(1, "partner list");
    };
    match phase {
        Phase::FirstPlan
        | Phase::SecondPlan
        | Phase::Drift
        | Phase::SecondApply
        | Phase::DriftDay => refresh(&mut m),
        Phase::Apply => {
            refresh(&mut m);
            m.add(s.n, "tenant creates")
                .add(s.partners, "partner PUTs (1 per partner)");
        }
        Phase::Target => {
            m.add(1, "login").add(1, "tenant list");
        }
        Phase::Cycle => {
            refresh(&mut m);
            m.add(
                s.partners_changed,
                "partner PUTs (partners whose list changed)",
            )
            .add(1, "login (second run)");
        }
    }
    m
}

/// RUCKUS One (§3): tenants in one query page (pageSize up to 10,000); the tech
/// partners in one query, then each declared partner's EC list
/// (`GET /mspIntegrators/{id}`). Creates go 100 to a `POST /tenants`; every
/// 202 has an activity to read once; an invitation per new EC with an
/// administrator; a partner's assignment is one `PATCH` and its activity.
fn ruckus(s: &Shape, phase: Phase) -> Minimum {
    let refresh = |live: usize| {
        let mut m = Minimum::default();
        m.add(1, "token")
            .add(pages(live, RUCKUS_QUERY_PAGE), "tenant query page")
            .add(1, "tech-partner query")
            .add(s.partners, "partner reads (1 per declared partner)");
        m
    };
    let mut m = Minimum::default();
    match phase {
        Phase::FirstPlan => {
            m.extend(refresh(0));
        }
        Phase::Apply => {
            m.extend(refresh(0))
                .add(
                    s.n.div_ceil(RUCKUS_CREATE_BATCH),
                    "create batches (≤100 a call)",
                )
                .add(s.n, "create activity reads")
                .add(s.n, "invitations")
                .add(s.partners, "partner PATCHes")
                .add(s.partners, "partner activity reads");
        }
        Phase::SecondPlan | Phase::Drift | Phase::SecondApply | Phase::DriftDay => {
            m.extend(refresh(s.n));
        }
        Phase::Target => {
            m.add(1, "token").add(1, "tenant query (by name)");
        }
        Phase::Cycle => {
            m.extend(refresh(s.n))
                .add(s.edited, "tenant PUTs")
                .add(s.edited, "update activity reads")
                .add(1, "token (second run)");
        }
    }
    m
}

/// AudioCodes (§4): one unpaginated list (`GET /api/v3/customer?allDetails=true`)
/// holds every customer with its site; a create is synchronous and answers the id;
/// there is no update, so a changed field is a delete and a create.
fn audiocodes(s: &Shape, phase: Phase) -> Minimum {
    let mut m = Minimum::default();
    let refresh = |m: &mut Minimum| {
        m.add(1, "token").add(1, "customer list");
    };
    match phase {
        Phase::FirstPlan
        | Phase::SecondPlan
        | Phase::Drift
        | Phase::SecondApply
        | Phase::DriftDay
        | Phase::Target => refresh(&mut m),
        Phase::Apply => {
            refresh(&mut m);
            m.add(s.n, "creates");
        }
        Phase::Cycle => {
            refresh(&mut m);
            m.add(s.edited, "deletes (replacements)")
                .add(s.edited, "creates (replacements)")
                .add(1, "token (second run)");
        }
    }
    m
}

/// A vendor's documented rate, as the bound divides by it.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub per_sec: f64,
    /// Calls a fresh bucket lets through at once.
    pub burst: u64,
    pub text: &'static str,
}

pub fn rate(vendor: Vendor) -> Rate {
    match vendor {
        // A per-second window lets the first second's 7 go at once.
        Vendor::Aruba => Rate {
            per_sec: 7.0,
            burst: 7,
            text: "7/s (fact sheet §1.3), in one-second windows",
        },
        Vendor::Extreme => Rate {
            per_sec: 7500.0 / 3600.0,
            burst: 0,
            text: "7,500/h (the issue; the fact sheet documents none); client 2/s",
        },
        Vendor::Ruckus => Rate {
            per_sec: 100.0,
            burst: 200,
            text: "bucket of 200 refilling 100/s (fact sheet §3.3)",
        },
        Vendor::Audiocodes => Rate {
            per_sec: 10.0,
            burst: 0,
            text: "none documented (§4.1): the client's budget, 10/s",
        },
    }
}

/// The rate bound of a phase: (seconds, how).
pub fn bound(rate: Rate, minimum: u64, waits: &[(f64, String)]) -> (f64, String) {
    let paced = minimum.saturating_sub(rate.burst) as f64 / rate.per_sec;
    let per = if rate.per_sec.fract() == 0.0 {
        format!("{:.0}/s", rate.per_sec)
    } else {
        format!("{:.0}/h", rate.per_sec * 3600.0)
    };
    let mut text = if rate.burst > 0 {
        format!("({minimum} - {} at once) / {per}", rate.burst)
    } else {
        format!("{minimum} / {per}")
    };
    let mut secs = paced;
    for (s, what) in waits {
        secs += s;
        text.push_str(&format!(" + {s:.2} s {what}"));
    }
    (secs, text)
}
