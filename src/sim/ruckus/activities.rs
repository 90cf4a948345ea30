//! The asynchronous write model (fact sheet §3.2): every write becomes an activity that
//! takes effect only when it succeeds. `GET /activities/{requestId}` shows a non-terminal
//! status for `activity_pending_polls` polls and at least `activity_min_ms` of sim time,
//! then `SUCCESS` (or `FAIL` with a `message` when a failure was injected or the change
//! no longer applies). An activity also completes on its own `activity_settle_ms` after
//! creation, so a client that stopped polling finds a terminal status (and the change
//! made) when it comes back.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::super::Shared;
use super::dates::iso_millis;
use super::tenants::set_field;
use super::{ApiResult, Ctx, DuplicateNames, Ec, RuckusState, err, forbidden, ok_json, status_or};

/// What an activity does when it succeeds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Op {
    CreateEc {
        ec: Box<Ec>,
    },
    /// Set these EC fields (null clears), the wire names of the update body.
    UpdateEc {
        tenant_id: String,
        fields: BTreeMap<String, Value>,
    },
    DeleteEc {
        tenant_id: String,
    },
    /// Make the partner's ECs of this delegation type exactly `mspec_list`.
    AssignPartner {
        partner_id: String,
        delegation_type: String,
        mspec_list: Vec<String>,
        number_of_days: Option<u32>,
    },
    RespondDelegation {
        delegation_id: String,
        accept: bool,
    },
    RevokeDelegation {
        delegation_id: String,
    },
}

impl Op {
    /// The activity's `useCase` (also what `fail_next_activities` edits match).
    pub fn use_case(&self) -> &'static str {
        match self {
            Op::CreateEc { .. } => "ADD_MSP_EC",
            Op::UpdateEc { .. } => "UPDATE_MSP_EC",
            Op::DeleteEc { .. } => "DELETE_MSP_EC",
            Op::AssignPartner { .. } => "ASSIGN_TECH_PARTNER",
            Op::RespondDelegation { .. } => "UPDATE_DELEGATION",
            Op::RevokeDelegation { .. } => "REVOKE_DELEGATION",
        }
    }
}

pub(crate) const USE_CASES: [&str; 6] = [
    "ADD_MSP_EC",
    "UPDATE_MSP_EC",
    "DELETE_MSP_EC",
    "ASSIGN_TECH_PARTNER",
    "UPDATE_DELEGATION",
    "REVOKE_DELEGATION",
];

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Activity {
    pub request_id: String,
    /// The tenant the write executed in.
    pub tenant_id: String,
    pub op: Op,
    pub created_ms: u64,
    /// Completes by itself at this sim time (None = only polls complete it).
    pub due_ms: Option<u64>,
    pub polls: u32,
    /// Decided at creation: this activity ends in FAIL.
    pub fail: bool,
    /// None while in progress, then SUCCESS | FAIL.
    pub result: Option<String>,
    pub message: Option<String>,
    pub ended_ms: Option<u64>,
}

impl Activity {
    pub fn pending(&self) -> bool {
        self.result.is_none()
    }
}

impl RuckusState {
    /// Queue a write; returns its `requestId`.
    pub fn start_activity(&mut self, op: Op, tenant_id: &str, now: u64) -> String {
        let use_case = op.use_case();
        let fail = if self.switches.fail_next_activities > 0 {
            self.switches.fail_next_activities -= 1;
            true
        } else if let Some(rule) = self
            .fail_rules
            .iter_mut()
            .find(|r| r.remaining > 0 && r.use_case.as_deref().is_none_or(|u| u == use_case))
        {
            rule.remaining -= 1;
            true
        } else {
            false
        };
        self.fail_rules.retain(|r| r.remaining > 0);
        let request_id = self.new_uuid();
        self.activities.push(Activity {
            request_id: request_id.clone(),
            tenant_id: tenant_id.to_string(),
            op,
            created_ms: now,
            due_ms: (self.switches.activity_settle_ms > 0).then(|| {
                let after = self.switches.activity_settle_ms;
                now.saturating_add(after.max(self.switches.activity_min_ms))
            }),
            polls: 0,
            fail,
            result: None,
            message: None,
            ended_ms: None,
        });
        request_id
    }

    /// Complete every activity whose time has come, oldest first.
    pub fn settle(&mut self, now: u64) {
        for i in 0..self.activities.len() {
            let a = &self.activities[i];
            if a.pending() && a.due_ms.is_some_and(|d| d <= now) {
                self.complete(i, now);
            }
        }
    }

    fn complete(&mut self, i: usize, now: u64) {
        let op = self.activities[i].op.clone();
        let outcome = if self.activities[i].fail {
            Err("the request failed (injected by the simulator)".to_string())
        } else {
            self.apply(&op, now)
        };
        let a = &mut self.activities[i];
        a.ended_ms = Some(now);
        match outcome {
            Ok(()) => a.result = Some("SUCCESS".into()),
            Err(m) => {
                a.result = Some("FAIL".into());
                a.message = Some(m);
            }
        }
    }

    /// Make a successful activity's change.
    fn apply(&mut self, op: &Op, now: u64) -> Result<(), String> {
        match op {
            Op::CreateEc { ec } => {
                if self.ec(&ec.tenant_id).is_some() {
                    return Err(format!("tenant {} already exists", ec.tenant_id));
                }
                if self.switches.duplicate_names == DuplicateNames::Reject
                    && self
                        .ecs
                        .iter()
                        .any(|e| e.name.trim().eq_ignore_ascii_case(ec.name.trim()))
                {
                    return Err(format!("an MSP-EC named {:?} already exists", ec.name));
                }
                let mut ec = (**ec).clone();
                ec.created_ms = now;
                ec.updated_ms = now;
                self.ecs.push(ec);
            }
            Op::UpdateEc { tenant_id, fields } => {
                let i = self
                    .ec_index(tenant_id)
                    .ok_or_else(|| format!("MSP-EC {tenant_id} no longer exists"))?;
                let mut ec = self.ecs[i].clone();
                for (k, v) in fields {
                    set_field(&mut ec, k, v)?;
                }
                if self.switches.duplicate_names == DuplicateNames::Reject
                    && self.ecs.iter().any(|e| {
                        e.tenant_id != ec.tenant_id
                            && e.name.trim().eq_ignore_ascii_case(ec.name.trim())
                    })
                {
                    return Err(format!("an MSP-EC named {:?} already exists", ec.name));
                }
                ec.updated_ms = now;
                self.ecs[i] = ec;
            }
            Op::DeleteEc { tenant_id } => self.remove_ec(tenant_id, now),
            Op::AssignPartner {
                partner_id,
                delegation_type,
                mspec_list,
                number_of_days,
            } => {
                if self.partner(partner_id).is_none() {
                    return Err(format!("tech partner {partner_id} no longer exists"));
                }
                if let Some(gone) = mspec_list.iter().find(|id| self.ec(id).is_none()) {
                    return Err(format!("MSP-EC {gone} no longer exists"));
                }
                let expiry = number_of_days.map(|d| now.saturating_add(u64::from(d) * 86_400_000));
                for d in self.delegations.iter_mut() {
                    if d.partner_id == *partner_id
                        && d.delegation_type == *delegation_type
                        && d.active()
                    {
                        if mspec_list.contains(&d.ec_id) {
                            if number_of_days.is_some() {
                                d.expiry_ms = expiry;
                                d.updated_ms = now;
                            }
                        } else {
                            d.status = "REVOKED".into();
                            d.updated_ms = now;
                        }
                    }
                }
                let status = match self.switches.new_delegation_status {
                    super::NewDelegationStatus::Accepted => "ACCEPTED",
                    super::NewDelegationStatus::Invited => "INVITED",
                };
                for ec_id in mspec_list {
                    let assigned = self.delegations.iter().any(|d| {
                        d.partner_id == *partner_id
                            && d.delegation_type == *delegation_type
                            && d.ec_id == *ec_id
                            && d.active()
                    });
                    if !assigned {
                        self.add_delegation(
                            ec_id,
                            partner_id,
                            delegation_type,
                            status,
                            expiry,
                            now,
                        );
                    }
                }
            }
            Op::RespondDelegation {
                delegation_id,
                accept,
            } => {
                let d = self
                    .delegations
                    .iter_mut()
                    .find(|d| d.id == *delegation_id)
                    .ok_or_else(|| format!("delegation {delegation_id} no longer exists"))?;
                if d.status != "INVITED" {
                    return Err(format!(
                        "delegation {delegation_id} is {}, not INVITED",
                        d.status
                    ));
                }
                d.status = if *accept { "ACCEPTED" } else { "REJECTED" }.into();
                d.updated_ms = now;
            }
            Op::RevokeDelegation { delegation_id } => {
                let d = self
                    .delegations
                    .iter_mut()
                    .find(|d| d.id == *delegation_id)
                    .ok_or_else(|| format!("delegation {delegation_id} no longer exists"))?;
                if d.status != "REVOKED" {
                    d.status = "REVOKED".into();
                    d.updated_ms = now;
                }
            }
        }
        Ok(())
    }

    /// Apply a write at once (the synchronous switch alternatives).
    pub fn apply_now(&mut self, op: &Op, now: u64) -> Result<(), String> {
        self.apply(op, now)
    }

    /// One poll of an activity: counts the poll, completes it when due, renders it.
    pub fn poll(&mut self, request_id: &str, now: u64) -> Option<Value> {
        let i = self
            .activities
            .iter()
            .position(|a| a.request_id == request_id)?;
        if self.activities[i].pending() {
            self.activities[i].polls += 1;
            let a = &self.activities[i];
            let old_enough = now >= a.created_ms.saturating_add(self.switches.activity_min_ms);
            if a.polls > self.switches.activity_pending_polls && old_enough {
                self.complete(i, now);
            }
        }
        Some(self.render(&self.activities[i]))
    }

    fn render(&self, a: &Activity) -> Value {
        let status = match &a.result {
            Some(r) => r.clone(),
            None => {
                let s = &self.switches.activity_pending_statuses;
                let k = (a.polls.max(1) - 1) as usize;
                s.get(k.min(s.len().saturating_sub(1)))
                    .cloned()
                    .unwrap_or_else(|| "PENDING".into())
            }
        };
        let mut v = json!({
            "requestId": a.request_id,
            "tenantId": a.tenant_id,
            "useCase": a.op.use_case(),
            "status": status,
            "startDatetime": iso_millis(a.created_ms),
        });
        if let Value::Object(m) = &mut v {
            if let Some(end) = a.ended_ms {
                m.insert("endDatetime".into(), json!(iso_millis(end)));
            }
            if let Some(msg) = &a.message {
                m.insert("message".into(), json!(msg));
            }
        }
        v
    }
}

fn poll_response(sh: &Shared, id: &str) -> ApiResult {
    let found = {
        let mut st = sh.lock();
        let now = st.now_ms();
        let unknown = st.ruckus.switches.unknown_activity_status;
        st.ruckus.poll(id, now).ok_or_else(|| {
            err(
                status_or(unknown, StatusCode::NOT_FOUND),
                "NOT_FOUND",
                format!("activity {id} not found"),
            )
        })
    };
    let v = found?;
    // A poll can complete an activity: keep `--data` in step even though this is a GET.
    sh.persist();
    ok_json(v)
}

/// `GET /activities/{requestId}`.
pub(super) async fn get(
    State(sh): State<Shared>,
    Extension(_ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> ApiResult {
    poll_response(&sh, &id)
}

/// `GET /api/tenant/{tenantId}/activity/{requestId}` (legacy RUCKUS Cloud path).
pub(super) async fn get_legacy(
    State(sh): State<Shared>,
    Extension(ctx): Extension<Ctx>,
    Path((tenant_id, id)): Path<(String, String)>,
) -> ApiResult {
    if tenant_id != ctx.acting {
        return Err(forbidden(format!(
            "path tenant {tenant_id} is not the tenant the call executes in"
        )));
    }
    poll_response(&sh, &id)
}
