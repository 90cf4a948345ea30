//! Shared polling for the steps of one apply that wait on the vendor at the
//! same time: customers provisioning and device moves settling. Instead of
//! every waiting step reading for itself, one read ("pass") answers all of
//! them: a step asks for a pass that started after its own write and is no
//! older than its pause; the first to ask makes it (one at a time, under an
//! async lock), the others reuse it. A pass reads the cheaper way for what is
//! pending: one exact-name lookup per pending customer or the paged customer
//! list; one device list per pending destination or the paged MSP inventory.
//! Every wait stays bounded by its own timeout and poll count (callers).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::super::{Client, wire};
use super::locked;
use crate::vendor::http::ProviderError;

/// The customer list's and the MSP inventory's page sizes (vendor-apis.md §1.5, §1.6).
const CUSTOMER_PAGE: usize = 100;
const DEVICE_PAGE: usize = 1000;

/// The last pass and what it saw.
struct Pass<S> {
    started: Option<Instant>,
    seen: S,
}

/// One kind of shared read.
pub(crate) struct Shared<S> {
    pass: tokio::sync::Mutex<Pass<S>>,
}

impl<S: Default> Default for Shared<S> {
    fn default() -> Self {
        Shared {
            pass: tokio::sync::Mutex::new(Pass {
                started: None,
                seen: S::default(),
            }),
        }
    }
}

impl<S> Shared<S> {
    /// What a pass that started after `after` saw: the last one when it is at
    /// most `max_age` old or already `settles` the question, otherwise a new
    /// one made with `read`.
    async fn fresh<R>(
        &self,
        after: Instant,
        max_age: Duration,
        settles: impl Fn(&S) -> bool,
        read: impl AsyncFnOnce() -> Result<S, ProviderError>,
        answer: impl FnOnce(&S) -> R,
    ) -> Result<R, ProviderError> {
        let mut pass = self.pass.lock().await;
        let usable = pass
            .started
            .is_some_and(|t| t >= after && (t.elapsed() <= max_age || settles(&pass.seen)));
        if !usable {
            let start = Instant::now();
            pass.seen = read().await?;
            pass.started = Some(start);
        }
        Ok(answer(&pass.seen))
    }
}

/// A customer as a provisioning pass saw it: id, `msp_id`, provisioned.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub id: String,
    pub msp_id: Option<String>,
    pub ready: bool,
}

/// Customers being looked for by name (new ones provisioning, or a create that
/// may have happened), and what the last pass saw of them.
#[derive(Default)]
pub(crate) struct Provisioning {
    pending: Mutex<BTreeMap<String, usize>>,
    /// Customers posted in this apply and not found yet, with when: every
    /// pass looks for all of them, so their waits find them in one pass.
    posted: Mutex<BTreeMap<String, Instant>>,
    /// Creates sent and not answered yet.
    sending: Mutex<usize>,
    /// How many customers the account has (the last full list, or the refresh).
    known: Mutex<usize>,
    shared: Shared<BTreeMap<String, Vec<Seen>>>,
}

/// Where devices are, as a move pass saw them: serial → (customer id or `None`
/// for the MSP inventory, services).
type Positions = BTreeMap<String, (Option<String>, Vec<String>)>;

/// Device moves waiting to show, and what the last pass saw.
#[derive(Default)]
pub(crate) struct Moves {
    /// Destinations waited on (`None`: the MSP inventory), with how many waits.
    pending: Mutex<BTreeMap<Option<String>, usize>>,
    /// How many devices the MSP inventory holds (from the refresh).
    known: Mutex<usize>,
    shared: Shared<Positions>,
}

/// Counts a registration in a pending map; undone on drop.
pub(crate) struct Registered<'a, K: Ord + Clone> {
    map: &'a Mutex<BTreeMap<K, usize>>,
    key: K,
}

impl<'a, K: Ord + Clone> Registered<'a, K> {
    fn new(map: &'a Mutex<BTreeMap<K, usize>>, key: K) -> Self {
        *locked(map).entry(key.clone()).or_default() += 1;
        Registered { map, key }
    }

    /// Takes over a registration made earlier (by [`Moves::expect`]).
    fn taken(map: &'a Mutex<BTreeMap<K, usize>>, key: K) -> Self {
        Registered { map, key }
    }
}

impl<K: Ord + Clone> Drop for Registered<'_, K> {
    fn drop(&mut self) {
        let mut map = locked(self.map);
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

impl Provisioning {
    pub(crate) fn new(known_customers: usize) -> Provisioning {
        let p = Provisioning::default();
        *locked(&p.known) = known_customers;
        p
    }

    /// A create of `name` is about to be sent: the next passes look for it,
    /// and a wait holds its first pass until the create was answered.
    pub(crate) fn posting(&self, name: &str) {
        locked(&self.posted).insert(name.to_string(), Instant::now());
        *locked(&self.sending) += 1;
    }

    /// The create of `name` was answered (whatever the answer).
    pub(crate) fn answered(&self) {
        let mut n = locked(&self.sending);
        *n = n.saturating_sub(1);
    }

    /// Waits (at most `limit`) while creates are being sent, so that one pass
    /// finds the customers posted together.
    pub(crate) async fn after_posts(&self, limit: Duration) {
        let end = Instant::now() + limit;
        while *locked(&self.sending) > 0 && Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// When the create of `name` was sent in this apply, if it was.
    pub(crate) fn posted_at(&self, name: &str) -> Option<Instant> {
        locked(&self.posted).get(name).copied()
    }

    /// `name` was found (or given up on): passes no longer look for it.
    pub(crate) fn settled(&self, name: &str) {
        locked(&self.posted).remove(name);
    }

    /// The customers named exactly `name`, as a pass that started after
    /// `after` (and at most `max_age` ago) saw them.
    pub(crate) async fn look(
        &self,
        client: &Client,
        name: &str,
        after: Instant,
        max_age: Duration,
    ) -> Result<Vec<Seen>, ProviderError> {
        let _registered = Registered::new(&self.pending, name.to_string());
        self.shared
            .fresh(
                after,
                max_age,
                |seen| seen.get(name).is_some_and(|c| c.iter().any(|c| c.ready)),
                async || self.pass(client).await,
                |seen| seen.get(name).cloned().unwrap_or_default(),
            )
            .await
    }

    /// One pass for every pending name: a lookup each, or the paged list when
    /// that is no more calls.
    async fn pass(&self, client: &Client) -> Result<BTreeMap<String, Vec<Seen>>, ProviderError> {
        let mut names: BTreeSet<String> = locked(&self.pending).keys().cloned().collect();
        names.extend(locked(&self.posted).keys().cloned());
        let known = *locked(&self.known);
        let mut out: BTreeMap<String, Vec<Seen>> = BTreeMap::new();
        let mut add = |c: wire::Customer| {
            let Some(name) = c.customer_name.clone().filter(|n| names.contains(n)) else {
                return;
            };
            let Some(id) = c.customer_id.clone() else {
                return;
            };
            let ready = c
                .provision_status
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case("PROVISIONED"));
            let msp_id = c.msp_id.clone().filter(|m| !m.is_empty());
            out.entry(name)
                .or_default()
                .push(Seen { id, msp_id, ready });
        };
        if names.len() <= known.div_ceil(CUSTOMER_PAGE).max(1) {
            for name in &names {
                for c in client.customers_named(name).await? {
                    add(c);
                }
            }
        } else {
            let all = client.list_customers().await?;
            *locked(&self.known) = all.len();
            for c in all {
                add(c);
            }
        }
        Ok(out)
    }
}

impl Moves {
    pub(crate) fn new(known_devices: usize) -> Moves {
        let m = Moves::default();
        *locked(&m.known) = known_devices;
        m
    }

    /// A move to `target` was accepted: from now every pass reads where its
    /// devices are, until its wait ([`Moves::waiting`]) is over. Moves wait in
    /// the background while other writes run, so by the time a wait reads,
    /// many moves may be pending and one inventory pass answers them all.
    pub(crate) fn expect(&self, target: Option<&str>) {
        *locked(&self.pending)
            .entry(target.map(str::to_string))
            .or_default() += 1;
    }

    /// The wait for a move [`Moves::expect`]ed: the move stays pending until
    /// the guard is dropped.
    pub(crate) fn waiting(&self, target: Option<&str>) -> Registered<'_, Option<String>> {
        Registered::taken(&self.pending, target.map(str::to_string))
    }

    /// Where `serials` are, as a pass that started after `after` (and at most
    /// `max_age` ago) saw them; `target` is where they were moved (`None`: the
    /// MSP inventory, whose own id is `msp_id`).
    pub(crate) async fn look(
        &self,
        client: &Client,
        target: Option<&str>,
        msp_id: &str,
        serials: &[String],
        after: Instant,
        max_age: Duration,
    ) -> Result<Positions, ProviderError> {
        self.shared
            .fresh(
                after,
                max_age,
                |seen| {
                    serials
                        .iter()
                        .all(|s| seen.get(s).is_some_and(|(at, _)| at.as_deref() == target))
                },
                async || self.pass(client, msp_id).await,
                |seen| {
                    serials
                        .iter()
                        .filter_map(|s| seen.get(s).map(|p| (s.clone(), p.clone())))
                        .collect()
                },
            )
            .await
    }

    /// One pass for every pending destination: its own device list each, or the
    /// paged MSP inventory when that is no more calls.
    async fn pass(&self, client: &Client, msp_id: &str) -> Result<Positions, ProviderError> {
        let targets: Vec<Option<String>> = locked(&self.pending).keys().cloned().collect();
        let known = *locked(&self.known);
        let in_msp = |id: Option<&str>| id.is_none_or(|id| id.is_empty() || id == msp_id);
        let mut out = Positions::new();
        if targets.len() <= known.div_ceil(DEVICE_PAGE).max(1) {
            for target in &targets {
                let (listed, owner) = match target {
                    Some(id) => (client.tenant_devices(id).await?, Some(id.clone())),
                    None => (client.available_devices().await?, None),
                };
                for d in listed {
                    // A tenant's list holds its own devices (whatever id it shows);
                    // the available list the MSP's (a list ignoring its filter
                    // proves nothing: a device shown in a customer stays there).
                    let at = match (&owner, d.customer_id.as_deref()) {
                        (Some(id), None | Some("")) => Some(id.clone()),
                        (_, c) if in_msp(c) => None,
                        (_, Some(c)) => Some(c.to_string()),
                        (_, None) => None,
                    };
                    if let Some(serial) = d.serial {
                        out.insert(serial, (at, d.services));
                    }
                }
            }
        } else {
            let all = client.list_devices().await?;
            *locked(&self.known) = all.len();
            for d in all {
                let at = d
                    .customer_id
                    .as_deref()
                    .filter(|c| !in_msp(Some(c)))
                    .map(str::to_string);
                if let Some(serial) = d.serial {
                    out.insert(serial, (at, d.services));
                }
            }
        }
        Ok(out)
    }
}
