//! Waiting out Aruba's asynchronous device moves. A move answers 200 at once but is
//! reflected later (fact sheet §1.6: the official workflow re-polls the tenant's
//! device list), and licensing or associating a device before its move landed is
//! refused. One read proves a whole batch landed — the customer's device list for a
//! move in, the MSP inventory's available devices for a move back — so a batch costs
//! one read per poll, never one per device; and the moves waiting at the same time
//! share each read (`run::poll`: one read per destination, or the paged MSP
//! inventory when that is fewer calls). The wait is a background step of its
//! own (`StepOp::AwaitMove`), started when no write is ready, so the moves of a
//! large onboarding pile up and one inventory pass confirms them together. Every wait is bounded in polls and time;
//! a move that does not show in time is an error naming the customer, the devices
//! and the timeout, and the next run settles it by reading where the devices are.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use tokio::time::Instant;

use super::Client;
use super::run::Moves;
use crate::vendor::Stop;
use crate::vendor::VendorClient;
use crate::vendor::http::ProviderError;

/// Hard upper bound on polls of one wait, whatever the settings say.
const MAX_POLLS: u32 = 10_000;
/// Polls a wait always gets after it starts, whatever is left of its timeout.
const GRACE_POLLS: u32 = 3;
/// Shortest pause between two polls.
const MIN_PAUSE: Duration = Duration::from_millis(10);

/// Where a batch of devices was moved.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Landing<'a> {
    /// Into this customer id: it shows in the customer's device list.
    Customer(&'a str),
    /// Back to the MSP inventory, whose own customer id is this: it shows among the
    /// available devices, listed under no customer, `""` or the MSP's id.
    Msp(&'a str),
}

impl Landing<'_> {
    /// The read that shows such a move on its own (a shared pass may read the
    /// whole MSP inventory instead).
    fn call(&self) -> String {
        match self {
            Landing::Customer(id) => format!("GET /msp_api/v1/customers/{id}/devices"),
            Landing::Msp(_) => "GET /msp_api/v1/devices?device_allocation_status=2".into(),
        }
    }
}

/// A move the vendor accepted: where to, which devices, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentMove<'a> {
    pub landing: Landing<'a>,
    pub serials: &'a [String],
    pub accepted: Instant,
}

/// The pause before read `n` of a wait (0-based; the first read comes after a pause
/// too, as a move is never reflected at once): an eighth of the poll interval,
/// doubling up to the interval, and never shorter than `floor`.
pub(crate) fn pause(n: u32, interval_ms: u64, floor: Duration) -> Duration {
    let interval = Duration::from_millis(interval_ms);
    let first = interval / 8;
    first
        .saturating_mul(1u32 << n.min(16))
        .min(interval)
        .max(floor)
        .max(MIN_PAUSE)
}

/// Sleeps for `total` in short slices; false as soon as Ctrl-C (`stop`) is set.
async fn nap(total: Duration, stop: &Stop) -> bool {
    const SLICE: Duration = Duration::from_millis(100);
    let end = Instant::now() + total;
    loop {
        if stop.is_set() {
            return false;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        tokio::time::sleep(left.min(SLICE)).await;
    }
}

impl Client {
    /// The shortest sensible pause between two reads of a wait: one call's share of
    /// the per-second budget, so that polling never crowds out the apply's own calls.
    pub(crate) fn min_pause(&self) -> Duration {
        Duration::from_millis(1000 / u64::from(self.settings.calls_per_second.max(1)))
    }

    /// Polls until every serial shows where `landing` says, then answers the services
    /// each one holds as listed (auto-licence may already have put some there).
    /// `what` names the move in messages, e.g. "the move of 4 device(s) into customer.x".
    pub(crate) async fn wait_for_move(
        &self,
        moves: &Moves,
        msp_id: &str,
        what: &str,
        sent: SentMove<'_>,
        stop: &Stop,
    ) -> Result<BTreeMap<String, Vec<String>>, ProviderError> {
        let SentMove {
            landing,
            serials,
            accepted,
        } = sent;
        let timeout = Duration::from_secs(self.settings.move_timeout_secs);
        // The vendor has had the move since it was `accepted` (the wait may start
        // later: waits run when no other write is ready), and only a read that
        // started after that proves it landed.
        let start = accepted;
        let wanted: BTreeSet<&str> = serials.iter().map(String::as_str).collect();
        let mut missing: Vec<&str> = wanted.iter().copied().collect();
        let mut polls = 0;
        let target = match landing {
            Landing::Customer(id) => Some(id),
            Landing::Msp(_) => None,
        };
        let msp_id = match landing {
            Landing::Msp(id) => id,
            Landing::Customer(_) => msp_id,
        };
        let _waiting = moves.waiting(target);
        let _declared = crate::vendor::wait_for(format!("{what} to land"), timeout);
        // The timeout counts from acceptance, but a wait that starts late (at
        // scale, after every write) still gets its first few polls: one read
        // that finds the move not landed yet does not decide.
        let interval = self.settings.poll_interval_ms;
        let grace: Duration = (0..GRACE_POLLS)
            .map(|n| pause(n, interval, self.min_pause()))
            .sum();
        let deadline = (start + timeout).max(Instant::now() + grace);
        while polls < MAX_POLLS {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait = pause(polls, self.settings.poll_interval_ms, self.min_pause());
            // The first pause counts from the move's acceptance.
            let due = if polls == 0 {
                wait.saturating_sub(start.elapsed())
            } else {
                wait
            };
            if !nap(due.min(left), stop).await {
                return Err(self.other(format!(
                        "interrupted while waiting for {what} to show ({} not there yet); the next apply reads where the devices are and carries on",
                        missing.join(", ")
                    )));
            }
            let positions = moves
                .look(self, target, msp_id, serials, accepted, wait)
                .await?;
            polls += 1;
            let seen: BTreeMap<String, Vec<String>> = positions
                .into_iter()
                .filter(|(_, (at, _))| at.as_deref() == target)
                .map(|(serial, (_, services))| (serial, services))
                .collect();
            missing = wanted
                .iter()
                .copied()
                .filter(|s| !seen.contains_key(*s))
                .collect();
            if missing.is_empty() {
                return Ok(seen);
            }
            if Instant::now() >= deadline {
                break;
            }
            tracing::info!(provider = %self.key(), step = %what, waiting_for = missing.len(), "the move is not reflected yet; polling again");
        }
        Err(self.other(format!(
                "{what} was accepted, but {} did not show there in {} s ({polls} reads of {} or the MSP inventory; move_timeout_secs = {}); what depends on it (their licences and site associations, or the delete of the customer they left) was not attempted. Re-run apply: it reads where the devices are and carries on (raise move_timeout_secs if moves take longer)",
                missing.join(", "),
                start.elapsed().as_secs(),
                landing.call(),
                self.settings.move_timeout_secs,
            )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_start_small_and_double_up_to_the_interval() {
        let none = Duration::ZERO;
        let ms = |n| pause(n, 8_000, none).as_millis();
        assert_eq!(
            [ms(0), ms(1), ms(2), ms(3), ms(4), ms(40)],
            [1000, 2000, 4000, 8000, 8000, 8000]
        );
        assert_eq!(pause(0, 0, none), MIN_PAUSE, "never a busy loop");
        assert_eq!(
            pause(u32::MAX, u64::MAX, none),
            Duration::from_millis(u64::MAX)
        );
        let budget = Duration::from_millis(143);
        assert_eq!(pause(0, 20, budget), budget, "one call's share of 7/s");
        assert_eq!(pause(9, 8_000, budget).as_millis(), 8000);
    }
}
