//! The audit log's hash chain.
//!
//! Each row's hash is `sha256(prev_hash || canonical(row))`, so removing, reordering
//! or editing any row breaks every hash after it. The first row chains from
//! [`GENESIS_HASH`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The operator name recorded for actions with no logged-in operator.
pub const SYSTEM_ACTOR: &str = "system";

/// An audit row as stored and as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, gap-free.
    pub seq: i64,
    /// Row id (UUIDv7).
    pub id: Uuid,
    /// When, truncated to microseconds (what both databases keep).
    pub at: DateTime<Utc>,
    /// Username of the operator, or `system`.
    pub actor: String,
    /// What happened, e.g. `login.failed`, `pii.reveal`.
    pub action: String,
    /// What it happened to, e.g. `customer:0190…`.
    pub target: String,
    /// Details as canonical JSON text (sorted keys). Never holds clear PII.
    pub detail: String,
    /// Hash of the previous row.
    pub prev_hash: String,
    /// This row's hash.
    pub hash: String,
}

/// The bytes hashed for a row: a JSON array in a fixed order.
pub fn canonical(
    seq: i64,
    id: Uuid,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> String {
    serde_json::json!([seq, id.to_string(), at.timestamp_micros(), actor, action, target, detail]).to_string()
}

/// `sha256(prev_hash || canonical)` in lower-case hex.
pub fn chain_hash(prev_hash: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical.as_bytes());
    hex::encode(h.finalize())
}

/// The hash a record should carry given its own fields.
pub fn expected_hash(r: &AuditRecord) -> String {
    chain_hash(&r.prev_hash, &canonical(r.seq, r.id, r.at, &r.actor, &r.action, &r.target, &r.detail))
}

/// Where and why a chain fails to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit chain broken at row {seq}: {reason}")]
pub struct ChainBreak {
    /// The first row that does not verify.
    pub seq: i64,
    /// What is wrong with it.
    pub reason: String,
}

/// Verifies consecutive rows against the chain so far. Feed pages in order;
/// `state` carries the last verified `(seq, hash)` between pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { last_seq: 0, last_hash: GENESIS_HASH.to_owned() }
    }
}

impl ChainVerifier {
    /// Checks the next row.
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        let fail = |reason: String| ChainBreak { seq: r.seq, reason };
        if r.seq != self.last_seq + 1 {
            return Err(fail(format!("expected row {}, found row {}", self.last_seq + 1, r.seq)));
        }
        if r.prev_hash != self.last_hash {
            return Err(fail("its previous-hash does not match the row before it".to_owned()));
        }
        if expected_hash(r) != r.hash {
            return Err(fail("its content does not match its hash (edited?)".to_owned()));
        }
        self.last_seq = r.seq;
        self.last_hash.clone_from(&r.hash);
        Ok(())
    }

    /// Rows verified so far.
    pub fn verified_rows(&self) -> i64 {
        self.last_seq
    }
}

/// The result of verifying the whole log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    /// Rows checked.
    pub rows: i64,
    /// The first break, if any.
    pub first_break: Option<ChainBreak>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        let at = DateTime::from_timestamp_micros(1_764_000_000_000_000).unwrap();
        (1..=n)
            .map(|seq| {
                let mut r = AuditRecord {
                    seq,
                    id: Uuid::from_u128(seq as u128),
                    at,
                    actor: "cs1".into(),
                    action: "pii.reveal".into(),
                    target: "customer:x".into(),
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                r.hash = expected_hash(&r);
                prev.clone_from(&r.hash);
                r
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies() {
        let mut v = ChainVerifier::default();
        for r in chain(5) {
            v.push(&r).unwrap();
        }
        assert_eq!(v.verified_rows(), 5);
    }

    #[test]
    fn detects_edit_deletion_and_reorder() {
        let mut rows = chain(4);
        rows[2].action = "login.ok".into();
        let mut v = ChainVerifier::default();
        let err = rows.iter().try_for_each(|r| v.push(r)).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("edited"));

        let mut rows = chain(4);
        rows.remove(1);
        let mut v = ChainVerifier::default();
        let err = rows.iter().try_for_each(|r| v.push(r)).unwrap_err();
        assert_eq!(err.seq, 3);

        let mut rows = chain(4);
        rows.swap(1, 2);
        let mut v = ChainVerifier::default();
        assert!(rows.iter().try_for_each(|r| v.push(r)).is_err());
    }
}
