//! Rolling drift checks (`drift --full-every 24h`): every run reads the cheap
//! MSP-wide lists (customers, device inventory, tenants: customer and
//! device-assignment drift for everyone) and the per-customer reads (an Aruba
//! tenant's sites and auto-licence setting: the API answers them one customer
//! at a time) of a slice of the customers, oldest first, sized so that every
//! customer is fully read at least once per period. The cursor — when each
//! customer was last fully read — is kept in state with the drift memory.
//! Pure: the caller reads the memory and the clock and keeps the result.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One provider's customers and what a deep read of one costs.
#[derive(Debug, Clone)]
pub struct ProviderCustomers {
    pub provider: String,
    /// Declared customer keys of the provider.
    pub customers: Vec<String>,
    /// What the vendor only reads one customer at a time, one call each
    /// (empty: every run reads every customer fully).
    pub reads: Vec<String>,
    /// Calls this provider's per-customer reads may spend in this run
    /// (`--max-calls PROVIDER=N` minus its MSP-wide lists), if limited.
    pub budget: Option<u64>,
}

impl ProviderCustomers {
    fn calls_per_customer(&self) -> u64 {
        self.reads.len() as u64
    }
}

/// How this run's slice was chosen, per provider (for the report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub provider: String,
    /// Declared customers of the provider.
    pub customers: usize,
    /// What a full read of a customer adds (e.g. its sites).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<String>,
    /// Customers fully read by this run.
    pub checked: usize,
    /// When the least recently fully read customer not read this run was
    /// last read (Unix seconds; `None` when every customer was read, or one
    /// never was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_unchecked: Option<u64>,
    /// Customers overdue (not fully read within the period) that this run
    /// could not read within `--max-calls`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub overdue: usize,
    /// When every customer had last been fully read at least once: the
    /// oldest full read of any customer (Unix seconds), after this run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_full_check: Option<u64>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// This run's choice: the customers to read fully, and the coverage report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Slice {
    pub deep: BTreeSet<String>,
    pub coverage: Vec<Coverage>,
}

/// Chooses which customers this run reads fully.
///
/// - `checked`: provider → customer key → when it was last fully read.
/// - `previous_run`: when the last drift run was (the runs' interval is
///   taken to be the time since then; the first run reads everything).
/// - `budget`: calls left for per-customer reads (`--max-calls` minus the
///   expected cost of the MSP-wide lists), if limited.
///
/// Each run reads `ceil(customers × interval ÷ period)` customers, least
/// recently read first, and at least every customer that would be overdue by
/// the next run; a budget can only cut the slice, and what it cuts is
/// reported as overdue.
pub fn slice(
    providers: &[ProviderCustomers],
    checked: &BTreeMap<String, BTreeMap<String, u64>>,
    now: u64,
    previous_run: Option<u64>,
    period: u64,
    budget: Option<u64>,
) -> Slice {
    let period = period.max(1);
    let interval = previous_run
        .map(|at| now.saturating_sub(at).clamp(1, period))
        .unwrap_or(period);
    let mut out = Slice::default();
    let mut left = budget;
    for p in providers {
        let last = |k: &str| checked.get(&p.provider).and_then(|m| m.get(k)).copied();
        let chosen: Vec<&String>;
        let mut overdue = 0;
        if p.reads.is_empty() {
            chosen = p.customers.iter().collect();
        } else {
            let mut order: Vec<&String> = p.customers.iter().collect();
            // Never read first, then least recently read; by key within a time.
            order.sort_by_key(|k| (last(k).unwrap_or(0), k.as_str()));
            let share = (p.customers.len() as u64 * interval).div_ceil(period) as usize;
            let due = order
                .iter()
                .filter(|k| last(k).is_none_or(|at| at + period < now + interval))
                .count();
            let wanted = share.max(due).min(order.len());
            let affordable = [left, p.budget]
                .into_iter()
                .flatten()
                .map(|calls| (calls / p.calls_per_customer().max(1)) as usize)
                .min()
                .unwrap_or(usize::MAX);
            let take = wanted.min(affordable);
            overdue = due.saturating_sub(take);
            chosen = order.into_iter().take(take).collect();
            if let Some(calls) = &mut left {
                *calls = calls.saturating_sub(take as u64 * p.calls_per_customer());
            }
        }
        let chosen_set: BTreeSet<&String> = chosen.iter().copied().collect();
        let unchecked: Vec<Option<u64>> = p
            .customers
            .iter()
            .filter(|k| !chosen_set.contains(k))
            .map(|k| last(k))
            .collect();
        let oldest_unchecked = if unchecked.iter().any(Option::is_none) {
            None
        } else {
            unchecked.iter().flatten().min().copied()
        };
        let last_full_check = if unchecked.iter().any(Option::is_none) {
            None
        } else if unchecked.is_empty() {
            Some(now)
        } else {
            oldest_unchecked
        };
        out.coverage.push(Coverage {
            provider: p.provider.clone(),
            customers: p.customers.len(),
            reads: p.reads.clone(),
            checked: chosen.len(),
            oldest_unchecked,
            overdue,
            last_full_check,
        });
        out.deep.extend(chosen.into_iter().cloned());
    }
    out
}

/// Per provider, when every customer had last been fully read: the oldest
/// full read of any of its customers (`None` while one never was).
pub fn last_full_checks(
    checked: &BTreeMap<String, BTreeMap<String, u64>>,
    providers: &[ProviderCustomers],
) -> BTreeMap<String, u64> {
    providers
        .iter()
        .filter_map(|p| {
            let cursor = checked.get(&p.provider)?;
            let times: Option<Vec<u64>> =
                p.customers.iter().map(|k| cursor.get(k).copied()).collect();
            let oldest = times?.into_iter().min()?;
            Some((p.provider.clone(), oldest))
        })
        .collect()
}

/// The cursor after a run: the customers it read fully are read `now`;
/// customers no longer declared are dropped; providers not read keep theirs.
pub fn advance(
    checked: &BTreeMap<String, BTreeMap<String, u64>>,
    providers: &[ProviderCustomers],
    read: &BTreeSet<String>,
    deep: &BTreeSet<String>,
    now: u64,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    for p in providers {
        let old = checked.get(&p.provider);
        let mut cursor = BTreeMap::new();
        for k in &p.customers {
            let at = if read.contains(&p.provider) && deep.contains(k) {
                Some(now)
            } else {
                old.and_then(|m| m.get(k)).copied()
            };
            if let Some(at) = at {
                cursor.insert(k.clone(), at);
            }
        }
        out.insert(p.provider.clone(), cursor);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: u64 = 3600;
    const DAY: u64 = 24 * HOUR;

    fn aruba(n: usize) -> ProviderCustomers {
        ProviderCustomers {
            provider: "aruba".into(),
            customers: (0..n).map(|i| format!("c{i:04}")).collect(),
            reads: vec!["sites".into(), "auto-licence setting".into()],
            budget: None,
        }
    }

    #[test]
    fn the_first_run_reads_everything_then_hourly_runs_read_a_24th() {
        let p = [aruba(1000)];
        let mut checked = BTreeMap::new();
        let start = 1_000_000;
        let first = slice(&p, &checked, start, None, DAY, None);
        assert_eq!(first.deep.len(), 1000);
        checked = advance(
            &checked,
            &p,
            &BTreeSet::from(["aruba".into()]),
            &first.deep,
            start,
        );
        assert_eq!(first.coverage[0].last_full_check, Some(start));

        // A day of hourly runs: each reads about 1000/24, and every customer
        // is read again within the day.
        let mut read_per_run = Vec::new();
        let mut previous = start;
        for run in 1..=24 {
            let now = start + run * HOUR;
            let s = slice(&p, &checked, now, Some(previous), DAY, None);
            read_per_run.push(s.deep.len());
            checked = advance(
                &checked,
                &p,
                &BTreeSet::from(["aruba".into()]),
                &s.deep,
                now,
            );
            previous = now;
            let oldest = checked["aruba"].values().min().copied().unwrap();
            assert!(
                now - oldest <= DAY,
                "run {run}: a customer unread for {} s",
                now - oldest
            );
        }
        assert!(
            read_per_run.iter().all(|n| (42..=84).contains(n)),
            "{read_per_run:?}"
        );
        let total: usize = read_per_run.iter().sum();
        assert!((1000..=1100).contains(&total), "{total}");
    }

    #[test]
    fn a_budget_cuts_the_slice_and_reports_overdue_customers() {
        let p = [aruba(100)];
        let s = slice(&p, &BTreeMap::new(), 10 * DAY, None, DAY, Some(20));
        let own = ProviderCustomers {
            budget: Some(8),
            ..aruba(100)
        };
        let cut = slice(&[own], &BTreeMap::new(), 10 * DAY, None, DAY, Some(20));
        assert_eq!(
            cut.deep.len(),
            4,
            "the provider's own budget cuts deeper than the total"
        );
        assert_eq!(s.deep.len(), 10, "20 calls at 2 per customer");
        assert_eq!(s.coverage[0].overdue, 90);
        assert_eq!(s.coverage[0].last_full_check, None, "some were never read");
    }

    #[test]
    fn vendors_without_per_customer_reads_read_everyone_every_run() {
        let p = [ProviderCustomers {
            provider: "ext".into(),
            customers: vec!["a".into(), "b".into()],
            reads: Vec::new(),
            budget: None,
        }];
        let s = slice(&p, &BTreeMap::new(), DAY, Some(DAY - HOUR), DAY, Some(0));
        assert_eq!(s.deep.len(), 2);
        assert_eq!(s.coverage[0].last_full_check, Some(DAY));
    }

    #[test]
    fn an_unread_provider_keeps_its_cursor_and_dropped_customers_go() {
        let p = [aruba(2)];
        let checked = BTreeMap::from([(
            "aruba".to_string(),
            BTreeMap::from([("c0000".to_string(), 5), ("gone".to_string(), 5)]),
        )]);
        let deep = BTreeSet::from(["c0000".to_string(), "c0001".to_string()]);
        let kept = advance(&checked, &p, &BTreeSet::new(), &deep, 99);
        assert_eq!(kept["aruba"], BTreeMap::from([("c0000".to_string(), 5)]));
        let moved = advance(&checked, &p, &BTreeSet::from(["aruba".into()]), &deep, 99);
        assert_eq!(
            moved["aruba"].values().copied().collect::<Vec<_>>(),
            [99, 99]
        );
    }
}
