//! Reconciliation (对账) matching: which bank lines are which of our expected
//! items. Pure: the caller reads statements and open items, calls [`plan`], and
//! stores what it proposes; nothing here reads the clock or does I/O.
//!
//! A [`RuleSet`] is an ordered list of [`Rule`]s. Each rule has [`Condition`]s every
//! pair (line, item) of a match must meet, a [`Cardinality`] (one line to one item,
//! one line to several items, several lines to one item) and says whether its
//! matches are confirmed automatically or only suggested. Rules apply in order;
//! lines and items matched by an earlier rule are out of the later ones.
//!
//! **Ambiguity is never matched.** A rule matches only a pair (or group) that is
//! unique both ways: the line has exactly one candidate under the rule and no other
//! line has that candidate. Anything else is an [`Ambiguity`]; the line and its
//! candidates stay open for later rules, which may *suggest* a match for them but
//! never confirm one. A match is [`MatchStatus::Confirmed`] only when the rule says
//! `confirm`, the match is unique both ways, the amount is within the rule's
//! tolerance (exact when the rule has none), and none of its lines or items was
//! ambiguous under an earlier rule.
//!
//! Candidates are found through indexes (virtual number, reference, amount, group
//! key) and never by comparing every line with every item: see [`plan`] for the
//! bounds.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod matching;
mod names;
mod score;
#[cfg(test)]
mod tests;

pub use matching::plan;
pub use names::{REMITTANCE_WORDS_JOINED, normalise_name, normalise_reference, similarity_percent};
pub use score::{
    ScoreDetail, ScoreFactor, ScorePart, Suggestion, WEIGHT_AMOUNT, WEIGHT_DATE, WEIGHT_NAME,
    WEIGHT_REFERENCE, WEIGHT_SUFFIX, explain, suggestions,
};

/// The largest group a one-to-many or many-to-one rule may build (`max_group`).
pub const MAX_GROUP_LIMIT: u8 = 8;

/// The most candidates a group search looks at for one target: with more, the
/// target is ambiguous (too many ways to add up).
pub const GROUP_CANDIDATE_LIMIT: usize = 12;

/// The most index entries examined for one line and one index key. A line whose
/// key reaches more (thousands of items of the same amount within the date
/// window) is ambiguous: its [`Ambiguity`] lists the fitting items among the first
/// `SCAN_LIMIT`, and none of the items it reaches is matched by that rule.
pub const SCAN_LIMIT: usize = 512;

/// The longest date window a [`Condition::DateWithin`] may widen by (days); larger
/// values are taken as this.
pub const MAX_WINDOW_DAYS: u32 = 3_660;

/// One bank (or channel settlement) line to reconcile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankLine {
    /// The line's id.
    pub id: Uuid,
    /// Signed amount (fen): credit (money in) positive, debit negative.
    pub amount_minor: i64,
    /// Booking day.
    pub booking_date: NaiveDate,
    /// The bank's own reference of the entry.
    pub bank_ref: String,
    /// The payer's end-to-end id or customer reference.
    pub end_to_end: Option<String>,
    /// Counterparty name (payer for a credit, payee for a debit).
    pub counterparty_name: Option<String>,
    /// Remittance information (附言/用途).
    pub remittance: Option<String>,
    /// The full virtual account number the payer addressed, when present.
    pub addressed_account: Option<String>,
    /// Our order or refund id (settlement files carry it).
    pub our_ref: Option<String>,
    /// Fee charged on this line (fen, positive; 0 when none or unknown).
    pub fee_minor: i64,
}

/// One item we expect to see on the bank account (an order, a refund, a payout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OurItem {
    /// The item's id.
    pub id: Uuid,
    /// Signed effect expected on the bank account (fen): money in positive.
    pub amount_minor: i64,
    /// First day of the expected booking window.
    pub date_from: NaiveDate,
    /// Last day of the expected booking window (a reversed window is read as its
    /// two ends in order).
    pub date_to: NaiveDate,
    /// Our order id / payment reference.
    pub reference: Option<String>,
    /// The counterparty's name as we know it.
    pub counterparty_name: Option<String>,
    /// The virtual sub-account number the money is for.
    pub virtual_number: Option<String>,
    /// The fee we expect the bank or channel to take (fen, positive).
    pub expected_fee_minor: i64,
}

/// How far apart the amounts of a match may be. The difference is Σ lines − Σ
/// items; the basis of a percentage is |Σ items| (what we expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tolerance {
    /// Equal to the fen.
    Exact,
    /// At most `minor` fen apart (a negative value is read as 0).
    Absolute {
        /// The allowed difference (fen).
        minor: i64,
    },
    /// At most `bp` basis points (1/10 000) of the expected amount apart; exact
    /// integer arithmetic, so "exactly at the limit" passes.
    BasisPoints {
        /// The allowed difference in basis points.
        bp: u32,
    },
}

impl Tolerance {
    /// Whether `difference_minor` is allowed when `expected_minor` was expected.
    pub fn allows(self, difference_minor: i64, expected_minor: i64) -> bool {
        let difference = i128::from(difference_minor).abs();
        match self {
            Self::Exact => difference == 0,
            Self::Absolute { minor } => difference <= i128::from(minor.max(0)),
            Self::BasisPoints { bp } => {
                difference * 10_000 <= i128::from(bp) * i128::from(expected_minor).abs()
            }
        }
    }
}

/// One condition of a [`Rule`]. Every condition but [`Condition::AmountWithin`]
/// holds for each pair (line, item) of a match; the amount condition holds for the
/// sums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// Σ lines − Σ items within the tolerance.
    AmountWithin {
        /// The tolerance.
        tolerance: Tolerance,
    },
    /// The line's booking day within `[date_from − days, date_to + days]`.
    DateWithin {
        /// Days of slack on both sides (at most [`MAX_WINDOW_DAYS`]).
        days: u32,
    },
    /// The item's reference is the line's `our_ref`, its `end_to_end`, or a word run
    /// of its remittance, compared case-insensitively without spaces (see
    /// [`normalise_reference`]).
    ReferenceEquals,
    /// The counterparty names are at least `min_percent` similar
    /// ([`similarity_percent`]); a missing name fails.
    NameSimilar {
        /// The least similarity, 0..=100.
        min_percent: u8,
    },
    /// The line's addressed account is the item's virtual number (spaces and case
    /// ignored).
    SuffixRoute,
}

stored_code! {
    /// How many lines and items one match of a rule holds.
    pub enum Cardinality {
        /// One bank line, one item.
        OneToOne => "one_to_one",
        /// One bank line = several of our items (a merchant pays several orders at
        /// once).
        OneToMany => "one_to_many",
        /// Several bank lines = one item (an amount paid in parts).
        ManyToOne => "many_to_one",
    }
}

stored_code! {
    /// What the members of a group share (one-to-many: the items; many-to-one: the
    /// lines), compared after normalisation.
    pub enum GroupKey {
        /// The counterparty name ([`normalise_name`]); the target's name must
        /// normalise to the same.
        Counterparty => "counterparty",
        /// The reference: an item's `reference`, a line's candidate references.
        Reference => "reference",
        /// The virtual number: an item's `virtual_number`, a line's addressed
        /// account.
        VirtualNumber => "virtual_number",
    }
}

/// One matching rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable code (stored with each match it makes).
    pub code: String,
    /// What must hold; all of them.
    pub conditions: Vec<Condition>,
    /// How many lines and items one match holds.
    pub cardinality: Cardinality,
    /// What a group shares (required for the grouped cardinalities, ignored for
    /// one-to-one).
    pub group_by: Option<GroupKey>,
    /// The largest group (2..=[`MAX_GROUP_LIMIT`] for the grouped cardinalities).
    pub max_group: u8,
    /// Confirm the rule's unique matches automatically (`false`: only suggest).
    pub confirm: bool,
}

/// Why a rule cannot be used as it stands. [`plan`] skips such a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RuleProblem {
    /// The rule has an empty code.
    #[error("a rule has no code")]
    EmptyCode,
    /// Two rules have the same code.
    #[error("rule code {rule} is used twice")]
    DuplicateCode {
        /// The code.
        rule: String,
    },
    /// A one-to-one rule with nothing to find candidates by: it needs
    /// [`Condition::SuffixRoute`], [`Condition::ReferenceEquals`], or an amount
    /// condition narrower than 100 %.
    #[error("rule {rule} has no condition to find candidates by")]
    NoAnchor {
        /// The rule.
        rule: String,
    },
    /// A grouped rule without `group_by`.
    #[error("rule {rule} groups without a group key")]
    MissingGroupKey {
        /// The rule.
        rule: String,
    },
    /// A grouped rule whose `max_group` is outside 2..=[`MAX_GROUP_LIMIT`].
    #[error("rule {rule} has group size {max_group}")]
    GroupSizeOutOfRange {
        /// The rule.
        rule: String,
        /// The size given.
        max_group: u8,
    },
    /// A negative absolute tolerance.
    #[error("rule {rule} has a negative tolerance")]
    NegativeTolerance {
        /// The rule.
        rule: String,
    },
    /// A similarity above 100 %.
    #[error("rule {rule} asks for a similarity above 100")]
    SimilarityOutOfRange {
        /// The rule.
        rule: String,
    },
}

impl Rule {
    /// What is wrong with this rule on its own (empty when it can be used).
    pub fn problems(&self) -> Vec<RuleProblem> {
        let rule = || self.code.clone();
        let mut problems = Vec::new();
        if self.code.trim().is_empty() {
            problems.push(RuleProblem::EmptyCode);
        }
        for condition in &self.conditions {
            match condition {
                Condition::AmountWithin { tolerance: Tolerance::Absolute { minor } } if *minor < 0 => {
                    problems.push(RuleProblem::NegativeTolerance { rule: rule() })
                }
                Condition::NameSimilar { min_percent } if *min_percent > 100 => {
                    problems.push(RuleProblem::SimilarityOutOfRange { rule: rule() })
                }
                _ => {}
            }
        }
        match self.cardinality {
            Cardinality::OneToOne => {
                if matching::Compiled::new(self).anchor().is_none() {
                    problems.push(RuleProblem::NoAnchor { rule: rule() });
                }
            }
            Cardinality::OneToMany | Cardinality::ManyToOne => {
                if self.group_by.is_none() {
                    problems.push(RuleProblem::MissingGroupKey { rule: rule() });
                }
                if !(2..=MAX_GROUP_LIMIT).contains(&self.max_group) {
                    problems
                        .push(RuleProblem::GroupSizeOutOfRange { rule: rule(), max_group: self.max_group });
                }
            }
        }
        problems
    }
}

/// An ordered list of rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// The rules, applied in this order.
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// The default rules, in order:
    ///
    /// 1. `suffix_exact` — addressed virtual number = the item's, exact amount,
    ///    booked within the item's window ± 3 days; confirm.
    /// 2. `reference_exact` — reference found, exact amount; confirm.
    /// 3. `reference_near` — reference found, amounts at most ¥1.00 apart (a fee
    ///    the bank deducted, rounding); confirm (the run parks the difference as a
    ///    fee difference for a reviewer, and leaves an expected payment to a person).
    /// 4. `amount_date_name` — exact amount, window ± 2 days, names ≥ 80 % similar;
    ///    confirm (as always, only when unique both ways).
    /// 5. `one_line_many_items` — one line = 2..=5 items of the same counterparty,
    ///    exact sum, window ± 3 days, names ≥ 80 % similar; suggest.
    /// 6. `many_lines_by_reference` — 2..=5 lines carrying the item's reference add
    ///    up to it exactly, window ± 5 days; suggest.
    /// 7. `many_lines_by_counterparty` — 2..=5 lines of the item's counterparty add
    ///    up to it exactly, window ± 3 days; suggest.
    pub fn standard() -> Self {
        let exact = Condition::AmountWithin { tolerance: Tolerance::Exact };
        let rule = |code: &str, conditions: Vec<Condition>, cardinality, group_by, confirm| Rule {
            code: code.to_owned(),
            conditions,
            cardinality,
            group_by,
            max_group: if cardinality == Cardinality::OneToOne { 1 } else { 5 },
            confirm,
        };
        Self {
            rules: vec![
                rule(
                    "suffix_exact",
                    vec![Condition::SuffixRoute, exact.clone(), Condition::DateWithin { days: 3 }],
                    Cardinality::OneToOne,
                    None,
                    true,
                ),
                rule(
                    "reference_exact",
                    vec![Condition::ReferenceEquals, exact.clone()],
                    Cardinality::OneToOne,
                    None,
                    true,
                ),
                rule(
                    "reference_near",
                    vec![
                        Condition::ReferenceEquals,
                        Condition::AmountWithin { tolerance: Tolerance::Absolute { minor: 100 } },
                    ],
                    Cardinality::OneToOne,
                    None,
                    true,
                ),
                rule(
                    "amount_date_name",
                    vec![
                        exact.clone(),
                        Condition::DateWithin { days: 2 },
                        Condition::NameSimilar { min_percent: 80 },
                    ],
                    Cardinality::OneToOne,
                    None,
                    true,
                ),
                rule(
                    "one_line_many_items",
                    vec![
                        exact.clone(),
                        Condition::DateWithin { days: 3 },
                        Condition::NameSimilar { min_percent: 80 },
                    ],
                    Cardinality::OneToMany,
                    Some(GroupKey::Counterparty),
                    false,
                ),
                rule(
                    "many_lines_by_reference",
                    vec![exact.clone(), Condition::ReferenceEquals, Condition::DateWithin { days: 5 }],
                    Cardinality::ManyToOne,
                    Some(GroupKey::Reference),
                    false,
                ),
                rule(
                    "many_lines_by_counterparty",
                    vec![
                        exact,
                        Condition::DateWithin { days: 3 },
                        Condition::NameSimilar { min_percent: 80 },
                    ],
                    Cardinality::ManyToOne,
                    Some(GroupKey::Counterparty),
                    false,
                ),
            ],
        }
    }

    /// What is wrong with the set (each rule's problems, and codes used twice).
    pub fn problems(&self) -> Vec<RuleProblem> {
        let mut problems = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            problems.extend(rule.problems());
            if self.rules[..i].iter().any(|r| r.code == rule.code) {
                problems.push(RuleProblem::DuplicateCode { rule: rule.code.clone() });
            }
        }
        problems
    }
}

stored_code! {
    /// Whether a proposed match is taken as is or waits for an operator.
    pub enum MatchStatus {
        /// Proposed; an operator confirms or rejects it.
        Suggested => "suggested",
        /// Confirmed by the rule: unique, within tolerance, rule says confirm.
        Confirmed => "confirmed",
    }
}

/// A match a rule proposes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchProposal {
    /// The rule's code.
    pub rule: String,
    /// The bank lines, by id.
    pub lines: Vec<Uuid>,
    /// Our items, by id.
    pub items: Vec<Uuid>,
    /// Σ lines − Σ items (fen).
    pub difference_minor: i64,
    /// How good the match looks, 0..=100 (see [`explain`]; for groups: sums for the
    /// amount, the worst pair for date, name and reference).
    pub score: u8,
    /// Confirmed or only suggested.
    pub status: MatchStatus,
}

/// A line a rule could not match because the choice was not unique: several
/// candidates, a candidate other lines also fit, or several groups that add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ambiguity {
    /// The bank line.
    pub line: Uuid,
    /// The rule under which it was ambiguous (the first such rule).
    pub rule: String,
    /// The items it could be, by id.
    pub candidates: Vec<Uuid>,
}

/// What [`plan`] proposes. Every line is in exactly one of `matches` and
/// `unmatched_lines`, every item in exactly one of `matches` and `unmatched_items`;
/// `ambiguous` explains lines (matched later only as suggestions, or unmatched).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Plan {
    /// The matches, in rule order, then by first line id.
    pub matches: Vec<MatchProposal>,
    /// Lines that were ambiguous under some rule (the first one), by line id.
    pub ambiguous: Vec<Ambiguity>,
    /// Lines in no match, by id.
    pub unmatched_lines: Vec<Uuid>,
    /// Items in no match, by id.
    pub unmatched_items: Vec<Uuid>,
}
