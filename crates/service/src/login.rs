//! Login: the same answer, timing and audit shape whether or not the username
//! exists, and every attempt counted before its password is checked.

use crate::error::{Result, invalid};
use crate::password::verify_password;
use crate::services::Services;
use chrono::{DateTime, Duration, Utc};
use domain::audit::SYSTEM_ACTOR;
use domain::auth::{OperatorInfo, Role};
use domain::{ApiError, InputProblem};
use serde_json::json;
use std::collections::HashMap;
use std::sync::OnceLock;
use store::{LoginUpdate, NewAudit};

/// Names tracked at once; past this the oldest knowledge is dropped (bounded memory).
const MAX_TRACKED: usize = 10_000;

/// A real hash, verified against when the answer must take as long as a real
/// check (unknown name, locked operator), so timing does not tell who exists.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| crate::password::hash_password("no such operator").unwrap_or_default())
}

/// Failures and lock of one unknown name, as an operator row keeps them.
type Failures = (i32, Option<DateTime<Utc>>);

/// Failed logins per unknown name (keyed hash): count and lock, like an operator row.
#[derive(Default)]
pub(crate) struct UnknownLogins(parking_lot::Mutex<HashMap<String, Failures>>);

impl UnknownLogins {
    /// Counts a failure for `key` (refused while locked): `(failures, lock)`, or
    /// `None` when locked already.
    fn reserve(&self, key: &str, max: i32, lock_until: DateTime<Utc>, now: DateTime<Utc>) -> Option<i32> {
        let mut map = self.0.lock();
        if map.len() >= MAX_TRACKED && !map.contains_key(key) {
            map.retain(|_, (_, lock)| lock.is_some_and(|l| l > now));
        }
        let entry = map.entry(key.to_owned()).or_insert((0, None));
        match entry.1 {
            Some(until) if until > now => return None,
            Some(_) => *entry = (0, None),
            None => {}
        }
        entry.0 += 1;
        if entry.0 >= max {
            entry.1 = Some(lock_until);
        }
        Some(entry.0)
    }

    fn locked_until(&self, key: &str) -> Option<DateTime<Utc>> {
        self.0.lock().get(key).and_then(|(_, lock)| *lock)
    }
}

async fn slow_check(password: &str, phc: String) -> bool {
    let pw = password.to_owned();
    tokio::task::spawn_blocking(move || verify_password(&pw, &phc)).await.unwrap_or(false)
}

impl Services {
    pub(crate) async fn login(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<OperatorInfo> {
        let username = username.trim();
        if username.is_empty() {
            return Err(invalid("username", InputProblem::Required));
        }
        let op = self.store.operator_by_username(username).await?;
        // An unknown name is recorded by a keyed hash: a password typed into the
        // username field must not live on in the audit log.
        let target = match &op {
            Some(op) => format!("operator:{}", op.username),
            None => format!("operator:#{}", &self.vault.keyed_hash(username)[..12]),
        };
        let lock_until = now + Duration::minutes(self.policy.lock_minutes);
        let max = i32::try_from(self.policy.max_failures).unwrap_or(i32::MAX);
        // The attempt is counted before the password is checked (and refused if
        // locked), so parallel guesses each take a place in the count.
        let counted = match &op {
            Some(op) => self.store.reserve_login_attempt(op.id, max, lock_until, now).await?,
            None => self.unknown_logins.reserve(&target, max, lock_until, now),
        };
        let phc = op.as_ref().map_or_else(|| dummy_hash().to_owned(), |o| o.password_hash.clone());
        let matches = slow_check(password, phc).await && op.is_some() && counted.is_some();
        let Some(failed) = counted else {
            let until = match &op {
                Some(_) => self.store.operator_by_username(username).await?.and_then(|o| o.locked_until),
                None => self.unknown_logins.locked_until(&target),
            };
            let until = until.filter(|u| *u > now).unwrap_or(lock_until);
            let audit =
                NewAudit::new(now, SYSTEM_ACTOR, "login.refused_locked", target, json!({ "until": until }));
            self.store.append_audit(audit).await?;
            return Err(ApiError::OperatorLocked { until }.into());
        };
        let Some(op) = op.filter(|_| matches) else {
            let locked = failed >= max;
            let (action, detail) = if locked {
                ("login.locked", json!({ "failed_attempts": failed, "until": lock_until }))
            } else {
                ("login.failed", json!({ "failed_attempts": failed }))
            };
            self.store.append_audit(NewAudit::new(now, SYSTEM_ACTOR, action, target, detail)).await?;
            return Err(if locked {
                ApiError::OperatorLocked { until: lock_until }
            } else {
                ApiError::InvalidCredentials {
                    max_failures: self.policy.max_failures,
                    lock_minutes: self.policy.lock_minutes,
                }
            }
            .into());
        };
        let role = Role::parse(&op.role).ok_or_else(|| ApiError::Database {
            message: format!("operator {} has unknown role {}", op.username, op.role),
        })?;
        // Told only to someone who knows the password: the account's owner.
        if op.disabled {
            let audit = NewAudit::new(now, SYSTEM_ACTOR, "login.refused_disabled", target, json!({}));
            self.store.append_audit(audit).await?;
            return Err(ApiError::OperatorDisabled.into());
        }
        let update = LoginUpdate {
            operator_id: op.id,
            failed_attempts: 0,
            locked_until: None,
            last_login_at: Some(now),
        };
        let audit = NewAudit::new(now, &op.username, "login.ok", target, json!({ "role": role }));
        self.store.record_login(update, audit).await?;
        Ok(OperatorInfo {
            id: op.id,
            username: op.username,
            display_name: op.display_name,
            role,
            must_change_password: op.must_change_password,
        })
    }
}
