//! Catalogue keys for case values: statuses, sources, reasons, sorts, timeline kinds.

use crate::i18n::{Lang, T};
use domain::cases::{CaseDecision, QueueSort};
use domain::recycle::{CaseSource, CaseStatus, NotRecycledReason};

/// The catalogue key of a status.
pub fn status_text(s: CaseStatus) -> T {
    match s {
        CaseStatus::Open => T::CaseOpen,
        CaseStatus::PendingApproval => T::CasePending,
        CaseStatus::Escalated => T::CaseEscalated,
        CaseStatus::Confirmed => T::CaseConfirmed,
        CaseStatus::NotRecycled => T::CaseNotRecycled,
        CaseStatus::ForceUnbound => T::CaseForceUnbound,
    }
}

pub(super) fn source_text(s: CaseSource) -> T {
    match s {
        CaseSource::EntryTime => T::SourceEntryTime,
        CaseSource::Notice => T::SourceNotice,
        CaseSource::Port => T::SourcePort,
        CaseSource::Registration => T::SourceRegistration,
        CaseSource::SmsReset => T::SourceSmsReset,
        CaseSource::Gateway => T::SourceGateway,
    }
}

/// The catalogue key of a "not recycled" reason.
pub fn reason_text(r: NotRecycledReason) -> T {
    match r {
        NotRecycledReason::SameHolder => T::ReasonSameHolder,
        NotRecycledReason::FamilyTransfer => T::ReasonFamilyTransfer,
        NotRecycledReason::Ported => T::ReasonPorted,
        NotRecycledReason::DataError => T::ReasonDataError,
        NotRecycledReason::ReclaimedInFreeze => T::ReasonReclaimed,
    }
}

pub(super) fn sort_text(s: QueueSort) -> T {
    match s {
        QueueSort::RiskDesc => T::SortRisk,
        QueueSort::OldestFirst => T::SortOldest,
        QueueSort::NewestFirst => T::SortNewest,
    }
}

pub(super) fn decision_name(d: &CaseDecision) -> String {
    match d {
        CaseDecision::ConfirmRecycled { .. } => "confirm_recycled".into(),
        CaseDecision::NotRecycled { reason, .. } => format!("not_recycled:{}", reason.as_str()),
        CaseDecision::Escalate { .. } => "escalate".into(),
        CaseDecision::ForceUnbind { .. } => "force_unbind".into(),
    }
}

/// Timeline kinds in the operator's words; unknown kinds as they are.
pub(super) fn timeline_kind(kind: &str, lang: Lang) -> String {
    let key = match kind {
        "user.registered" => T::TlRegistered,
        "user.login" => T::TlLogin,
        "binding.bound" => T::TlBound,
        "binding.unbound" => T::TlUnbound,
        "carrier.cancel" => T::TlCancel,
        "carrier.transfer" => T::TlTransfer,
        "carrier.reissue" => T::TlReissue,
        "carrier.port_in" => T::TlPortIn,
        "carrier.port_out" => T::TlPortOut,
        "hook.registration" => T::TlRegistration,
        "hook.sms_reset" => T::TlSmsReset,
        "card.reserved_phone" => T::TlCard,
        "debit.signed" => T::TlDebit,
        "debit.ended" => T::TlDebitEnded,
        "sms.blocked" => T::TlSmsBlocked,
        "sms.lifted" => T::TlSmsLifted,
        "check.carrier3" => T::TlCarrierCheck,
        "check.bank4" => T::TlBankCheck,
        k if k.starts_with("carrier.gateway:") => return format!("{} {}", T::TlGateway.text(lang), &k[16..]),
        k if k.starts_with("case.") => return format!("{} {}", T::TlCase.text(lang), &k[5..]),
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}
