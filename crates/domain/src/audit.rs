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
#[error("audit chain broken at row {seq}: {reason:?}")]
pub struct ChainBreak {
    /// The first row that does not verify.
    pub seq: i64,
    /// What is wrong with it, as a code.
    pub reason: BreakReason,
}

/// Why a chain fails to verify (the UI words it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BreakReason {
    /// A row is missing or out of order: this one was expected.
    Gap {
        /// The sequence number expected here.
        expected: i64,
    },
    /// Its previous-hash is not the hash of the row before it.
    PrevHash,
    /// Its content does not match its hash: edited.
    Edited,
    /// The head says the log is longer: rows were deleted at the end.
    TailMissing {
        /// The last sequence number the head vouches for.
        head_seq: i64,
    },
    /// The head's hash is not the last row's: the head or the tail was rewritten.
    HeadMismatch,
    /// The row's hash differs from a checkpoint kept outside the database: the whole
    /// chain was recomputed by someone with owner rights.
    Checkpoint,
}

/// A row's sequence number and hash, exported by an auditor and kept outside the
/// database (printed, mailed, in another system). Later verifications check that
/// the row still has that hash, which a rewrite of the whole chain cannot keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheckpoint {
    /// The row.
    pub seq: i64,
    /// Its hash (64 hex digits).
    pub hash: String,
}

impl AuditCheckpoint {
    /// The text an auditor keeps: `seq:hash`.
    pub fn to_text(&self) -> String {
        format!("{}:{}", self.seq, self.hash)
    }

    /// Parses `seq:hash` (spaces around either part allowed).
    pub fn parse(text: &str) -> Option<Self> {
        let (seq, hash) = text.trim().split_once(':')?;
        let hash = hash.trim().to_ascii_lowercase();
        // Hashes are lower-case hex; a checkpoint copied in upper case is the same one.
        let hex = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        Some(Self { seq: seq.trim().parse().ok().filter(|s| *s > 0)?, hash: Some(hash).filter(|_| hex)? })
    }
}

/// Verifies consecutive rows against the chain so far. Feed pages in order;
/// `state` carries the last verified `(seq, hash)` between pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    checkpoints: std::collections::BTreeMap<i64, String>,
    checkpoints_checked: usize,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            checkpoints: Default::default(),
            checkpoints_checked: 0,
        }
    }
}

impl ChainVerifier {
    /// A verifier that also checks rows against checkpoints kept outside the database.
    pub fn with_checkpoints(checkpoints: &[AuditCheckpoint]) -> Self {
        let checkpoints = checkpoints.iter().map(|c| (c.seq, c.hash.clone())).collect();
        Self { checkpoints, ..Self::default() }
    }

    /// Checks the next row.
    pub fn push(&mut self, r: &AuditRecord) -> Result<(), ChainBreak> {
        let fail = |reason: BreakReason| ChainBreak { seq: r.seq, reason };
        if r.seq != self.last_seq + 1 {
            return Err(fail(BreakReason::Gap { expected: self.last_seq + 1 }));
        }
        if r.prev_hash != self.last_hash {
            return Err(fail(BreakReason::PrevHash));
        }
        if expected_hash(r) != r.hash {
            return Err(fail(BreakReason::Edited));
        }
        if let Some(kept) = self.checkpoints.get(&r.seq) {
            if *kept != r.hash {
                return Err(fail(BreakReason::Checkpoint));
            }
            self.checkpoints_checked += 1;
        }
        self.last_seq = r.seq;
        self.last_hash.clone_from(&r.hash);
        Ok(())
    }

    /// After the last row: the head row (kept in the same transaction as every
    /// append) must name the last row, and no checkpoint may lie beyond it — a log
    /// cut short at its end has no gap to show otherwise.
    pub fn finish(&self, head_seq: i64, head_hash: &str) -> Result<(), ChainBreak> {
        let beyond = self.checkpoints.keys().copied().filter(|s| *s > self.last_seq).max();
        let head_seq = head_seq.max(beyond.unwrap_or(0));
        if self.last_seq < head_seq {
            return Err(ChainBreak { seq: self.last_seq + 1, reason: BreakReason::TailMissing { head_seq } });
        }
        if self.last_seq > head_seq || self.last_hash != head_hash {
            return Err(ChainBreak { seq: self.last_seq, reason: BreakReason::HeadMismatch });
        }
        Ok(())
    }

    /// Rows verified so far.
    pub fn verified_rows(&self) -> i64 {
        self.last_seq
    }

    /// Checkpoints matched so far (the auditor sees that theirs were used).
    pub fn checkpoints_checked(&self) -> usize {
        self.checkpoints_checked
    }
}

/// The result of verifying the whole log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    /// Rows checked.
    pub rows: i64,
    /// Checkpoints kept outside the database that the rows matched.
    pub checkpoints_checked: usize,
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
        assert_eq!(err, ChainBreak { seq: 3, reason: BreakReason::Edited });

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

    #[test]
    fn a_cut_tail_and_a_rewritten_chain_are_caught() {
        let rows = chain(5);
        let head = rows[4].hash.clone();
        // The last two rows deleted: every remaining row verifies, the head does not.
        let mut v = ChainVerifier::default();
        rows[..3].iter().try_for_each(|r| v.push(r)).unwrap();
        assert_eq!(
            v.finish(5, &head),
            Err(ChainBreak { seq: 4, reason: BreakReason::TailMissing { head_seq: 5 } })
        );
        // The whole chain recomputed after an edit: only a checkpoint kept outside shows it.
        let checkpoint = AuditCheckpoint { seq: 2, hash: rows[1].hash.clone() };
        assert_eq!(AuditCheckpoint::parse(&checkpoint.to_text()), Some(checkpoint.clone()));
        let mut forged = rows.clone();
        forged[1].actor = "mallory".into();
        let mut prev = forged[0].hash.clone();
        for r in &mut forged[1..] {
            r.prev_hash = prev;
            r.hash = expected_hash(r);
            prev = r.hash.clone();
        }
        let mut plain = ChainVerifier::default();
        forged.iter().try_for_each(|r| plain.push(r)).unwrap();
        assert_eq!(plain.finish(5, &forged[4].hash), Ok(()), "internally consistent");
        let mut v = ChainVerifier::with_checkpoints(&[checkpoint]);
        let err = forged.iter().try_for_each(|r| v.push(r)).unwrap_err();
        assert_eq!(err, ChainBreak { seq: 2, reason: BreakReason::Checkpoint });
    }
}
