//! Closing a virtual sub-account: only with zero balance, nothing frozen, nothing
//! on its way in, no open children and interest settled (浙商银行's e-account rules,
//! Oracle VAM's staged closure). Every blocker is listed so the operator can clear
//! them all in one pass.

use serde::{Deserialize, Serialize};

/// What storage knows about an account when someone asks to close it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CloseFacts {
    /// Posted balance on the normal side (fen).
    pub balance_minor: i64,
    /// Pending holds on the account.
    pub active_holds: u32,
    /// What those holds reserve (fen).
    pub held_minor: i64,
    /// Incoming credits seen but not yet posted (e.g. in suspense, matched to it).
    pub pending_credits: u32,
    /// Child accounts in the tree not yet closed.
    pub open_children: u32,
    /// Interest earned but not yet credited (fen).
    pub unallocated_interest_minor: i64,
}

/// One reason an account cannot be closed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "blocker", rename_all = "snake_case")]
pub enum CloseBlocker {
    /// The balance is not zero: pay it out (or in) first.
    NonZeroBalance {
        /// The balance (fen).
        balance_minor: i64,
    },
    /// Funds are frozen.
    ActiveHolds {
        /// Pending holds.
        count: u32,
        /// What they reserve (fen).
        held_minor: i64,
    },
    /// Credits are on their way in.
    PendingCredits {
        /// How many.
        count: u32,
    },
    /// Children in the tree are still open.
    OpenChildren {
        /// How many.
        count: u32,
    },
    /// Interest has yet to be credited (and then paid out).
    UnallocatedInterest {
        /// How much (fen).
        interest_minor: i64,
    },
}

/// Every blocker in `facts`, in a fixed order; empty means the account may close.
pub fn close_blockers(facts: &CloseFacts) -> Vec<CloseBlocker> {
    let mut blockers = Vec::new();
    if facts.balance_minor != 0 {
        blockers.push(CloseBlocker::NonZeroBalance { balance_minor: facts.balance_minor });
    }
    // Either figure alone is enough: inconsistent facts must not let an account close.
    if facts.active_holds > 0 || facts.held_minor != 0 {
        blockers.push(CloseBlocker::ActiveHolds { count: facts.active_holds, held_minor: facts.held_minor });
    }
    if facts.pending_credits > 0 {
        blockers.push(CloseBlocker::PendingCredits { count: facts.pending_credits });
    }
    if facts.open_children > 0 {
        blockers.push(CloseBlocker::OpenChildren { count: facts.open_children });
    }
    if facts.unallocated_interest_minor != 0 {
        blockers.push(CloseBlocker::UnallocatedInterest { interest_minor: facts.unallocated_interest_minor });
    }
    blockers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_account_may_close() {
        assert_eq!(close_blockers(&CloseFacts::default()), vec![]);
    }

    #[test]
    fn every_blocker_is_listed() {
        let facts = CloseFacts {
            balance_minor: -3,
            active_holds: 2,
            held_minor: 500,
            pending_credits: 1,
            open_children: 4,
            unallocated_interest_minor: 12,
        };
        assert_eq!(
            close_blockers(&facts),
            vec![
                CloseBlocker::NonZeroBalance { balance_minor: -3 },
                CloseBlocker::ActiveHolds { count: 2, held_minor: 500 },
                CloseBlocker::PendingCredits { count: 1 },
                CloseBlocker::OpenChildren { count: 4 },
                CloseBlocker::UnallocatedInterest { interest_minor: 12 },
            ]
        );
    }

    #[test]
    fn each_fact_blocks_on_its_own() {
        let one = |facts: CloseFacts| close_blockers(&facts).len();
        assert_eq!(one(CloseFacts { balance_minor: 1, ..CloseFacts::default() }), 1);
        assert_eq!(one(CloseFacts { active_holds: 1, ..CloseFacts::default() }), 1);
        assert_eq!(one(CloseFacts { held_minor: 1, ..CloseFacts::default() }), 1);
        assert_eq!(one(CloseFacts { pending_credits: 1, ..CloseFacts::default() }), 1);
        assert_eq!(one(CloseFacts { open_children: 1, ..CloseFacts::default() }), 1);
        assert_eq!(one(CloseFacts { unallocated_interest_minor: 1, ..CloseFacts::default() }), 1);
    }

    #[test]
    fn blockers_serialize_with_a_snake_case_tag() {
        let json = serde_json::to_value(CloseBlocker::OpenChildren { count: 2 }).unwrap();
        assert_eq!(json, serde_json::json!({"blocker": "open_children", "count": 2}));
        assert_eq!(
            serde_json::from_value::<CloseBlocker>(json).unwrap(),
            CloseBlocker::OpenChildren { count: 2 }
        );
    }
}
