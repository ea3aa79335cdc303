//! How well a line and an item (or a group) fit, 0..=100, explained part by part
//! for the operator. The parts carry typed parameters, never prose: the UI words
//! them.
//!
//! Weights (they add up to 100):
//!
//! | factor    | points | full when                        | falling                                   |
//! |-----------|--------|----------------------------------|-------------------------------------------|
//! | amount    | 40     | no difference                    | linearly with the relative difference, 0 at ≥ 5 % ([`AMOUNT_ZERO_AT_BP`]) |
//! | date      | 15     | booked inside the item's window  | −3 per day outside ([`DATE_POINTS_PER_DAY`]) |
//! | reference | 25     | the item's reference is on the line | 0 otherwise                            |
//! | name      | 10     | names equal after normalisation  | similarity % / 10, rounded down           |
//! | suffix    | 10     | addressed account = virtual number | 0 otherwise                             |
//!
//! The amount difference counts fees: when the gross amounts (amount + fee on
//! each side) agree, the difference is the fee and the amount scores in full; the
//! part's detail still shows both numbers.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::names::{self, NameBuf, RefKey};
use super::{BankLine, OurItem};

/// Points for the amount.
pub const WEIGHT_AMOUNT: u8 = 40;
/// Points for the date.
pub const WEIGHT_DATE: u8 = 15;
/// Points for the reference.
pub const WEIGHT_REFERENCE: u8 = 25;
/// Points for the counterparty name.
pub const WEIGHT_NAME: u8 = 10;
/// Points for the virtual number (suffix routing).
pub const WEIGHT_SUFFIX: u8 = 10;
/// The relative difference (basis points of the expected amount) at which the
/// amount scores nothing.
pub const AMOUNT_ZERO_AT_BP: i64 = 500;
/// Date points lost per day the booking is outside the item's window.
pub const DATE_POINTS_PER_DAY: u8 = 3;

stored_code! {
    /// What a part of a score is about.
    pub enum ScoreFactor {
        /// The amounts.
        Amount => "amount",
        /// The booking day against the expected window.
        Date => "date",
        /// Our reference on the line.
        Reference => "reference",
        /// The counterparty names.
        Name => "name",
        /// The addressed virtual number.
        Suffix => "suffix",
    }
}

/// What a part of a score found, with its numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "detail", rename_all = "snake_case")]
pub enum ScoreDetail {
    /// The amounts differ by this much (0 when equal).
    AmountDifference {
        /// Σ lines − Σ items (fen).
        difference_minor: i64,
        /// Σ line fees − Σ expected fees (fen).
        fee_difference_minor: i64,
    },
    /// Days between the booking and the item's window (0 inside it); for a group,
    /// the worst pair.
    DaysApart {
        /// The days.
        days: u32,
    },
    /// The item's reference is on the line.
    ReferenceFound,
    /// The item has a reference and the line does not carry it.
    ReferenceMissing,
    /// The item has no reference to look for.
    ReferenceUnknown,
    /// The names are this similar ([`super::similarity_percent`]); for a group, the
    /// least similar pair.
    NameSimilarity {
        /// 0..=100.
        percent: u8,
    },
    /// A name is missing on one side.
    NameUnknown,
    /// The line was addressed to the item's virtual number.
    SuffixEquals,
    /// The line was addressed to another virtual number.
    SuffixDiffers,
    /// The line has no addressed account or the item no virtual number.
    SuffixUnknown,
}

/// One factor of a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScorePart {
    /// What it is about.
    pub factor: ScoreFactor,
    /// Points earned (at most the factor's weight).
    pub points: u8,
    /// What was found.
    pub detail: ScoreDetail,
}

/// A candidate item for a line, scored and explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The item.
    pub item: Uuid,
    /// Σ parts' points, 0..=100.
    pub score: u8,
    /// The five parts: amount, date, reference, name, suffix.
    pub parts: Vec<ScorePart>,
}

/// Reusable buffers for scoring; what is read from the line is read once, when
/// first needed.
#[derive(Debug, Default)]
pub(crate) struct ScoreScratch {
    line_name: NameBuf,
    name_ready: bool,
    item_name: NameBuf,
    row: Vec<u32>,
    keys: Vec<RefKey>,
    keys_ready: bool,
    words: Vec<(u32, u32, u32)>,
}

/// Whether a text has anything but whitespace.
fn has_text(s: &str) -> bool {
    s.chars().any(|c| !names::half_width(c).is_whitespace())
}

impl ScoreScratch {
    /// Starts on a new line.
    fn prepare(&mut self) {
        self.name_ready = false;
        self.keys_ready = false;
    }

    /// Whether the line carries `reference` (our ref and end-to-end first, the
    /// remittance words only when needed).
    fn carries(&mut self, line: &BankLine, reference: &str) -> bool {
        let whole =
            |field: &Option<String>| field.as_deref().is_some_and(|f| names::reference_eq(reference, f));
        if whole(&line.our_ref) || whole(&line.end_to_end) {
            return true;
        }
        if line.remittance.is_none() {
            return false;
        }
        if !self.keys_ready {
            names::reference_keys(line, &mut self.keys, &mut self.words);
            self.keys_ready = true;
        }
        names::keys_contain(line, &self.keys, reference)
    }

    /// The facts of a pair except the name (`prepare` for each new line).
    fn cheap(&mut self, line: &BankLine, item: &OurItem) -> Facts {
        let day = line.booking_date;
        let (from, to) = (item.date_from.min(item.date_to), item.date_from.max(item.date_to));
        let days = if day < from {
            (from - day).num_days()
        } else if day > to {
            (day - to).num_days()
        } else {
            0
        };
        let days = u32::try_from(days).unwrap_or(u32::MAX);
        let reference = match item.reference.as_deref() {
            Some(r) if has_text(r) => Some(self.carries(line, r)),
            _ => None,
        };
        let suffix = match (line.addressed_account.as_deref(), item.virtual_number.as_deref()) {
            (Some(a), Some(v)) if has_text(a) && has_text(v) => Some(names::reference_eq(a, v)),
            _ => None,
        };
        Facts { days, reference, name: None, suffix }
    }

    /// The name similarity of a pair (`prepare` for each new line); `None` when a
    /// name is missing.
    fn name(&mut self, line: &BankLine, item: &OurItem) -> Option<u8> {
        let (Some(a), Some(b)) = (line.counterparty_name.as_deref(), item.counterparty_name.as_deref())
        else {
            return None;
        };
        if a == b && names::has_word(a) {
            return Some(100);
        }
        if !self.name_ready {
            self.line_name.set(a);
            self.name_ready = true;
        }
        if self.line_name.chars.is_empty() {
            return None;
        }
        self.item_name.set(b);
        if self.item_name.chars.is_empty() {
            return None;
        }
        Some(names::similarity_chars(&self.line_name.chars, &self.item_name.chars, &mut self.row))
    }
}

/// What was found about a pair (or the worst over a group's pairs).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts {
    /// Days between the booking and the item's window.
    pub(crate) days: u32,
    /// `None`: the item has no reference.
    pub(crate) reference: Option<bool>,
    /// `None`: a name is missing.
    pub(crate) name: Option<u8>,
    /// `None`: an account number is missing.
    pub(crate) suffix: Option<bool>,
}

impl Facts {
    /// Folds another pair in, keeping the worst of each.
    pub(crate) fn worst(self, other: Facts) -> Facts {
        let both = |a: Option<bool>, b: Option<bool>| match (a, b) {
            (Some(x), Some(y)) => Some(x && y),
            (x, None) => x,
            (None, y) => y,
        };
        Facts {
            days: self.days.max(other.days),
            reference: both(self.reference, other.reference),
            name: match (self.name, other.name) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, None) => x,
                (None, y) => y,
            },
            suffix: both(self.suffix, other.suffix),
        }
    }
}

/// Points for an amount difference: full when none (or when it is exactly the
/// fee difference), falling linearly to 0 at [`AMOUNT_ZERO_AT_BP`] of `expected`;
/// any difference loses at least one point.
fn amount_points(difference: i64, fee_difference: i64, expected: i64) -> u8 {
    let gross = i128::from(difference) + i128::from(fee_difference);
    let d = i128::from(difference).abs().min(gross.abs());
    if d == 0 {
        return WEIGHT_AMOUNT;
    }
    let e = i128::from(expected).abs();
    if e == 0 {
        return 0;
    }
    // 40 × (1 − (d / e) / 5 %) = 40 − 40 × 10 000 × d / (500 × e), rounded so that
    // any difference loses a point.
    let weight = i128::from(WEIGHT_AMOUNT);
    let numerator = weight * 10_000 * d;
    let denominator = i128::from(AMOUNT_ZERO_AT_BP) * e;
    let lost = (numerator + denominator - 1) / denominator;
    u8::try_from((weight - lost).max(0)).unwrap_or(0)
}

fn parts(difference: i64, fee_difference: i64, expected: i64, facts: Facts) -> [ScorePart; 5] {
    let date =
        u32::from(WEIGHT_DATE).saturating_sub(facts.days.saturating_mul(u32::from(DATE_POINTS_PER_DAY)));
    let (reference_points, reference) = match facts.reference {
        Some(true) => (WEIGHT_REFERENCE, ScoreDetail::ReferenceFound),
        Some(false) => (0, ScoreDetail::ReferenceMissing),
        None => (0, ScoreDetail::ReferenceUnknown),
    };
    let (name_points, name) = match facts.name {
        Some(percent) => (percent.min(100) / 10, ScoreDetail::NameSimilarity { percent }),
        None => (0, ScoreDetail::NameUnknown),
    };
    let (suffix_points, suffix) = match facts.suffix {
        Some(true) => (WEIGHT_SUFFIX, ScoreDetail::SuffixEquals),
        Some(false) => (0, ScoreDetail::SuffixDiffers),
        None => (0, ScoreDetail::SuffixUnknown),
    };
    [
        ScorePart {
            factor: ScoreFactor::Amount,
            points: amount_points(difference, fee_difference, expected),
            detail: ScoreDetail::AmountDifference {
                difference_minor: difference,
                fee_difference_minor: fee_difference,
            },
        },
        ScorePart {
            factor: ScoreFactor::Date,
            points: u8::try_from(date).unwrap_or(0),
            detail: ScoreDetail::DaysApart { days: facts.days },
        },
        ScorePart { factor: ScoreFactor::Reference, points: reference_points, detail: reference },
        ScorePart { factor: ScoreFactor::Name, points: name_points, detail: name },
        ScorePart { factor: ScoreFactor::Suffix, points: suffix_points, detail: suffix },
    ]
}

fn total(parts: &[ScorePart]) -> u8 {
    parts.iter().map(|p| p.points).fold(0u8, u8::saturating_add)
}

/// Scores a group (one-to-one is a group of one and one): amounts summed, every
/// other factor the worst over all pairs.
pub(crate) fn score_group(lines: &[&BankLine], items: &[&OurItem], s: &mut ScoreScratch) -> [ScorePart; 5] {
    let line_sum = lines.iter().fold(0i64, |a, l| a.saturating_add(l.amount_minor));
    let item_sum = items.iter().fold(0i64, |a, i| a.saturating_add(i.amount_minor));
    let line_fees = lines.iter().fold(0i64, |a, l| a.saturating_add(l.fee_minor));
    let item_fees = items.iter().fold(0i64, |a, i| a.saturating_add(i.expected_fee_minor));
    let mut facts: Option<Facts> = None;
    for line in lines {
        s.prepare();
        for item in items {
            let mut pair = s.cheap(line, item);
            pair.name = s.name(line, item);
            facts = Some(facts.map_or(pair, |f| f.worst(pair)));
        }
    }
    parts(
        line_sum.saturating_sub(item_sum),
        line_fees.saturating_sub(item_fees),
        item_sum,
        facts.unwrap_or_default(),
    )
}

/// The score from what the planner found: sums, fees and the (worst) facts.
pub(crate) fn facts_total(difference: i64, fee_difference: i64, expected: i64, facts: Facts) -> u8 {
    total(&parts(difference, fee_difference, expected, facts))
}

/// How well one item fits one line, explained (the side-by-side view).
pub fn explain(line: &BankLine, item: &OurItem) -> Suggestion {
    let parts = score_group(&[line], &[item], &mut ScoreScratch::default());
    Suggestion { item: item.id, score: total(&parts), parts: parts.to_vec() }
}

/// The `limit` items that fit `line` best, best first (ties by item id), each
/// explained; items scoring 0 are left out. Looks at every item once (for manual
/// work on one line), and compares names only where they could change the ranking.
pub fn suggestions(line: &BankLine, items: &[OurItem], limit: usize) -> Vec<Suggestion> {
    if limit == 0 || items.is_empty() {
        return Vec::new();
    }
    let mut s = ScoreScratch::default();
    s.prepare();
    let fee = line.fee_minor;
    let mut cheap: Vec<(u8, usize)> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = parts(
            line.amount_minor.saturating_sub(item.amount_minor),
            fee.saturating_sub(item.expected_fee_minor),
            item.amount_minor,
            s.cheap(line, item),
        );
        cheap.push((total(&p), i));
    }
    cheap.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| items[a.1].id.cmp(&items[b.1].id)));
    // The best `limit` so far; the top of the heap is the worst of them.
    let mut best: BinaryHeap<Reverse<(u8, Reverse<Uuid>, usize)>> = BinaryHeap::with_capacity(limit + 1);
    for (without_name, i) in cheap {
        if best.len() >= limit
            && let Some(Reverse((worst, _, _))) = best.peek()
            && without_name.saturating_add(WEIGHT_NAME) < *worst
        {
            break;
        }
        let name_points = s.name(line, &items[i]).map_or(0, |p| p.min(100) / 10);
        let key = (without_name.saturating_add(name_points), Reverse(items[i].id), i);
        if best.len() < limit {
            best.push(Reverse(key));
        } else if best.peek().is_some_and(|Reverse(worst)| key > *worst) {
            best.pop();
            best.push(Reverse(key));
        }
    }
    let mut chosen: Vec<(u8, Reverse<Uuid>, usize)> = best.into_iter().map(|Reverse(k)| k).collect();
    chosen.sort_unstable_by(|a, b| b.cmp(a));
    chosen
        .into_iter()
        .filter(|(score, _, _)| *score > 0)
        .map(|(_, _, i)| {
            let item = &items[i];
            let mut facts = s.cheap(line, item);
            facts.name = s.name(line, item);
            let p = parts(
                line.amount_minor.saturating_sub(item.amount_minor),
                fee.saturating_sub(item.expected_fee_minor),
                item.amount_minor,
                facts,
            );
            Suggestion { item: item.id, score: total(&p), parts: p.to_vec() }
        })
        .collect()
}
