//! Holds (冻结): funds reserved on an account, then posted (in parts), voided or
//! left to expire — the two-phase transfer of TigerBeetle and Formance.
//!
//! A hold lowers the account's available balance by what is still reserved. A
//! `Pending` hold whose expiry has come counts as `Expired` even before anyone
//! records it, so a late job cannot keep funds frozen.

use super::codes::HoldStatus;
use super::ids::AccountId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A hold on one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hold {
    /// The account whose funds are reserved.
    pub account: AccountId,
    /// The amount reserved when placed (fen, positive).
    pub amount_minor: i64,
    /// The part posted so far (fen, `0..=amount_minor`).
    pub posted_minor: i64,
    /// The recorded state; read it through [`Hold::status_at`].
    pub status: HoldStatus,
    /// From this instant on the hold no longer reserves anything; `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Why a hold cannot change as asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum HoldProblem {
    /// Only a pending hold may be posted, voided or expired.
    #[error("hold is {status}, not pending")]
    NotPending {
        /// Its state at the time asked.
        status: HoldStatus,
    },
    /// The posting is larger than what the hold still reserves.
    #[error("{amount_minor} above the {remaining_minor} still held")]
    AboveHold {
        /// What was asked for.
        amount_minor: i64,
        /// What the hold still reserves.
        remaining_minor: i64,
    },
    /// Amounts are positive.
    #[error("amount {amount_minor} is not positive")]
    NonPositiveAmount {
        /// What was asked for.
        amount_minor: i64,
    },
    /// The expiry has not come yet.
    #[error("not expired before {expires_at}")]
    NotYetExpired {
        /// When it will expire.
        expires_at: DateTime<Utc>,
    },
    /// The hold has no expiry to reach.
    #[error("hold has no expiry")]
    NoExpiry,
    /// A new hold whose expiry has already come would reserve nothing.
    #[error("expiry {expires_at} is not in the future")]
    ExpiryNotInFuture {
        /// The expiry given.
        expires_at: DateTime<Utc>,
    },
}

impl Hold {
    /// A new pending hold of `amount_minor` on `account`.
    pub fn new(
        account: AccountId,
        amount_minor: i64,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Self, HoldProblem> {
        if amount_minor <= 0 {
            return Err(HoldProblem::NonPositiveAmount { amount_minor });
        }
        if let Some(expires_at) = expires_at
            && expires_at <= now
        {
            return Err(HoldProblem::ExpiryNotInFuture { expires_at });
        }
        Ok(Self { account, amount_minor, posted_minor: 0, status: HoldStatus::Pending, expires_at })
    }

    /// The state at `now`: a pending hold at or past its expiry is `Expired`.
    pub fn status_at(&self, now: DateTime<Utc>) -> HoldStatus {
        match (self.status, self.expires_at) {
            (HoldStatus::Pending, Some(expires_at)) if now >= expires_at => HoldStatus::Expired,
            (status, _) => status,
        }
    }

    /// What the hold still reserves at `now` (zero unless pending).
    pub fn remaining_minor(&self, now: DateTime<Utc>) -> i64 {
        if self.status_at(now) == HoldStatus::Pending {
            self.amount_minor.saturating_sub(self.posted_minor)
        } else {
            0
        }
    }

    /// Posts `part_minor` of the hold. Partial postings are allowed; posting the
    /// rest makes the hold `Posted`. The total posted never exceeds the hold.
    pub fn post(&mut self, part_minor: i64, now: DateTime<Utc>) -> Result<(), HoldProblem> {
        self.pending_at(now)?;
        if part_minor <= 0 {
            return Err(HoldProblem::NonPositiveAmount { amount_minor: part_minor });
        }
        let remaining_minor = self.remaining_minor(now);
        if part_minor > remaining_minor {
            return Err(HoldProblem::AboveHold { amount_minor: part_minor, remaining_minor });
        }
        // Cannot overflow: part ≤ amount − posted.
        self.posted_minor += part_minor;
        if self.posted_minor == self.amount_minor {
            self.status = HoldStatus::Posted;
        }
        Ok(())
    }

    /// Releases what is still reserved; parts posted earlier stay posted.
    pub fn void(&mut self, now: DateTime<Utc>) -> Result<(), HoldProblem> {
        self.pending_at(now)?;
        self.status = HoldStatus::Voided;
        Ok(())
    }

    /// Records the expiry of a pending hold whose time has come.
    pub fn expire(&mut self, now: DateTime<Utc>) -> Result<(), HoldProblem> {
        if self.status != HoldStatus::Pending {
            return Err(HoldProblem::NotPending { status: self.status });
        }
        match self.expires_at {
            None => Err(HoldProblem::NoExpiry),
            Some(expires_at) if now < expires_at => Err(HoldProblem::NotYetExpired { expires_at }),
            Some(_) => {
                self.status = HoldStatus::Expired;
                Ok(())
            }
        }
    }

    fn pending_at(&self, now: DateTime<Utc>) -> Result<(), HoldProblem> {
        match self.status_at(now) {
            HoldStatus::Pending => Ok(()),
            status => Err(HoldProblem::NotPending { status }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use uuid::Uuid;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::seconds(seconds)
    }

    fn hold(amount_minor: i64, expires_at: Option<DateTime<Utc>>) -> Hold {
        Hold::new(AccountId(Uuid::from_u128(1)), amount_minor, expires_at, t(0)).unwrap()
    }

    #[test]
    fn partial_posts_then_the_rest_makes_it_posted() {
        let mut h = hold(1_000, None);
        h.post(300, t(1)).unwrap();
        assert_eq!((h.status, h.posted_minor, h.remaining_minor(t(1))), (HoldStatus::Pending, 300, 700));
        assert_eq!(
            h.post(701, t(2)),
            Err(HoldProblem::AboveHold { amount_minor: 701, remaining_minor: 700 })
        );
        h.post(700, t(2)).unwrap();
        assert_eq!((h.status, h.posted_minor, h.remaining_minor(t(2))), (HoldStatus::Posted, 1_000, 0));
        assert_eq!(h.post(1, t(3)), Err(HoldProblem::NotPending { status: HoldStatus::Posted }));
        assert_eq!(h.void(t(3)), Err(HoldProblem::NotPending { status: HoldStatus::Posted }));
    }

    #[test]
    fn amounts_must_be_positive() {
        assert_eq!(
            Hold::new(AccountId(Uuid::nil()), 0, None, t(0)),
            Err(HoldProblem::NonPositiveAmount { amount_minor: 0 })
        );
        let mut h = hold(10, None);
        assert_eq!(h.post(-1, t(1)), Err(HoldProblem::NonPositiveAmount { amount_minor: -1 }));
        assert_eq!(h.posted_minor, 0);
    }

    #[test]
    fn void_releases_the_rest_and_keeps_posted_parts() {
        let mut h = hold(1_000, None);
        h.post(400, t(1)).unwrap();
        h.void(t(2)).unwrap();
        assert_eq!((h.status, h.posted_minor, h.remaining_minor(t(2))), (HoldStatus::Voided, 400, 0));
        assert_eq!(h.void(t(3)), Err(HoldProblem::NotPending { status: HoldStatus::Voided }));
    }

    #[test]
    fn a_pending_hold_past_its_expiry_counts_as_expired() {
        let mut h = hold(500, Some(t(100)));
        assert_eq!(h.status_at(t(99)), HoldStatus::Pending);
        assert_eq!(h.remaining_minor(t(99)), 500);
        assert_eq!(h.status_at(t(100)), HoldStatus::Expired);
        assert_eq!(h.remaining_minor(t(100)), 0);
        assert_eq!(h.post(1, t(100)), Err(HoldProblem::NotPending { status: HoldStatus::Expired }));
        assert_eq!(h.void(t(101)), Err(HoldProblem::NotPending { status: HoldStatus::Expired }));
        assert_eq!(h.status, HoldStatus::Pending, "nothing recorded yet");
    }

    #[test]
    fn expire_only_once_the_time_has_come() {
        let mut h = hold(500, Some(t(100)));
        assert_eq!(h.expire(t(99)), Err(HoldProblem::NotYetExpired { expires_at: t(100) }));
        h.expire(t(100)).unwrap();
        assert_eq!(h.status, HoldStatus::Expired);
        assert_eq!(h.expire(t(101)), Err(HoldProblem::NotPending { status: HoldStatus::Expired }));
        let mut forever = hold(5, None);
        assert_eq!(forever.expire(t(1_000_000)), Err(HoldProblem::NoExpiry));
        assert_eq!(
            Hold::new(AccountId(Uuid::nil()), 5, Some(t(0)), t(0)),
            Err(HoldProblem::ExpiryNotInFuture { expires_at: t(0) })
        );
    }
}
