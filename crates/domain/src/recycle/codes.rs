//! The recycled-number area's stored codes: what the databases hold and the IPC
//! carries, as enums. The catalogue words them.

use super::TwiceTelAnswer;
use serde::{Deserialize, Serialize};

stored_code! {
    /// Why a number became suspect (the case's source).
    pub enum CaseSource {
        /// The carrier's entry time is later than our binding.
        EntryTime => "entry_time",
        /// A cancel/transfer/reissue notice for a bound number.
        Notice => "notice",
        /// A port event or an answer the rule cannot use: manual review only.
        Port => "port",
        /// A registration attempt on a number bound to another user.
        Registration => "registration",
        /// An SMS password reset on a number the carrier says was reissued.
        SmsReset => "sms_reset",
        /// The carrier gateway answered "reassigned" or "unknown".
        Gateway => "gateway",
    }
}

stored_code! {
    /// A case's state.
    pub enum CaseStatus {
        /// Waiting for an agent.
        Open => "open",
        /// A maker proposed "confirm recycled" or a force-unbind; waiting for a checker.
        PendingApproval => "pending_approval",
        /// Sent to a supervisor.
        Escalated => "escalated",
        /// Confirmed recycled; the phone was unbound from the old user.
        Confirmed => "confirmed",
        /// Not recycled (with a reason from the fixed list).
        NotRecycled => "not_recycled",
        /// Closed by a successful force-unbind for the new holder.
        ForceUnbound => "force_unbound",
    }
}

impl CaseStatus {
    /// The states of a case still being worked (at most one such case per phone and
    /// old user).
    pub const ACTIVE: [CaseStatus; 3] = [Self::Open, Self::PendingApproval, Self::Escalated];

    /// Still being worked.
    pub fn is_active(self) -> bool {
        Self::ACTIVE.contains(&self)
    }
}

stored_code! {
    /// Why a case is "not recycled" (a fixed list so reports can count them).
    pub enum NotRecycledReason {
        /// The same person still holds the number.
        SameHolder => "same_holder",
        /// Transferred within the family; the user asked to keep it.
        FamilyTransfer => "family_transfer",
        /// Ported to another carrier, same holder.
        Ported => "ported",
        /// The carrier data was wrong.
        DataError => "data_error",
        /// The old user reclaimed the number within the freeze window.
        ReclaimedInFreeze => "reclaimed_in_freeze",
    }
}

stored_code! {
    /// The final decision on a case.
    pub enum DecisionKind {
        /// Confirmed recycled: unbound from the old user.
        ConfirmRecycled => "confirm_recycled",
        /// Not recycled, for a reason from the fixed list.
        NotRecycled => "not_recycled",
        /// Unbound for the new holder after the wizard's checks.
        ForceUnbind => "force_unbind",
    }
}

stored_code! {
    /// What happened to a case (its own timeline lines).
    pub enum CaseEventKind {
        /// An operator took the lease.
        Claim => "claim",
        /// The holder gave it back.
        Release => "release",
        /// A supervisor gave it to another operator.
        Reassign => "reassign",
        /// A maker proposed a decision for a checker.
        Propose => "propose",
        /// Decided by one operator.
        Decide => "decide",
        /// Decided in a bulk action.
        DecideBulk => "decide.bulk",
        /// Sent to a supervisor.
        Escalate => "escalate",
        /// The checker sent the proposal back.
        ApprovalRejected => "approval.rejected",
        /// The phone was unbound from the old user.
        Unbind => "unbind",
    }
}

stored_code! {
    /// A verification check made through a gateway (each costs an attempt).
    pub enum CheckKind {
        /// Carrier 3-element check (name + ID number + phone) and "changed hands?".
        Carrier3 => "carrier3",
        /// Bank-card 4-element check.
        Bank4 => "bank4",
    }
}

stored_code! {
    /// Which app backend asked a service hook.
    pub enum HookKind {
        /// A new user's registration with a phone.
        Registration => "registration",
        /// A password reset by SMS code.
        SmsReset => "sms_reset",
    }
}

/// Why a hook allowed or blocked an action: a code the UI translates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum HookReason {
    /// The number is nobody's login: registration may go ahead.
    Free,
    /// The number is another user's login; customer service reviews it.
    BoundToAnotherUser,
    /// The user's SMS reset is blocked (a confirmed recycled number).
    SmsResetBlocked {
        /// The decision that blocked it, when recorded.
        decision: Option<DecisionKind>,
    },
    /// The user has no login phone to send a code to.
    NoLoginPhone,
    /// A recycled-number case about the user's number is open.
    UnderReview,
    /// The carrier says the number has not changed hands.
    NotReassigned,
    /// The carrier gave another answer (a case was opened).
    Carrier {
        /// The carrier's answer.
        answer: TwiceTelAnswer,
    },
}

impl HookReason {
    /// The stored code (`hook_events.reason`).
    pub fn code(self) -> String {
        match self {
            Self::Free => "free".into(),
            Self::BoundToAnotherUser => "bound_to_another_user".into(),
            Self::SmsResetBlocked { decision: None } => "sms_reset_blocked".into(),
            Self::SmsResetBlocked { decision: Some(d) } => {
                format!("sms_reset_blocked:{}", UnbindReason::RecycledNumber { decision: d }.code())
            }
            Self::NoLoginPhone => "no_login_phone".into(),
            Self::UnderReview => "under_review".into(),
            Self::NotReassigned => "not_reassigned".into(),
            Self::Carrier { answer } => format!("carrier_{}", answer.as_str()),
        }
    }

    /// Parses a stored code. Rows written before codes were typed carry words after a
    /// colon (`under_review: …`): the code before it is what counts.
    pub fn parse(stored: &str) -> Option<Self> {
        let (code, rest) = stored.split_once(':').unwrap_or((stored, ""));
        Some(match code.trim() {
            "free" => Self::Free,
            "bound_to_another_user" => Self::BoundToAnotherUser,
            "sms_reset_blocked" => Self::SmsResetBlocked {
                decision: match UnbindReason::parse(rest) {
                    Some(UnbindReason::RecycledNumber { decision }) => Some(decision),
                    _ => None,
                },
            },
            "no_login_phone" => Self::NoLoginPhone,
            "under_review" => Self::UnderReview,
            "not_reassigned" => Self::NotReassigned,
            other => Self::Carrier { answer: TwiceTelAnswer::parse(other.strip_prefix("carrier_")?)? },
        })
    }
}

/// Why a phone binding ended (`phone_bindings.unbind_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum UnbindReason {
    /// The user changed their phone themselves.
    SelfService,
    /// A recycled-number decision removed it.
    RecycledNumber {
        /// Which decision.
        decision: DecisionKind,
    },
}

impl UnbindReason {
    /// The stored code.
    pub fn code(self) -> String {
        match self {
            Self::SelfService => "self_service".into(),
            Self::RecycledNumber { decision } => format!("recycled_number:{decision}"),
        }
    }

    /// Parses a stored code (`None`: a code this build does not know). Rows written
    /// before reasons were codes hold `二次号:<decision>` and `用户自助换绑`.
    pub fn parse(stored: &str) -> Option<Self> {
        match stored.trim().split_once(':') {
            None if matches!(stored.trim(), "self_service" | "用户自助换绑") => Some(Self::SelfService),
            Some(("recycled_number" | "二次号", d)) => {
                Some(Self::RecycledNumber { decision: DecisionKind::parse(d)? })
            }
            _ => None,
        }
    }
}
