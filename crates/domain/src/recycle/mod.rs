//! Recycled numbers (二次号): carrier events, the detection rule, risk score,
//! case states and decisions, and the verification attempt budget.
//!
//! Everything is pure: callers pass `now` and the facts they read.

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mod codes;

pub use codes::{
    CaseEventKind, CaseSource, CaseStatus, CheckKind, DecisionKind, HookKind, HookReason, NotRecycledReason,
    UnbindReason,
};

/// Default freeze window after a cancellation (days): the old user may still reclaim the number.
pub const DEFAULT_FREEZE_DAYS: i64 = 90;

/// What a carrier told us happened to a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CarrierEventKind {
    /// 销户: the subscriber cancelled; the number goes into the freeze window.
    Cancel,
    /// 过户: the number was transferred to another subscriber.
    Transfer,
    /// 二次放号: the number was issued to a new subscriber.
    Reissue,
    /// 携入: ported in from another carrier.
    PortIn,
    /// 携出: ported out to another carrier.
    PortOut,
}

impl CarrierEventKind {
    /// All kinds.
    pub const ALL: [CarrierEventKind; 5] =
        [Self::Cancel, Self::Transfer, Self::Reissue, Self::PortIn, Self::PortOut];

    /// The stable name stored in the database and used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::Transfer => "transfer",
            Self::Reissue => "reissue",
            Self::PortIn => "port_in",
            Self::PortOut => "port_out",
        }
    }

    /// Parses a file's event column: the English name or the carriers' Chinese word.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|k| k.as_str().eq_ignore_ascii_case(s)).or(match s {
            "销户" | "注销" => Some(Self::Cancel),
            "过户" => Some(Self::Transfer),
            "二次放号" | "放号" | "重新放号" => Some(Self::Reissue),
            "携入" | "携号转入" => Some(Self::PortIn),
            "携出" | "携号转出" => Some(Self::PortOut),
            "port-in" => Some(Self::PortIn),
            "port-out" => Some(Self::PortOut),
            _ => None,
        })
    }

    /// Whether the event by itself makes a bound number suspect.
    pub fn is_notice(self) -> bool {
        matches!(self, Self::Cancel | Self::Transfer | Self::Reissue)
    }

    /// Ports break the entry-time rule (the carrier may report the port time).
    pub fn is_port(self) -> bool {
        matches!(self, Self::PortIn | Self::PortOut)
    }
}

/// Parses a time as carriers write it: `YYYY-MM-DD HH:MM[:SS]` or `YYYY/MM/DD …` in
/// Asia/Shanghai (UTC+8, no daylight saving), a bare date, or RFC 3339 with its own offset.
pub fn parse_carrier_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    // Carrier files hold millions of `YYYY-MM-DD HH:MM:SS`: read those digits directly.
    if let Some(t) = parse_fixed(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let shanghai = FixedOffset::east_opt(8 * 3600)?;
    let s = s.replace('/', "-");
    let naive = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&s, f).ok())
        .or_else(|| chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0))?;
    shanghai.from_local_datetime(&naive).single().map(|t| t.with_timezone(&Utc))
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time, without going through format strings.
fn parse_fixed(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let naive = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(DateTime::from_naive_utc_and_offset(naive, Utc) - Duration::hours(8))
}

/// One carrier fact about a number, from a file or the gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarrierFact {
    /// Network-entry time (入网时间) as the carrier reports it.
    pub entry_at: Option<DateTime<Utc>>,
    /// The event, if this fact is a notice.
    pub event: Option<CarrierEventKind>,
    /// When the event happened.
    pub event_at: Option<DateTime<Utc>>,
}

/// What the rule says about one (binding, fact) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Why it is suspect.
    pub source: CaseSource,
    /// Ported or ambiguous: a person must decide, nothing happens automatically.
    pub manual_only: bool,
    /// Before this time the old user may still reclaim the number (cancel notices).
    pub freeze_until: Option<DateTime<Utc>>,
}

/// The detection rule. `bound_at` is when the phone was bound to our user
/// (registration or a later re-binding). Returns `None` when the fact is no reason
/// for suspicion.
pub fn assess(bound_at: DateTime<Utc>, fact: &CarrierFact, freeze_days: i64) -> Option<Assessment> {
    if fact.event.is_some_and(CarrierEventKind::is_port) {
        return Some(Assessment { source: CaseSource::Port, manual_only: true, freeze_until: None });
    }
    // The primary rule: the carrier's subscriber entered after our binding.
    if fact.entry_at.is_some_and(|entry| entry > bound_at) {
        return Some(Assessment { source: CaseSource::EntryTime, manual_only: false, freeze_until: None });
    }
    let kind = fact.event.filter(|k| k.is_notice())?;
    // A notice older than our binding describes a previous holder, not our user.
    if fact.event_at.is_some_and(|at| at <= bound_at) {
        return None;
    }
    let freeze_until = match (kind, fact.event_at) {
        (CarrierEventKind::Cancel, Some(at)) => Some(at + Duration::days(freeze_days)),
        _ => None,
    };
    Some(Assessment { source: CaseSource::Notice, manual_only: false, freeze_until })
}

/// What a carrier's "has this number changed hands since …?" query answers
/// (modelled on Aliyun `DescribePhoneTwiceTelVerify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwiceTelAnswer {
    /// 0: the carrier cannot tell.
    Unknown,
    /// 1: reissued to someone else after the date.
    Reassigned,
    /// 2: same subscriber since the date.
    NotReassigned,
    /// 3: cancelled, not (yet) reissued.
    Cancelled,
    /// Error: ported numbers are not supported.
    PortedNotSupported,
    /// Error: number not served by this carrier / not supported.
    Unsupported,
}

impl TwiceTelAnswer {
    /// All answers.
    pub const ALL: [TwiceTelAnswer; 6] = [
        Self::Unknown,
        Self::Reassigned,
        Self::NotReassigned,
        Self::Cancelled,
        Self::PortedNotSupported,
        Self::Unsupported,
    ];

    /// The stable code (the same as its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Reassigned => "reassigned",
            Self::NotReassigned => "not_reassigned",
            Self::Cancelled => "cancelled",
            Self::PortedNotSupported => "ported_not_supported",
            Self::Unsupported => "unsupported",
        }
    }

    /// Parses a code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == code)
    }

    /// The assessment of a gateway answer for a bound phone; `None` = nothing to do.
    pub fn assess(self) -> Option<Assessment> {
        match self {
            Self::NotReassigned => None,
            Self::Reassigned => {
                Some(Assessment { source: CaseSource::Gateway, manual_only: false, freeze_until: None })
            }
            Self::Cancelled | Self::Unknown | Self::PortedNotSupported | Self::Unsupported => {
                Some(Assessment { source: CaseSource::Gateway, manual_only: true, freeze_until: None })
            }
        }
    }
}

/// Per-field result of an identity check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldMatch {
    /// Matches the record.
    Match,
    /// Differs from the record.
    Mismatch,
    /// The source has no record to compare with.
    NoRecord,
}

/// Carrier 3-element answer (name + ID number + phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreeElementAnswer {
    /// Name vs the subscriber's real-name record.
    pub name: FieldMatch,
    /// ID number vs the record.
    pub id_number: FieldMatch,
    /// Whether the carrier has the number at all.
    pub phone: FieldMatch,
}

impl ThreeElementAnswer {
    /// All three match.
    pub fn passed(&self) -> bool {
        self.name == FieldMatch::Match
            && self.id_number == FieldMatch::Match
            && self.phone == FieldMatch::Match
    }
}

/// Bank 4-element answer (name, ID, card, reserved phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BankAnswer {
    /// All four elements match the bank's record.
    Match,
    /// At least one element differs.
    Mismatch,
    /// The card number is not a valid card.
    InvalidCard,
    /// The card is lost, frozen or closed.
    AbnormalStatus,
    /// The card may not be used for verification (e.g. restricted by the bank).
    RestrictedCard,
}

impl BankAnswer {
    /// All answers.
    pub const ALL: [BankAnswer; 5] =
        [Self::Match, Self::Mismatch, Self::InvalidCard, Self::AbnormalStatus, Self::RestrictedCard];
}

/// Inputs of the risk score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskInputs {
    /// Sum of the old user's account balances (fen).
    pub balance_minor: i64,
    /// Active bank cards (quick-pay agreements) of the old user.
    pub active_cards: i64,
    /// Active direct-debit agreements (话费代扣 and others) of the old user.
    pub direct_debits: i64,
    /// Days since the old user last logged in; `None` = never.
    pub days_since_login: Option<i64>,
}

/// Risk score 0–100 (the UI's catalogue spells the formula out for agents): money at risk, instruments an attacker could use, and whether
/// the old user is still active (a recent login means the account is in use).
pub fn risk_score(i: &RiskInputs) -> i32 {
    let balance_yuan = i.balance_minor.max(0) / 100;
    let balance = (balance_yuan / 2_500).min(40) as i32;
    let cards = (i.active_cards.clamp(0, 3) * 10) as i32;
    let debits = (i.direct_debits.clamp(0, 2) * 10) as i32;
    let recency = match i.days_since_login {
        Some(d) if d <= 7 => 10,
        Some(d) if d <= 30 => 5,
        _ => 0,
    };
    balance + cards + debits + recency
}

/// When "confirm recycled" needs a second person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum FourEyesPolicy {
    /// Every confirmation.
    Always,
    /// Only when the old user's balance is at least this much.
    AboveBalance {
        /// Threshold in yuan.
        threshold: Decimal,
    },
}

impl FourEyesPolicy {
    /// Whether a confirmation over `balance_minor` needs a checker.
    pub fn needs_checker(&self, balance_minor: i64) -> bool {
        match self {
            Self::Always => true,
            Self::AboveBalance { threshold } => Decimal::new(balance_minor, 2) >= *threshold,
        }
    }
}

/// Settings of the recycled-number workflow (stored in the database, shared by all desktops).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecycleSettings {
    /// Days after a cancellation during which nothing is unbound automatically.
    pub freeze_days: i64,
    /// How long a claim lasts without activity (minutes).
    pub lease_minutes: i64,
    /// Four-eyes rule for "confirm recycled" and force-unbind.
    pub four_eyes: FourEyesPolicy,
    /// Hours after which an open case is past its SLA.
    pub sla_hours: i64,
}

impl RecycleSettings {
    /// Longest freeze window a setting may ask for (days).
    pub const MAX_FREEZE_DAYS: i64 = 3 * 365;
    /// Longest claim lease (minutes): a working day.
    pub const MAX_LEASE_MINUTES: i64 = 24 * 60;
    /// Longest SLA (hours): a quarter.
    pub const MAX_SLA_HOURS: i64 = 24 * 92;
    /// Highest four-eyes balance threshold (yuan): above it, "a checker only above a
    /// balance" would mean "never".
    pub const MAX_THRESHOLD_YUAN: i64 = 10_000_000;

    /// Whether every number is within its bounds (people type these).
    pub fn within_bounds(&self) -> bool {
        let threshold_ok = match self.four_eyes {
            FourEyesPolicy::Always => true,
            FourEyesPolicy::AboveBalance { threshold } => {
                threshold >= Decimal::ZERO && threshold <= Decimal::from(Self::MAX_THRESHOLD_YUAN)
            }
        };
        (0..=Self::MAX_FREEZE_DAYS).contains(&self.freeze_days)
            && (1..=Self::MAX_LEASE_MINUTES).contains(&self.lease_minutes)
            && (1..=Self::MAX_SLA_HOURS).contains(&self.sla_hours)
            && threshold_ok
    }
}

/// A change of the four-eyes rule waiting for a second supervisor: no one person
/// can switch the control off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsProposal {
    /// Names exactly this proposal in the approval.
    pub id: uuid::Uuid,
    /// The settings as they would be.
    pub settings: RecycleSettings,
    /// The supervisor who proposed them.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The workflow settings in force, and a four-eyes change waiting for approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSettings {
    /// In force.
    pub current: RecycleSettings,
    /// Waiting for a second supervisor.
    pub pending: Option<SettingsProposal>,
}

impl Default for RecycleSettings {
    fn default() -> Self {
        Self {
            freeze_days: DEFAULT_FREEZE_DAYS,
            lease_minutes: 30,
            four_eyes: FourEyesPolicy::Always,
            sla_hours: 48,
        }
    }
}

/// Card-network-safe attempt budget for verification checks: stop *before* the
/// bank would lock the card (3 consecutive errors / >10 a day are common lock rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptBudget {
    /// Consecutive failures allowed before a lock.
    pub max_consecutive_failures: u32,
    /// Attempts (any outcome) allowed per rolling 24 hours.
    pub max_per_day: u32,
    /// Lock length after the budget is spent (hours).
    pub lock_hours: i64,
}

impl Default for AttemptBudget {
    fn default() -> Self {
        Self { max_consecutive_failures: 2, max_per_day: 5, lock_hours: 24 }
    }
}

/// One earlier attempt: when, and whether it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When.
    pub at: DateTime<Utc>,
    /// Whether the check passed.
    pub passed: bool,
}

/// What the budget allows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetState {
    /// Attempts still allowed before the lock.
    pub remaining: u32,
    /// Locked until then (no attempt allowed).
    pub locked_until: Option<DateTime<Utc>>,
}

impl AttemptBudget {
    /// The state after `attempts` (any order) at `now`.
    pub fn state(&self, attempts: &[Attempt], now: DateTime<Utc>) -> BudgetState {
        let mut recent: Vec<Attempt> =
            attempts.iter().copied().filter(|a| now - a.at < Duration::hours(self.lock_hours)).collect();
        recent.sort_by_key(|a| a.at);
        let consecutive = recent.iter().rev().take_while(|a| !a.passed).count() as u32;
        let used = recent.len() as u32;
        let spent = consecutive >= self.max_consecutive_failures || used >= self.max_per_day;
        if spent {
            // The lock runs from the attempt that spent the budget.
            let trigger = recent.last().map_or(now, |a| a.at);
            return BudgetState {
                remaining: 0,
                locked_until: Some(trigger + Duration::hours(self.lock_hours)),
            };
        }
        let remaining =
            (self.max_consecutive_failures - consecutive).min(self.max_per_day.saturating_sub(used));
        BudgetState { remaining, locked_until: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_carrier_time(s).unwrap()
    }

    #[test]
    fn times_are_shanghai_unless_stated() {
        assert_eq!(t("2026-01-02 08:00:00").to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert_eq!(t("2026/01/02 08:00").to_rfc3339(), "2026-01-02T00:00:00+00:00");
        assert_eq!(t("2026-01-02").to_rfc3339(), "2026-01-01T16:00:00+00:00");
        assert_eq!(t("2026-01-02T08:00:00Z").to_rfc3339(), "2026-01-02T08:00:00+00:00");
        assert!(parse_carrier_time("2026-13-02").is_none());
        assert!(parse_carrier_time("2026-02-30 10:00:00").is_none());
        assert!(parse_carrier_time("2026-02-03 24:00:00").is_none());
        assert_eq!(t("2026-02-03 23:59:58").to_rfc3339(), "2026-02-03T15:59:58+00:00");
        assert!(parse_carrier_time("yesterday").is_none());
    }

    #[test]
    fn event_words_in_both_languages() {
        assert_eq!(CarrierEventKind::parse("销户"), Some(CarrierEventKind::Cancel));
        assert_eq!(CarrierEventKind::parse("Transfer"), Some(CarrierEventKind::Transfer));
        assert_eq!(CarrierEventKind::parse("port-in"), Some(CarrierEventKind::PortIn));
        assert_eq!(CarrierEventKind::parse("携出"), Some(CarrierEventKind::PortOut));
        assert_eq!(CarrierEventKind::parse("关机"), None);
    }

    #[test]
    fn entry_after_binding_is_suspect_before_is_not() {
        let bound = t("2024-05-01 10:00");
        let later = CarrierFact { entry_at: Some(t("2025-02-01 09:00")), event: None, event_at: None };
        let earlier = CarrierFact { entry_at: Some(t("2020-02-01 09:00")), event: None, event_at: None };
        assert_eq!(assess(bound, &later, 90).map(|a| a.source), Some(CaseSource::EntryTime));
        assert_eq!(assess(bound, &earlier, 90), None);
    }

    #[test]
    fn notices_ports_and_freeze_window() {
        let bound = t("2024-05-01 10:00");
        let cancel = CarrierFact {
            entry_at: None,
            event: Some(CarrierEventKind::Cancel),
            event_at: Some(t("2026-01-01 00:00")),
        };
        let a = assess(bound, &cancel, 90).unwrap();
        assert_eq!(a.source, CaseSource::Notice);
        assert_eq!(a.freeze_until, Some(t("2026-04-01 00:00")));
        let old_cancel = CarrierFact { event_at: Some(t("2023-01-01 00:00")), ..cancel.clone() };
        assert_eq!(assess(bound, &old_cancel, 90), None, "a notice about a previous holder");
        let port = CarrierFact { event: Some(CarrierEventKind::PortIn), ..cancel };
        assert!(assess(bound, &port, 90).unwrap().manual_only);
        assert!(TwiceTelAnswer::Unknown.assess().unwrap().manual_only);
        assert!(!TwiceTelAnswer::Reassigned.assess().unwrap().manual_only);
        assert_eq!(TwiceTelAnswer::NotReassigned.assess(), None);
    }

    #[test]
    fn risk_score_parts() {
        let base = RiskInputs { balance_minor: 0, active_cards: 0, direct_debits: 0, days_since_login: None };
        assert_eq!(risk_score(&base), 0);
        assert_eq!(risk_score(&RiskInputs { balance_minor: 10_000_000, ..base }), 40);
        assert_eq!(risk_score(&RiskInputs { balance_minor: 1_000_000_000, ..base }), 40);
        assert_eq!(risk_score(&RiskInputs { active_cards: 5, direct_debits: 1, ..base }), 40);
        assert_eq!(risk_score(&RiskInputs { days_since_login: Some(3), ..base }), 10);
        assert_eq!(risk_score(&RiskInputs { days_since_login: Some(20), ..base }), 5);
    }

    #[test]
    fn four_eyes_threshold() {
        assert!(FourEyesPolicy::Always.needs_checker(0));
        let above = FourEyesPolicy::AboveBalance { threshold: Decimal::new(1000, 0) };
        assert!(!above.needs_checker(99_999));
        assert!(above.needs_checker(100_000));
    }

    #[test]
    fn budget_stops_before_the_bank_locks() {
        let b = AttemptBudget::default();
        let now = t("2026-11-24 12:00");
        let fail = |h: i64| Attempt { at: now - Duration::hours(h), passed: false };
        let pass = |h: i64| Attempt { at: now - Duration::hours(h), passed: true };
        assert_eq!(b.state(&[], now), BudgetState { remaining: 2, locked_until: None });
        assert_eq!(b.state(&[fail(1)], now).remaining, 1);
        let locked = b.state(&[fail(2), fail(1)], now);
        assert_eq!(locked.remaining, 0);
        assert_eq!(locked.locked_until, Some(now - Duration::hours(1) + Duration::hours(24)));
        // A pass resets the consecutive count but not the daily total.
        assert_eq!(b.state(&[fail(5), pass(4), fail(3), pass(2)], now).remaining, 1);
        assert!(b.state(&[pass(5), pass(4), pass(3), pass(2), pass(1)], now).locked_until.is_some());
        // Old failures fall out of the window.
        assert_eq!(b.state(&[fail(30), fail(25)], now).remaining, 2);
    }
}
