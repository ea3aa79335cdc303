//! The words for the typed codes the backend sends: timeline events,
//! decisions, reasons. Views call these while drawing, so a language switch
//! re-words everything on screen, errors included.

use crate::error_words::error_text;
use crate::{Lang, T, fill};
use chrono::{DateTime, FixedOffset, Utc};
use domain::audit::BreakReason;
use domain::cases::{BulkSkip, CaseDecision, Decided, Party, SkipReason, TimelineEvent};
use domain::recycle::{
    BankAnswer, CarrierEventKind, CaseEventKind, CaseSource, CaseStatus, CheckKind, DecisionKind, FieldMatch,
    HookKind, HookReason, NotRecycledReason, TwiceTelAnswer, UnbindReason,
};

/// Times are shown in Beijing time, as operators and carriers use it.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    const FORMAT: &str = "%Y-%m-%d %H:%M";
    match FixedOffset::east_opt(8 * 3600) {
        Some(beijing) => t.with_timezone(&beijing).format(FORMAT).to_string(),
        None => t.format(FORMAT).to_string(),
    }
}

/// A role's name.
pub fn role_name(role: domain::auth::Role) -> T {
    use domain::auth::Role;
    match role {
        Role::CsAgent => T::RoleCsAgent,
        Role::FinanceReviewer => T::RoleFinanceReviewer,
        Role::Supervisor => T::RoleSupervisor,
        Role::Auditor => T::RoleAuditor,
        Role::Admin => T::RoleAdmin,
        Role::ServiceOperator => T::RoleServiceOperator,
    }
}

/// A case's state.
pub fn case_status(s: CaseStatus) -> T {
    match s {
        CaseStatus::Open => T::CaseOpen,
        CaseStatus::PendingApproval => T::CasePending,
        CaseStatus::Escalated => T::CaseEscalated,
        CaseStatus::Confirmed => T::CaseConfirmed,
        CaseStatus::NotRecycled => T::CaseNotRecycled,
        CaseStatus::ForceUnbound => T::CaseForceUnbound,
    }
}

/// Why a case was opened.
pub fn case_source(s: CaseSource) -> T {
    match s {
        CaseSource::EntryTime => T::SourceEntryTime,
        CaseSource::Notice => T::SourceNotice,
        CaseSource::Port => T::SourcePort,
        CaseSource::Registration => T::SourceRegistration,
        CaseSource::SmsReset => T::SourceSmsReset,
        CaseSource::Gateway => T::SourceGateway,
    }
}

/// Why a case is not recycled.
pub fn not_recycled_reason(r: NotRecycledReason) -> T {
    match r {
        NotRecycledReason::SameHolder => T::ReasonSameHolder,
        NotRecycledReason::FamilyTransfer => T::ReasonFamilyTransfer,
        NotRecycledReason::Ported => T::ReasonPorted,
        NotRecycledReason::DataError => T::ReasonDataError,
        NotRecycledReason::ReclaimedInFreeze => T::ReasonReclaimed,
    }
}

/// A decision.
pub fn decision(d: DecisionKind) -> T {
    match d {
        DecisionKind::ConfirmRecycled => T::DecisionConfirm,
        DecisionKind::NotRecycled => T::DecisionNotRecycled,
        DecisionKind::ForceUnbind => T::DecisionForceUnbind,
    }
}

/// The carrier's "changed hands since …?" answer.
pub fn twice_tel(a: TwiceTelAnswer) -> T {
    match a {
        TwiceTelAnswer::Unknown => T::TwiceUnknown,
        TwiceTelAnswer::Reassigned => T::TwiceReassigned,
        TwiceTelAnswer::NotReassigned => T::TwiceNotReassigned,
        TwiceTelAnswer::Cancelled => T::TwiceCancelled,
        TwiceTelAnswer::PortedNotSupported => T::TwicePorted,
        TwiceTelAnswer::Unsupported => T::TwiceUnsupported,
    }
}

/// A carrier event word.
pub fn carrier_event(e: CarrierEventKind) -> T {
    match e {
        CarrierEventKind::Cancel => T::EventCancel,
        CarrierEventKind::Transfer => T::EventTransfer,
        CarrierEventKind::Reissue => T::EventReissue,
        CarrierEventKind::PortIn => T::EventPortIn,
        CarrierEventKind::PortOut => T::EventPortOut,
    }
}

/// One element of an identity check.
pub fn field_match(m: FieldMatch) -> T {
    match m {
        FieldMatch::Match => T::FieldMatch,
        FieldMatch::Mismatch => T::FieldMismatch,
        FieldMatch::NoRecord => T::FieldNoRecord,
    }
}

/// A bank 4-element answer.
pub fn bank_answer(a: BankAnswer) -> T {
    match a {
        BankAnswer::Match => T::BankMatch,
        BankAnswer::Mismatch => T::BankMismatch,
        BankAnswer::InvalidCard => T::BankInvalidCard,
        BankAnswer::AbnormalStatus => T::BankAbnormal,
        BankAnswer::RestrictedCard => T::BankRestricted,
    }
}

/// Why a hook allowed or blocked.
pub fn hook_reason_text(r: HookReason, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match r {
        HookReason::Free => t(T::HookFree),
        HookReason::BoundToAnotherUser => t(T::HookBoundToOther),
        HookReason::SmsResetBlocked { decision: d } => {
            t(T::HookSmsBlocked) + &in_parens(d.map(|d| t(decision(d))), lang)
        }
        HookReason::NoLoginPhone => t(T::HookNoLoginPhone),
        HookReason::UnderReview => t(T::HookUnderReview),
        HookReason::NotReassigned => fill(&t(T::HookCarrier), &[("answer", &t(T::TwiceNotReassigned))]),
        HookReason::Carrier { answer } => fill(&t(T::HookCarrier), &[("answer", &t(twice_tel(answer)))]),
    }
}

fn party_text(p: &Party, lang: Lang) -> String {
    match p {
        Party::OldUser => T::PartyOldUser.text(lang).to_owned(),
        Party::OtherUser { short_id } => fill(T::PartyOtherUser.text(lang), &[("id", short_id)]),
    }
}

/// `（text）` in Chinese, ` (text)` in English; empty for no text.
fn in_parens(text: Option<String>, lang: Lang) -> String {
    text.map(|text| fill(T::InParens.text(lang), &[("text", &text)])).unwrap_or_default()
}

/// One timeline line as a sentence.
pub fn timeline_text(e: &TimelineEvent, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let user = |p: &Party| party_text(p, lang);
    match e {
        TimelineEvent::Registered { user: u } => fill(&t(T::LineRegistered), &[("user", &user(u))]),
        TimelineEvent::LastLogin { user: u } => fill(&t(T::LineLastLogin), &[("user", &user(u))]),
        TimelineEvent::Bound { user: u } => fill(&t(T::LineBound), &[("user", &user(u))]),
        TimelineEvent::Unbound { user: u, reason } => {
            let reason = reason.map(|r| unbind_reason_text(r, lang));
            fill(&t(T::LineUnbound), &[("user", &user(u)), ("reason", &in_parens(reason, lang))])
        }
        TimelineEvent::CarrierNotice { event, carrier, province, entry_at } => {
            let mut line = fill(
                &t(T::LineCarrierNotice),
                &[("event", &t(carrier_event(*event))), ("carrier", carrier), ("province", province)],
            );
            if let Some(at) = entry_at {
                line.push_str(&fill(&t(T::LineEntryAt), &[("date", &fmt_time(*at))]));
            }
            line
        }
        TimelineEvent::CarrierAnswer { answer } => {
            fill(&t(T::LineCarrierAnswer), &[("answer", &t(twice_tel(*answer)))])
        }
        TimelineEvent::Hook { hook, allowed, reason } => hook_line(*hook, *allowed, *reason, lang),
        TimelineEvent::CardReservesPhone { bank, card_masked, agreement_masked, user: u, status } => fill(
            &t(T::LineCard),
            &[
                ("user", &user(u)),
                ("bank", bank),
                ("card", card_masked),
                ("agreement", agreement_masked),
                ("status", &crate::code_text(status, lang)),
            ],
        ),
        TimelineEvent::DebitSigned { carrier, user: u } => {
            fill(&t(T::LineDebitSigned), &[("user", &user(u)), ("carrier", carrier)])
        }
        TimelineEvent::DebitEnded { reason } => {
            let reason = reason.as_deref().map(|r| match r {
                "recycled_number" => t(T::DebitEndRecycled),
                other => crate::code_text(other, lang),
            });
            fill(&t(T::LineDebitEnded), &[("reason", &in_parens(reason, lang))])
        }
        TimelineEvent::SmsBlocked { decision: d, by } => {
            let d = in_parens(d.map(|d| t(decision(d))), lang);
            fill(&t(T::LineSmsBlocked), &[("decision", &d), ("by", by)])
        }
        TimelineEvent::SmsLifted { by } => {
            fill(&t(T::LineSmsLifted), &[("by", &by.as_deref().unwrap_or("—"))])
        }
        TimelineEvent::Check {
            check,
            passed,
            by,
            three_elements,
            twice_tel: twice,
            bank_answer: bank,
            card_masked,
        } => {
            let result = t(if *passed { T::CheckPassed } else { T::CheckFailed });
            match check {
                CheckKind::Carrier3 => {
                    let m =
                        |f: Option<FieldMatch>| f.map(|f| t(field_match(f))).unwrap_or_else(|| "—".into());
                    fill(
                        &t(T::LineCarrierCheck),
                        &[
                            ("by", by),
                            ("result", &result),
                            ("name", &m(three_elements.map(|a| a.name))),
                            ("id", &m(three_elements.map(|a| a.id_number))),
                            ("phone", &m(three_elements.map(|a| a.phone))),
                            ("twice", &twice.map(|a| t(twice_tel(a))).unwrap_or_else(|| "—".into())),
                        ],
                    )
                }
                CheckKind::Bank4 => fill(
                    &t(T::LineBankCheck),
                    &[
                        ("by", by),
                        ("result", &result),
                        ("card", &card_masked.as_deref().unwrap_or("—")),
                        ("answer", &bank.map(|a| t(bank_answer(a))).unwrap_or_else(|| "—".into())),
                    ],
                ),
            }
        }
        TimelineEvent::Case { event, by, decision: d, reason, note, to } => {
            case_line(*event, by, *d, *reason, note.as_deref(), to.as_deref(), lang)
        }
    }
}

fn hook_line(hook: HookKind, allowed: bool, reason: Option<HookReason>, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let hook = t(match hook {
        HookKind::Registration => T::HookRegistration,
        HookKind::SmsReset => T::HookSmsReset,
    });
    let verdict = t(if allowed { T::HookAllowed } else { T::HookBlocked });
    let reason = in_parens(reason.map(|r| hook_reason_text(r, lang)), lang);
    fill(&t(T::LineHook), &[("hook", &hook), ("verdict", &verdict), ("reason", &reason)])
}

fn case_line(
    event: CaseEventKind,
    by: &str,
    d: Option<DecisionKind>,
    reason: Option<NotRecycledReason>,
    note: Option<&str>,
    to: Option<&str>,
    lang: Lang,
) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let mut decided = d.map(|d| t(decision(d))).unwrap_or_default();
    decided.push_str(&in_parens(reason.map(|r| t(not_recycled_reason(r))), lang));
    let what = match event {
        CaseEventKind::Claim => t(T::CaseEvClaim),
        CaseEventKind::Release => t(T::CaseEvRelease),
        CaseEventKind::Reassign => fill(&t(T::CaseEvReassign), &[("to", &to.unwrap_or("—"))]),
        CaseEventKind::Propose => fill(&t(T::CaseEvPropose), &[("decision", &decided)]),
        CaseEventKind::Decide if d.is_none() => t(T::CaseEvEscalate),
        CaseEventKind::Decide => fill(&t(T::CaseEvDecide), &[("decision", &decided)]),
        CaseEventKind::DecideBulk => fill(&t(T::CaseEvDecideBulk), &[("decision", &decided)]),
        CaseEventKind::Escalate => t(T::CaseEvEscalate),
        CaseEventKind::ApprovalRejected => t(T::CaseEvRejected),
        CaseEventKind::Unbind => fill(&t(T::CaseEvUnbind), &[("decision", &decided)]),
    };
    let mut line = fill(&t(T::LineCase), &[("by", &by), ("what", &what)]);
    if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
        line.push_str(&fill(&t(T::CaseEvNote), &[("note", &note)]));
    }
    line
}

/// Why a phone binding ended.
pub fn unbind_reason_text(r: UnbindReason, lang: Lang) -> String {
    match r {
        UnbindReason::SelfService => T::UnbindSelfService.text(lang).to_owned(),
        UnbindReason::RecycledNumber { decision: d } => {
            fill(T::UnbindRecycled.text(lang), &[("decision", &decision(d).text(lang))])
        }
    }
}

/// A decision a maker proposed or made, with its reason.
pub fn case_decision_text(d: &CaseDecision, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match d {
        CaseDecision::ConfirmRecycled { .. } => t(T::DecisionConfirm),
        CaseDecision::NotRecycled { reason, .. } => {
            t(T::DecisionNotRecycled) + &in_parens(Some(t(not_recycled_reason(*reason))), lang)
        }
        CaseDecision::Escalate { .. } => t(T::CaseEvEscalate),
        CaseDecision::ForceUnbind { .. } => t(T::DecisionForceUnbind),
    }
}

/// A case's final decision, with maker and checker.
pub fn decided_text(d: &Decided, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let reason = d.reason.map(|r| t(not_recycled_reason(r)));
    let note = Some(d.note.clone()).filter(|n| !n.trim().is_empty());
    let reason = in_parens(reason.or(note), lang);
    let checker = d.checker.clone().unwrap_or_else(|| t(T::NoChecker));
    fill(
        &t(T::DecidedLine),
        &[
            ("decision", &t(decision(d.decision))),
            ("reason", &reason),
            ("by", &d.maker),
            ("checker", &checker),
        ],
    )
}

/// Why the audit chain fails to verify.
pub fn break_text(r: &BreakReason, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match r {
        BreakReason::Gap { expected } => fill(&t(T::BreakGap), &[("n", expected)]),
        BreakReason::PrevHash => t(T::BreakPrevHash),
        BreakReason::Edited => t(T::BreakEdited),
        BreakReason::TailMissing { head_seq } => fill(&t(T::BreakTailMissing), &[("n", head_seq)]),
        BreakReason::HeadMismatch => t(T::BreakHeadMismatch),
        BreakReason::Checkpoint => t(T::BreakCheckpoint),
    }
}

/// Why a bulk action skipped a case.
pub fn skip_text(s: &BulkSkip, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let reason = match &s.reason {
        SkipReason::NotFound => t(T::SkipNotFound),
        SkipReason::ClaimedBy { by } => fill(&t(T::SkipClaimedBy), &[("by", by)]),
        SkipReason::Status { status } => fill(&t(T::SkipStatus), &[("status", &t(case_status(*status)))]),
        SkipReason::Failed { error } => error_text(lang, error),
    };
    fill(&t(T::SkippedCase), &[("id", &domain::cases::short_id(s.case_id)), ("reason", &reason)])
}

/// An audit action code in words; an unknown code is shown as it is.
pub fn audit_action_text(code: &str, lang: Lang) -> String {
    let key = match code {
        "access.denied" => T::ActAccessDenied,
        "carrier.check" => T::ActCarrierCheck,
        "carrier.import" => T::ActCarrierImport,
        "carrier.import_rejected" => T::ActCarrierImportRejected,
        "case.approval_rejected" => T::ActCaseApprovalRejected,
        "case.approve_refused" => T::ActCaseApproveRefused,
        "case.bulk_not_recycled" => T::ActCaseBulk,
        "case.claim" => T::ActCaseClaim,
        "case.escalate" => T::ActCaseEscalate,
        "case.hook" => T::ActCaseHook,
        "case.not_recycled" => T::ActCaseNotRecycled,
        "case.propose" => T::ActCasePropose,
        "case.reassign" => T::ActCaseReassign,
        "case.release" => T::ActCaseRelease,
        "case.unbind" => T::ActCaseUnbind,
        "case.view" => T::ActCaseView,
        "customer.view" => T::ActCustomerView,
        "demo.seed" => T::ActDemoSeed,
        "pii.key_check_set" => T::ActKeyCheckSet,
        "demo.marked" => T::ActDemoMarked,
        "evidence.export" => T::ActEvidenceExport,
        "force_unbind.bank_check" => T::ActFuBankCheck,
        "force_unbind.carrier_check" => T::ActFuCarrierCheck,
        "force_unbind.same_person" => T::ActFuSamePerson,
        "login.failed" => T::ActLoginFailed,
        "login.locked" => T::ActLoginLocked,
        "login.ok" => T::ActLoginOk,
        "login.refused_locked" => T::ActLoginRefusedLocked,
        "logout" => T::ActLogout,
        "operator.create" => T::ActOperatorCreate,
        "operator.demo_locked" => T::ActDemoLocked,
        "operator.create_first" => T::ActCreateFirst,
        "operator.role" => T::ActOperatorRole,
        "operator.disabled" => T::ActOperatorDisabled,
        "operator.unlock" => T::ActOperatorUnlock,
        "operator.password_reset" => T::ActPasswordReset,
        "operator.password_changed" => T::ActPasswordChanged,
        "login.refused_disabled" => T::ActLoginRefusedDisabled,
        "pii.reveal" => T::ActPiiReveal,
        "queue.view_saved" => T::ActQueueViewSaved,
        "session.expired" => T::ActSessionExpired,
        "settings.update" => T::ActSettingsUpdate,
        "settings.propose" => T::ActSettingsPropose,
        "settings.approve" => T::ActSettingsApprove,
        "settings.approve_refused" => T::ActSettingsApproveRefused,
        "sms_unblock.approve" => T::ActSmsUnblockApprove,
        "sms_unblock.check_failed" => T::ActSmsUnblockCheckFailed,
        "sms_unblock.request" => T::ActSmsUnblockRequest,
        "audit.checkpoint" => T::ActAuditCheckpoint,
        "demo.bank_notices" => T::ActDemoBankNotices,
        "vam.physical" => T::ActVamPhysical,
        "vam.open" => T::ActVamOpen,
        "vam.credit" => T::ActVamCredit,
        "vam.transfer" => T::ActVamTransfer,
        "vam.sweep" => T::ActVamSweep,
        "vam.freeze" => T::ActVamFreeze,
        "vam.release" => T::ActVamRelease,
        "vam.interest" => T::ActVamInterest,
        "vam.reverse" => T::ActVamReverse,
        "vam.close" => T::ActVamClose,
        "vam.settle_tender" => T::ActVamSettleTender,
        "vam.post_hold" => T::ActVamPostHold,
        "vam.propose" => T::ActVamPropose,
        "vam.reject" => T::ActVamReject,
        "vam.proof" => T::ActVamProof,
        "vam.export" => T::ActVamExport,
        "recon.demo_items" => T::ActReconDemoItems,
        "recon.statement_import" => T::ActReconImport,
        "recon.run" => T::ActReconRun,
        "recon.unmatch_resent" => T::ActReconUnmatchResent,
        "recon.claim" => T::ActReconClaim,
        "recon.release" => T::ActReconRelease,
        "recon.resolve" => T::ActReconResolve,
        "recon.work" => T::ActReconWork,
        "recon.propose" => T::ActReconPropose,
        "recon.approve" => T::ActReconApprove,
        "recon.reject" => T::ActReconReject,
        "recon.confirm_match" => T::ActReconConfirmMatch,
        "recon.unmatch" => T::ActReconUnmatch,
        "recon.close_day" => T::ActReconCloseDay,
        "recon.export" => T::ActReconExport,
        "recon.return_sent" => T::ActReconReturnSent,
        "recon.return_rejected" => T::ActReconReturnRejected,
        "recon.return_failed" => T::ActReconReturnFailed,
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}

/// An audit target (`kind:id`) in words: the kind translated, a UUID shortened to
/// its tail (the head of a UUIDv7 is a timestamp), anything else as it is.
pub fn audit_target_text(target: &str, lang: Lang) -> String {
    let (kind, id) = target.split_once(':').unwrap_or((target, ""));
    let key = match kind {
        "case" => T::TgtCase,
        "customer" => T::TgtCustomer,
        "operator" => T::TgtOperator,
        "user" => T::TgtUser,
        "phone" => T::TgtPhone,
        "import" => T::TgtImport,
        "file" => T::TgtFile,
        "settings" => T::TgtSettings,
        "database" => T::TgtDatabase,
        "cases" => T::TgtCases,
        "pii.key" => T::TgtPiiKey,
        "customer_name" => T::TgtName,
        "audit" => T::TgtAudit,
        "id_number" => T::TgtIdNumber,
        "email" => T::TgtEmail,
        "account" => T::TgtSubAccount,
        "hold" => T::TgtHold,
        "transfer" => T::TgtTransfer,
        "proposal" => T::TgtProposal,
        "physical" => T::TgtPhysical,
        "suspense" if id == "next" => return T::TgtSuspenseNext.text(lang).to_owned(),
        "suspense" => T::TgtSuspense,
        "match" => T::TgtMatch,
        "report" => T::TgtReport,
        _ => return target.to_owned(),
    };
    let id = uuid::Uuid::parse_str(id).map_or_else(|_| id.to_owned(), domain::cases::short_id);
    if id.is_empty() { key.text(lang).to_owned() } else { format!("{} {id}", key.text(lang)) }
}

// ---------------------------------------------------------------------------
// 虚拟子账户 (virtual sub-accounts): the ledger's codes and the area's outcomes.
// ---------------------------------------------------------------------------

/// The bank that keeps a physical account.
pub fn bank_text(b: domain::ledger::Bank) -> T {
    use domain::ledger::Bank;
    match b {
        Bank::Mybank => T::VamBankMybank,
        Bank::Czbank => T::VamBankCzbank,
        Bank::Cmb => T::VamBankCmb,
    }
}

/// What a virtual sub-account is for.
pub fn virtual_purpose(p: domain::ledger::VirtualPurpose) -> T {
    use domain::ledger::VirtualPurpose;
    match p {
        VirtualPurpose::UserWallet => T::VamPurposeWallet,
        VirtualPurpose::OrderEscrow => T::VamPurposeEscrow,
        VirtualPurpose::BidDeposit => T::VamPurposeBid,
        VirtualPurpose::Internal => T::VamPurposeInternal,
    }
}

/// Who holds a virtual sub-account.
pub fn owner_kind(k: domain::ledger::OwnerKind) -> T {
    use domain::ledger::OwnerKind;
    match k {
        OwnerKind::Customer => T::VamOwnerCustomer,
        OwnerKind::User => T::VamOwnerUser,
        OwnerKind::Merchant => T::VamOwnerMerchant,
        OwnerKind::Internal => T::VamOwnerInternal,
    }
}

/// A hold's state.
pub fn hold_status(s: domain::ledger::HoldStatus) -> T {
    use domain::ledger::HoldStatus;
    match s {
        HoldStatus::Pending => T::VamHoldPending,
        HoldStatus::Posted => T::VamHoldPosted,
        HoldStatus::Voided => T::VamHoldVoided,
        HoldStatus::Expired => T::VamHoldExpired,
    }
}

/// Why a transfer was posted (an entry's kind).
pub fn transfer_kind(k: domain::ledger::TransferKind) -> T {
    use domain::ledger::TransferKind;
    match k {
        TransferKind::CreditIn => T::VamKindCreditIn,
        TransferKind::UnidentifiedIn => T::VamKindUnidentifiedIn,
        TransferKind::InternalTransfer => T::VamKindInternal,
        TransferKind::Sweep => T::VamKindSweep,
        TransferKind::HoldPost => T::VamKindHoldPost,
        TransferKind::Interest => T::VamKindInterest,
        TransferKind::Refund => T::VamKindRefund,
        TransferKind::Reversal => T::VamKindReversal,
        TransferKind::Opening => T::VamKindOpening,
    }
}

/// Why a credit could not go to the number it names.
pub fn unidentified_reason(r: domain::vam::UnidentifiedReason) -> T {
    use domain::vam::UnidentifiedReason;
    match r {
        UnidentifiedReason::UnknownNumber => T::VamUnknownNumber,
        UnidentifiedReason::BadCheckDigit => T::VamBadCheckDigit,
        UnidentifiedReason::Closed => T::VamNumberClosed,
        UnidentifiedReason::CreditBlocked => T::VamCreditBlocked,
        UnidentifiedReason::OtherAccount => T::VamOtherAccount,
    }
}

/// What happened to one bank credit notice.
pub fn credit_outcome_text(o: &domain::vam::CreditOutcome, lang: Lang) -> String {
    use domain::vam::CreditOutcome;
    let outcome = match o {
        CreditOutcome::Credited { .. } => T::VamCreditCredited.text(lang).to_owned(),
        CreditOutcome::Unidentified { reason } => {
            fill(T::VamCreditUnidentified.text(lang), &[("reason", &unidentified_reason(*reason).text(lang))])
        }
        CreditOutcome::Repeat => T::VamCreditRepeat.text(lang).to_owned(),
    };
    fill(T::VamCreditResult.text(lang), &[("outcome", &outcome)])
}

/// A virtual sub-account operation as a checker reads it: what, how much, which
/// accounts (ledger ids by their tail, as the audit log shows ids).
pub fn vam_operation_text(op: &domain::api::VamOperation, lang: Lang) -> String {
    use domain::api::VamOperation;
    use domain::cases::short_id;
    use domain::money::Cny;
    let t = |k: T| k.text(lang);
    let money = |d| Cny(d).to_string();
    match op {
        VamOperation::Open { owner_kind: kind, owner_name, purpose, .. } => fill(
            t(T::VamOpOpen),
            &[
                ("owner", owner_name),
                ("kind", &t(owner_kind(*kind))),
                ("purpose", &t(virtual_purpose(*purpose))),
            ],
        ),
        VamOperation::ManualCredit { number, amount, bank_ref, payer, .. } => fill(
            t(T::VamOpManualCredit),
            &[("amount", &money(*amount)), ("number", number), ("payer", payer), ("bank_ref", bank_ref)],
        ),
        VamOperation::Transfer { from, to, amount, memo } => fill(
            t(T::VamOpTransfer),
            &[
                ("amount", &money(*amount)),
                ("from", &short_id(from.0)),
                ("to", &short_id(to.0)),
                ("memo", memo),
            ],
        ),
        VamOperation::Sweep { account, amount } => {
            fill(t(T::VamOpSweep), &[("amount", &money(*amount)), ("account", &short_id(account.0))])
        }
        VamOperation::Freeze { account, amount, reason, .. } => fill(
            t(T::VamOpFreeze),
            &[("amount", &money(*amount)), ("account", &short_id(account.0)), ("reason", reason)],
        ),
        VamOperation::Release { hold, amount } => {
            fill(t(T::VamOpRelease), &[("amount", &money(*amount)), ("hold", &short_id(hold.0))])
        }
        VamOperation::PostInterest { from, to, interest, .. } => {
            fill(t(T::VamOpPostInterest), &[("amount", &money(*interest)), ("from", from), ("to", to)])
        }
        VamOperation::Reverse { transfer, reason } => {
            fill(t(T::VamOpReverse), &[("transfer", &short_id(transfer.0)), ("reason", reason)])
        }
        VamOperation::Close { account } => fill(t(T::VamOpClose), &[("account", &short_id(account.0))]),
        VamOperation::PostHold { hold, amount, to } => fill(
            t(T::VamOpPostHold),
            &[("amount", &money(*amount)), ("hold", &short_id(hold.0)), ("to", &short_id(to.0))],
        ),
        VamOperation::SettleTender { tender } => {
            fill(t(T::VamOpSettleTender), &[("account", &short_id(tender.0))])
        }
    }
}
