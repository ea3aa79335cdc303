//! The words for the 挂账处理 (suspense and reconciliation) codes: kinds, states,
//! business actions, aging buckets, what a statement check found, where in a file
//! a problem is, how a candidate's score is made up, an item's history, outcomes.
//! Split from `words.rs` by area; re-exported with it.

use crate::{Lang, T, fill};
use domain::cases::short_id;
use domain::money::Cny;
use domain::recon::{MatchStatus, ScoreDetail, ScoreFactor, ScorePart};
use domain::recon::{WEIGHT_AMOUNT, WEIGHT_DATE, WEIGHT_NAME, WEIGHT_REFERENCE, WEIGHT_SUFFIX};
use domain::statement::{Location, StatementError, StatementFinding, StatementFormat, StatementProblem};
use domain::suspense::{
    ActionKind, AgeBucket, ClosedFact, DriftKind, FactValue, OurKind, SuspenseAction, SuspenseEvent,
    SuspenseKind, SuspenseOutcome, SuspenseStatus,
};

/// `¥1,234.56` from fen (signed).
fn yuan_minor(minor: i64) -> String {
    Cny::from_minor(minor).to_string()
}

/// The kind of a suspense item (长款, 短款…).
pub fn suspense_kind(k: SuspenseKind) -> T {
    match k {
        SuspenseKind::Overage => T::SusKindOverage,
        SuspenseKind::Shortage => T::SusKindShortage,
        SuspenseKind::Unidentified => T::SusKindUnidentified,
        SuspenseKind::Returned => T::SusKindReturned,
        SuspenseKind::FeeDifference => T::SusKindFeeDifference,
        SuspenseKind::OneSided => T::SusKindOneSided,
    }
}

/// Where a suspense item stands.
pub fn suspense_status(s: SuspenseStatus) -> T {
    match s {
        SuspenseStatus::Open => T::SusStOpen,
        SuspenseStatus::Recovering => T::SusStRecovering,
        SuspenseStatus::PendingApproval => T::SusStPending,
        SuspenseStatus::Explained => T::SusStExplained,
        SuspenseStatus::Resolved => T::SusStResolved,
    }
}

/// A business action's name (also the button that starts it).
pub fn action_kind(a: ActionKind) -> T {
    match a {
        ActionKind::Match => T::SusActMatch,
        ActionKind::CreditSubAccount => T::SusActCredit,
        ActionKind::ReturnToPayer => T::SusActReturn,
        ActionKind::StartRecovery => T::SusActRecovery,
        ActionKind::Recovered => T::SusActRecovered,
        ActionKind::AcceptLoss => T::SusActLoss,
        ActionKind::OffsetSettlement => T::SusActOffset,
        ActionKind::BookFee => T::SusActFee,
        ActionKind::Explain => T::SusActExplain,
        ActionKind::WriteOffInternal => T::SusActWriteOff,
    }
}

/// An aging bucket (0–1天…).
pub fn age_bucket(b: AgeBucket) -> T {
    match b {
        AgeBucket::UpTo1 => T::SusAge0to1,
        AgeBucket::UpTo7 => T::SusAge2to7,
        AgeBucket::UpTo30 => T::SusAge8to30,
        AgeBucket::Over30 => T::SusAgeOver30,
    }
}

/// The kind of one of our items.
pub fn our_kind(k: OurKind) -> T {
    match k {
        OurKind::ExpectedIn => T::SusOurExpectedIn,
        OurKind::OrderPaid => T::SusOurOrderPaid,
        OurKind::RefundOut => T::SusOurRefundOut,
    }
}

/// Whether a match is suggested or confirmed.
pub fn match_status(s: MatchStatus) -> T {
    match s {
        MatchStatus::Suggested => T::SusMStSuggested,
        MatchStatus::Confirmed => T::SusMStConfirmed,
    }
}

/// A stored match status (`suggested`, `confirmed`, `reversed`); unknown codes as they are.
pub fn match_status_code_text(code: &str, lang: Lang) -> String {
    let key = match code {
        "reversed" => T::SusMStReversed,
        other => match MatchStatus::parse(other) {
            Some(s) => match_status(s),
            None => return other.to_owned(),
        },
    };
    key.text(lang).to_owned()
}

/// The format a statement file was read as.
pub fn statement_format(f: StatementFormat) -> T {
    match f {
        StatementFormat::Camt053 => T::SusFmtCamt053,
        StatementFormat::Camt054 => T::SusFmtCamt054,
        StatementFormat::Mt940 => T::SusFmtMt940,
        StatementFormat::BankCsv => T::SusFmtBankCsv,
        StatementFormat::ChannelSettlement => T::SusFmtChannel,
    }
}

/// What a factor of a score is about.
pub fn score_factor(f: ScoreFactor) -> T {
    match f {
        ScoreFactor::Amount => T::SusFactorAmount,
        ScoreFactor::Date => T::SusFactorDate,
        ScoreFactor::Reference => T::SusFactorReference,
        ScoreFactor::Name => T::SusFactorName,
        ScoreFactor::Suffix => T::SusFactorSuffix,
    }
}

/// The most points a factor earns.
pub fn score_weight(f: ScoreFactor) -> u8 {
    match f {
        ScoreFactor::Amount => WEIGHT_AMOUNT,
        ScoreFactor::Date => WEIGHT_DATE,
        ScoreFactor::Reference => WEIGHT_REFERENCE,
        ScoreFactor::Name => WEIGHT_NAME,
        ScoreFactor::Suffix => WEIGHT_SUFFIX,
    }
}

/// What a part of a score found, with its numbers.
pub fn score_detail_text(d: &ScoreDetail, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match d {
        ScoreDetail::AmountDifference { difference_minor, fee_difference_minor } => {
            let mut text = if *difference_minor == 0 {
                t(T::SusDetAmountEqual)
            } else {
                fill(&t(T::SusDetAmountDiff), &[("amount", &yuan_minor(*difference_minor))])
            };
            if *fee_difference_minor != 0 {
                text.push_str(&fill(&t(T::SusDetFeeDiff), &[("amount", &yuan_minor(*fee_difference_minor))]));
            }
            text
        }
        ScoreDetail::DaysApart { days: 0 } => t(T::SusDetDaysInside),
        ScoreDetail::DaysApart { days } => fill(&t(T::SusDetDaysApart), &[("n", days)]),
        ScoreDetail::ReferenceFound => t(T::SusDetRefFound),
        ScoreDetail::ReferenceMissing => t(T::SusDetRefMissing),
        ScoreDetail::ReferenceUnknown => t(T::SusDetRefUnknown),
        ScoreDetail::NameSimilarity { percent } => fill(&t(T::SusDetNameSimilar), &[("n", percent)]),
        ScoreDetail::NameUnknown => t(T::SusDetNameUnknown),
        ScoreDetail::SuffixEquals => t(T::SusDetSuffixEquals),
        ScoreDetail::SuffixDiffers => t(T::SusDetSuffixDiffers),
        ScoreDetail::SuffixUnknown => t(T::SusDetSuffixUnknown),
    }
}

/// One part of a score: `金额 40/40：金额一致`.
pub fn score_part_text(p: &ScorePart, lang: Lang) -> String {
    fill(
        T::SusPart.text(lang),
        &[
            ("factor", &score_factor(p.factor).text(lang)),
            ("points", &p.points),
            ("weight", &score_weight(p.factor)),
            ("detail", &score_detail_text(&p.detail, lang)),
        ],
    )
}

/// What happened to an item, for its history.
pub fn suspense_event_text(e: &SuspenseEvent, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let with = |k: T, a: &ActionKind| fill(&t(k), &[("action", &t(action_kind(*a)))]);
    match e {
        SuspenseEvent::Found => t(T::SusEvFound),
        SuspenseEvent::Claimed => t(T::SusEvClaimed),
        SuspenseEvent::Proposed { action } => with(T::SusEvProposed, action),
        SuspenseEvent::Approved { action } => with(T::SusEvApproved, action),
        SuspenseEvent::Rejected { action } => with(T::SusEvRejected, action),
        SuspenseEvent::Worked { action } => with(T::SusEvWorked, action),
        SuspenseEvent::Resolved { action } => with(T::SusEvResolved, action),
        SuspenseEvent::Unmatched => t(T::SusEvUnmatched),
    }
}

/// What a resolution (or a decision on one) did.
pub fn suspense_outcome_text(o: &SuspenseOutcome, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match o {
        SuspenseOutcome::Resolved { transfer_id: Some(id) } => {
            fill(&t(T::SusOutResolvedBy), &[("id", &short_id(*id))])
        }
        SuspenseOutcome::Resolved { transfer_id: None } => t(T::SusOutResolved),
        SuspenseOutcome::Worked => t(T::SusOutWorked),
        SuspenseOutcome::Proposed { proposal_id } => {
            fill(&t(T::SusOutProposed), &[("id", &short_id(*proposal_id))])
        }
        SuspenseOutcome::Approved => t(T::SusOutApproved),
        SuspenseOutcome::Rejected => t(T::SusOutRejected),
    }
}

/// A resolution as approvers read it: the action with its parameters.
pub fn suspense_action_text(a: &SuspenseAction, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let with_reason = |reason: &str| {
        fill(&t(T::SusActionWithReason), &[("action", &t(action_kind(a.kind()))), ("reason", &reason)])
    };
    match a {
        SuspenseAction::Match { items, fee } => {
            let sum = items.iter().map(|(_, amount)| *amount).reduce(|x, y| x + y).unwrap_or_default();
            let n = items.len();
            if fee.is_zero() {
                fill(&t(T::SusActionMatch), &[("n", &n), ("amount", &Cny(sum))])
            } else {
                fill(&t(T::SusActionMatchFee), &[("n", &n), ("amount", &Cny(sum)), ("fee", &Cny(*fee))])
            }
        }
        SuspenseAction::CreditSubAccount { number } => fill(&t(T::SusActionCredit), &[("number", number)]),
        SuspenseAction::ReturnToPayer { reason }
        | SuspenseAction::OffsetSettlement { reason }
        | SuspenseAction::WriteOffInternal { reason } => with_reason(reason),
        SuspenseAction::StartRecovery { reference } => {
            fill(&t(T::SusActionRecovery), &[("reference", reference)])
        }
        SuspenseAction::Recovered { with_item } => {
            fill(&t(T::SusActionRecovered), &[("id", &short_id(*with_item))])
        }
        SuspenseAction::AcceptLoss { contract_ref, reason } => {
            fill(&t(T::SusActionLoss), &[("contract", contract_ref), ("reason", reason)])
        }
        SuspenseAction::BookFee => t(T::SusActFee),
        SuspenseAction::Explain { reason, until } => {
            fill(&t(T::SusActionExplain), &[("reason", reason), ("until", until)])
        }
    }
}

/// What a statement's own numbers (or the store's chaining) say about it.
pub fn statement_finding_text(f: &StatementFinding, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match f {
        StatementFinding::DoesNotAddUp { difference_minor } => {
            fill(&t(T::SusFindDoesNotAddUp), &[("amount", &yuan_minor(*difference_minor))])
        }
        StatementFinding::NoBalances => t(T::SusFindNoBalances),
        StatementFinding::ChainBreak { previous, previous_closing_minor, opening_minor } => fill(
            &t(T::SusFindChainBreak),
            &[
                ("opening", &yuan_minor(*opening_minor)),
                ("previous", previous),
                ("closing", &yuan_minor(*previous_closing_minor)),
            ],
        ),
        StatementFinding::Gap { previous, this } => {
            fill(&t(T::SusFindGap), &[("previous", previous), ("this", this)])
        }
        StatementFinding::Overlap { previous } => fill(&t(T::SusFindOverlap), &[("previous", previous)]),
        StatementFinding::Duplicates { count, bank_refs } => {
            fill(&t(T::SusFindDuplicates), &[("count", count), ("refs", &bank_refs.join(", "))])
        }
        StatementFinding::Returns { count } => fill(&t(T::SusFindReturns), &[("count", count)]),
    }
}

/// What is wrong with a value in a statement file.
pub fn statement_problem_text(p: &StatementProblem, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match p {
        StatementProblem::UnknownFormat => t(T::SusPbUnknownFormat),
        StatementProblem::MalformedXml { detail } => fill(&t(T::SusPbMalformedXml), &[("detail", detail)]),
        StatementProblem::UnsupportedNamespace { namespace } => {
            fill(&t(T::SusPbNamespace), &[("namespace", namespace)])
        }
        StatementProblem::Missing => t(T::SusPbMissing),
        StatementProblem::BadAmount { text } => fill(&t(T::SusPbBadAmount), &[("text", text)]),
        StatementProblem::BadDate { text } => fill(&t(T::SusPbBadDate), &[("text", text)]),
        StatementProblem::BadValue { text } => fill(&t(T::SusPbBadValue), &[("text", text)]),
        StatementProblem::Encoding { encoding } => fill(&t(T::SusPbEncoding), &[("encoding", encoding)]),
        StatementProblem::MissingColumn { column } => fill(&t(T::SusPbMissingColumn), &[("column", column)]),
        StatementProblem::Csv { detail } => fill(&t(T::SusPbCsv), &[("detail", detail)]),
        StatementProblem::Currency { expected, found } => {
            fill(&t(T::SusPbCurrency), &[("expected", expected), ("found", found)])
        }
        StatementProblem::Empty => t(T::SusPbEmpty),
        StatementProblem::TooLarge { max_bytes } => fill(&t(T::SusPbTooLarge), &[("mb", &(max_bytes >> 20))]),
        StatementProblem::Overflow => t(T::SusPbOverflow),
    }
}

/// Where in a file: a line, an XML element, the whole file.
pub fn location_text(l: &Location, lang: Lang) -> String {
    match l {
        Location::Line { line } => fill(T::SusLocLine.text(lang), &[("line", line)]),
        Location::Element { path } => fill(T::SusLocElement.text(lang), &[("path", path)]),
        Location::File => T::SusLocFile.text(lang).to_owned(),
    }
}

/// A statement file that cannot be read: `文件 x.xml，元素 …/Amt，字段 Amt：不是金额 "12,3.4"`.
pub fn statement_error_text(file: &str, e: &StatementError, lang: Lang) -> String {
    let at = location_text(&e.at, lang);
    let problem = statement_problem_text(&e.problem, lang);
    if e.field.trim().is_empty() {
        let params: [(&str, &dyn std::fmt::Display); 3] =
            [("file", &file), ("at", &at), ("problem", &problem)];
        fill(T::SusStatementErrorNoField.text(lang), &params)
    } else {
        fill(
            T::SusStatementError.text(lang),
            &[("file", &file), ("at", &at), ("field", &e.field), ("problem", &problem)],
        )
    }
}

/// A matching rule's code in words; an unknown rule is shown as it is.
pub fn match_rule_text(code: &str, lang: Lang) -> String {
    let key = match code {
        "suffix_exact" => T::SusRuleSuffixExact,
        "reference_exact" => T::SusRuleReferenceExact,
        "reference_near" => T::SusRuleReferenceNear,
        "amount_date_name" => T::SusRuleAmountDateName,
        "one_line_many_items" => T::SusRuleOneLineManyItems,
        "many_lines_by_reference" => T::SusRuleManyLinesByReference,
        "many_lines_by_counterparty" => T::SusRuleManyLinesByCounterparty,
        "manual" => T::SusRuleManual,
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}

/// A ledger account of a posting: an internal role in words, a sub-account
/// number (masked) as it is.
pub fn ledger_role_text(role: &str, lang: Lang) -> String {
    let key = match role {
        "asset" => T::VamPoolAsset,
        "main" => T::VamPoolMain,
        "suspense" => T::VamPoolSuspense,
        "interest" => T::VamPoolInterest,
        "sus_overage" => T::SusRoleSusOverage,
        "sus_shortage" => T::SusRoleSusShortage,
        "sus_returned" => T::SusRoleSusReturned,
        "sus_fee" => T::SusRoleSusFee,
        "sus_one_sided" => T::SusRoleSusOneSided,
        "loss" => T::SusRoleLoss,
        "fee" => T::SusRoleFee,
        "settlement" => T::SusRoleSettlement,
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}

/// The channel an item came through: a bank's transaction code as it is, the
/// console's own codes in words, `—` for none.
pub fn channel_text(code: &str, lang: Lang) -> String {
    match code {
        "" => "—".to_owned(),
        "bank_notice" => T::SusChannelBankNotice.text(lang).to_owned(),
        // Items found on our side (a shortage) are named by our item's kind.
        other => match OurKind::parse(other) {
            Some(kind) => our_kind(kind).text(lang).to_owned(),
            None => other.to_owned(),
        },
    }
}

/// What a kind of drift is (the statement proof of the daily report).
pub fn drift_kind(k: DriftKind) -> T {
    match k {
        DriftKind::OpeningDifference => T::SusDriftOpening,
        DriftKind::AcknowledgedDifference => T::SusDriftAcknowledged,
        DriftKind::Unreconciled => T::SusDriftUnreconciled,
        DriftKind::Duplicate => T::SusDriftDuplicate,
        DriftKind::PostedLater => T::SusDriftPostedLater,
        DriftKind::PostedEarlier => T::SusDriftPostedEarlier,
        DriftKind::OutsideLedger => T::SusDriftOutside,
        DriftKind::OtherStatementLine => T::SusDriftOtherLine,
        DriftKind::DiffersFromLedger => T::SusDriftDiffers,
        DriftKind::NoticeNotOnStatement => T::SusDriftNotice,
        DriftKind::OurItemShort => T::SusDriftOurShort,
        DriftKind::FeeDifference => T::SusDriftFee,
        DriftKind::ParkedWithoutLine => T::SusDriftParked,
        DriftKind::ReturnedToPayer => T::SusDriftReturned,
        DriftKind::ManualMatch => T::SusDriftManual,
        DriftKind::Reversal => T::SusDriftReversal,
        DriftKind::LedgerPosting => T::SusDriftLedger,
    }
}

/// Which fact of a closed day differs from its snapshot.
pub fn closed_fact(f: ClosedFact) -> T {
    match f {
        ClosedFact::Statement => T::SusFactStatement,
        ClosedFact::Opening => T::SusFactOpening,
        ClosedFact::Closing => T::SusFactClosing,
        ClosedFact::Lines => T::SusFactLines,
        ClosedFact::LinesSum => T::SusFactLinesSum,
        ClosedFact::LinesDigest => T::SusFactLinesDigest,
        ClosedFact::ProofRemainder => T::SusFactProofRemainder,
        ClosedFact::Matches => T::SusFactMatches,
        ClosedFact::MatchesDifference => T::SusFactMatchesDifference,
        ClosedFact::MatchesParts => T::SusFactMatchesParts,
        ClosedFact::Found => T::SusFactFound,
        ClosedFact::FoundAmount => T::SusFactFoundAmount,
    }
}

/// A closed-day fact's value: a count, an amount, a digest's head (`3f9a…`), or none.
pub fn fact_value_text(v: &FactValue, lang: Lang) -> String {
    match v {
        FactValue::Missing => T::SusFactMissing.text(lang).to_owned(),
        FactValue::Count(n) => n.to_string(),
        FactValue::Amount(a) => Cny(*a).to_string(),
        FactValue::Digest(d) => format!("{}…", d.chars().take(12).collect::<String>()),
    }
}

/// What a closed-day fact is about: a match status or an item kind in words, a
/// statement as it is.
pub fn fact_reference_text(fact: ClosedFact, reference: &str, lang: Lang) -> String {
    match fact {
        ClosedFact::Matches | ClosedFact::MatchesDifference | ClosedFact::MatchesParts => {
            match_status_code_text(reference, lang)
        }
        ClosedFact::Found | ClosedFact::FoundAmount => SuspenseKind::parse(reference)
            .map_or_else(|| reference.to_owned(), |k| suspense_kind(k).text(lang).to_owned()),
        _ => reference.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_error_names_file_element_field_and_value() {
        let e = StatementError {
            at: Location::Element { path: "Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt".into() },
            field: "Amt".into(),
            problem: StatementProblem::BadAmount { text: "12,3.4".into() },
        };
        assert_eq!(
            statement_error_text("x.xml", &e, Lang::Zh),
            "文件 x.xml，元素 Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt，字段 Amt：不是金额 \"12,3.4\""
        );
        assert_eq!(
            statement_error_text("x.xml", &e, Lang::En),
            "file x.xml, element Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt, field Amt: not an amount \"12,3.4\""
        );
        let line = StatementError {
            at: Location::Line { line: 7 },
            field: String::new(),
            problem: StatementProblem::Empty,
        };
        assert_eq!(
            statement_error_text("a.sta", &line, Lang::En),
            "file a.sta, line 7: no statement or entries in the file"
        );
    }

    #[test]
    fn a_score_part_names_factor_points_and_what_was_found() {
        let part = ScorePart {
            factor: ScoreFactor::Amount,
            points: 31,
            detail: ScoreDetail::AmountDifference { difference_minor: -60, fee_difference_minor: 0 },
        };
        assert_eq!(score_part_text(&part, Lang::Zh), "金额 31/40：相差 -¥0.60");
        assert_eq!(score_part_text(&part, Lang::En), "amount 31/40: differ by -¥0.60");
        let days =
            ScorePart { factor: ScoreFactor::Date, points: 15, detail: ScoreDetail::DaysApart { days: 0 } };
        assert_eq!(score_part_text(&days, Lang::Zh), "日期 15/15：在预计日期内");
    }

    #[test]
    fn every_code_has_words_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            for k in SuspenseKind::ALL {
                assert!(!suspense_kind(k).text(lang).is_empty());
            }
            for a in ActionKind::ALL {
                assert!(!action_kind(a).text(lang).is_empty());
            }
            assert_eq!(age_bucket(AgeBucket::Over30).text(Lang::Zh), "30天以上");
            assert_eq!(match_status_code_text("reversed", lang), T::SusMStReversed.text(lang));
        }
    }
}
