//! The planner: the rules in order, each over indexes of what is still open.
//!
//! Every rule is decided as a whole, not line by line, so the outcome does not
//! depend on the order of the input: first every open line's candidates are
//! found (through an index), then a line is matched only if its candidate (or
//! fitting group) is unique and no other line reached the same item.
//!
//! For speed, everything the checks read is computed once up front into flat
//! arrays ([`Data`]): per line its day, hashes of its addressed account and name
//! and its candidate references; per item its window, amount and the hashes and
//! normalised texts of its reference, virtual number and name. Candidates are
//! found and filtered on those hashes; a pair is matched only after its texts
//! are compared ([`Data::facts`]), so a hash collision can cost a match (the
//! pair stays open) but never make a wrong one.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::names::{self, NameBuf, RefKey};
use super::score::{self, Facts};
use super::{
    Ambiguity, BankLine, Cardinality, Condition, GROUP_CANDIDATE_LIMIT, GroupKey, MAX_GROUP_LIMIT,
    MAX_WINDOW_DAYS, MatchProposal, MatchStatus, OurItem, Plan, Rule, RuleSet, SCAN_LIMIT, Tolerance,
};

/// A `Hasher` for keys that are single `u64`s (already hashes, or amounts): one
/// mix, no per-process seed, so iteration order depends on the input only.
#[derive(Default)]
struct MixHasher(u64);

impl Hasher for MixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = names::mix64(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = names::mix64(n);
    }
}

type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<MixHasher>>;

/// Whether `difference` is allowed against `expected`, in wide integers (group
/// sums).
fn allows_wide(tolerance: Tolerance, difference: i128, expected: i128) -> bool {
    let difference = difference.abs();
    match tolerance {
        Tolerance::Exact => difference == 0,
        Tolerance::Absolute { minor } => difference <= i128::from(minor.max(0)),
        Tolerance::BasisPoints { bp } => difference * 10_000 <= i128::from(bp) * expected.abs(),
    }
}

/// How a one-to-one rule finds its candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Anchor {
    /// Items by virtual number.
    Suffix,
    /// Items by reference.
    Reference,
    /// Items by amount, equal.
    AmountExact,
    /// Items by amount, within a tolerance.
    AmountRange(Tolerance),
}

/// A rule's conditions gathered for checking.
pub(super) struct Compiled<'r> {
    rule: &'r Rule,
    tolerances: Vec<Tolerance>,
    days: Option<i32>,
    reference: bool,
    name_min: Option<u8>,
    suffix: bool,
}

impl<'r> Compiled<'r> {
    pub(super) fn new(rule: &'r Rule) -> Self {
        let mut c = Compiled {
            rule,
            tolerances: Vec::new(),
            days: None,
            reference: false,
            name_min: None,
            suffix: false,
        };
        for condition in &rule.conditions {
            match *condition {
                Condition::AmountWithin { tolerance } => c.tolerances.push(tolerance),
                Condition::DateWithin { days } => {
                    let days = days.min(MAX_WINDOW_DAYS) as i32;
                    c.days = Some(c.days.map_or(days, |d| d.min(days)));
                }
                Condition::ReferenceEquals => c.reference = true,
                Condition::NameSimilar { min_percent } => {
                    c.name_min = Some(c.name_min.map_or(min_percent, |m| m.max(min_percent)))
                }
                Condition::SuffixRoute => c.suffix = true,
            }
        }
        c
    }

    /// The index a one-to-one rule finds candidates through, `None` when it has
    /// nothing to index by.
    pub(super) fn anchor(&self) -> Option<Anchor> {
        if self.suffix {
            return Some(Anchor::Suffix);
        }
        if self.reference {
            return Some(Anchor::Reference);
        }
        if self.tolerances.contains(&Tolerance::Exact) {
            return Some(Anchor::AmountExact);
        }
        let absolute = self.tolerances.iter().find(|t| matches!(t, Tolerance::Absolute { .. }));
        let narrow_bp =
            self.tolerances.iter().find(|t| matches!(t, Tolerance::BasisPoints { bp } if *bp < 10_000));
        absolute.or(narrow_bp).map(|t| Anchor::AmountRange(*t))
    }

    /// Whether the amounts fit: every amount condition holds; exact when the rule
    /// has none.
    fn amount_fits(&self, difference: i128, expected: i128) -> bool {
        if self.tolerances.is_empty() {
            return difference == 0;
        }
        self.tolerances.iter().all(|t| allows_wide(*t, difference, expected))
    }

    /// Whether the amounts pass the rule's conditions (none: any amount).
    fn amount_condition(&self, difference: i128, expected: i128) -> bool {
        self.tolerances.iter().all(|t| allows_wide(*t, difference, expected))
    }

    /// Whether an indexed item fits a line of `amount` booked on `day`, by the
    /// amount condition and the date window.
    fn entry_fits(&self, amount: i64, day: i32, entry: &Entry) -> bool {
        let difference = i128::from(amount) - i128::from(entry.amount);
        self.entry_dates_fit(day, entry) && self.amount_condition(difference, i128::from(entry.amount))
    }

    /// Whether a line booked on `day` is within an indexed item's window.
    fn entry_dates_fit(&self, day: i32, entry: &Entry) -> bool {
        self.days.is_none_or(|d| day >= entry.from - d && day <= entry.to + d)
    }

    /// The booking days an item's window reaches under this rule.
    fn item_window(&self, from: i32, to: i32) -> Option<(i32, i32)> {
        self.days.map(|d| (from - d, to + d))
    }

    /// The largest |sum| of a same-signed group that could fit `target`.
    fn magnitude_bound(&self, target: i64) -> Option<i128> {
        let t = i128::from(target).abs();
        let exact = [Tolerance::Exact];
        let tolerances = if self.tolerances.is_empty() { &exact[..] } else { &self.tolerances[..] };
        tolerances
            .iter()
            .filter_map(|tolerance| match *tolerance {
                Tolerance::Exact => Some(t),
                Tolerance::Absolute { minor } => Some(t + i128::from(minor.max(0))),
                Tolerance::BasisPoints { bp } if bp < 10_000 => {
                    let room = 10_000 - i128::from(bp);
                    Some((t * 10_000 + room - 1) / room)
                }
                Tolerance::BasisPoints { .. } => None,
            })
            .min()
    }
}

/// Day numbers (days since 1 January of year 1) of dates, with the start of the
/// last year seen remembered: statements and open items mostly share a year.
struct DayCounter {
    year: i32,
    before: i32,
}

impl DayCounter {
    fn new() -> Self {
        DayCounter { year: i32::MIN, before: 0 }
    }

    fn day(&mut self, date: NaiveDate) -> i32 {
        let year = date.year();
        if year != self.year {
            self.year = year;
            self.before = date.num_days_from_ce() - date.ordinal() as i32;
        }
        self.before + date.ordinal() as i32
    }
}

/// What the planner reads of a line, computed once.
#[derive(Debug, Clone, Copy, Default)]
struct LineFacts {
    day: i32,
    /// Hash of the addressed account (0: none).
    addressed: u64,
    /// Hash of the normalised counterparty name (0: none).
    name: u64,
    /// The line's candidate references, `keys_len` of them from `keys_start` in
    /// `Data::line_keys`, sorted by hash.
    keys_start: u32,
    keys_len: u32,
    /// Where the normalised name is in `Data::line_text`.
    name_at: u32,
    name_len: u32,
}

/// What the planner reads of an item, computed once: hashes of its texts and the
/// normalised texts themselves in `Data::text`.
#[derive(Debug, Clone, Copy, Default)]
struct ItemFacts {
    id: Uuid,
    amount: i64,
    fee: i64,
    from: i32,
    to: i32,
    /// Hash of the normalised reference (0: none).
    reference: u64,
    /// Hash of the normalised virtual number (0: none).
    virtual_number: u64,
    /// Hash of the normalised counterparty name (0: none).
    name: u64,
    /// Where the normalised reference, virtual number and name start in
    /// `Data::text`, and where the name ends.
    text: [u32; 4],
}

/// The input, and what the checks read laid out flat: facts per line and item,
/// the lines' candidate references, the items' normalised texts.
struct Data<'a> {
    lines: &'a [BankLine],
    items: &'a [OurItem],
    line: Vec<LineFacts>,
    line_keys: Vec<RefKey>,
    line_text: String,
    item: Vec<ItemFacts>,
    text: String,
}

/// The hash of a normalised name (0: none).
fn name_hash(name: &NameBuf) -> u64 {
    name.hash().unwrap_or(0)
}

impl<'a> Data<'a> {
    fn new(lines: &'a [BankLine], items: &'a [OurItem]) -> Self {
        let mut days = DayCounter::new();
        let mut name = NameBuf::default();
        let (mut keys, mut words) = (Vec::new(), Vec::new());
        let mut line_keys = Vec::with_capacity(lines.len() * 2);
        let mut line = Vec::with_capacity(lines.len());
        let mut line_text = String::with_capacity(lines.len() * 16);
        for l in lines {
            name.set(l.counterparty_name.as_deref().unwrap_or(""));
            let name_at = line_text.len() as u32;
            line_text.extend(name.chars.iter());
            names::reference_keys(l, &mut keys, &mut words);
            keys.sort_unstable_by_key(|k: &RefKey| k.hash);
            line.push(LineFacts {
                day: days.day(l.booking_date),
                addressed: l.addressed_account.as_deref().and_then(names::reference_hash).unwrap_or(0),
                name: name_hash(&name),
                keys_start: line_keys.len() as u32,
                keys_len: keys.len() as u32,
                name_at,
                name_len: line_text.len() as u32 - name_at,
            });
            line_keys.extend_from_slice(&keys);
        }
        let mut text = String::with_capacity(items.len() * 32);
        let mut item = Vec::with_capacity(items.len());
        for i in items {
            let (a, b) = (days.day(i.date_from), days.day(i.date_to));
            let mut bounds = [0u32; 4];
            let mut hashes = [0u64; 2];
            for (k, field) in [&i.reference, &i.virtual_number].into_iter().enumerate() {
                bounds[k] = text.len() as u32;
                hashes[k] = field.as_deref().map_or(0, |f| names::push_reference(f, &mut text));
            }
            bounds[2] = text.len() as u32;
            name.set(i.counterparty_name.as_deref().unwrap_or(""));
            text.extend(name.chars.iter());
            bounds[3] = text.len() as u32;
            item.push(ItemFacts {
                id: i.id,
                amount: i.amount_minor,
                fee: i.expected_fee_minor,
                from: a.min(b),
                to: a.max(b),
                reference: hashes[0],
                virtual_number: hashes[1],
                name: name_hash(&name),
                text: bounds,
            });
        }
        Data { lines, items, line, line_keys, line_text, item, text }
    }

    fn keys_of(&self, li: usize) -> &[RefKey] {
        let f = &self.line[li];
        &self.line_keys[f.keys_start as usize..(f.keys_start + f.keys_len) as usize]
    }

    /// An item's normalised reference (0), virtual number (1) or name (2).
    fn item_text(&self, ii: usize, which: usize) -> &str {
        let t = &self.item[ii].text;
        self.text.get(t[which] as usize..t[which + 1] as usize).unwrap_or("")
    }

    /// The entry of item `ii` for an index.
    fn item_entry(&self, ii: usize) -> Entry {
        let f = &self.item[ii];
        Entry { from: f.from, to: f.to, idx: ii as u32, amount: f.amount }
    }

    /// Whether a pair meets the rule's pair conditions (all but the amount) by
    /// the hashes; names whose hashes differ are compared for similarity. What
    /// hashes say is checked on the texts before a match is made
    /// ([`Self::verify`]).
    fn pair_ok(&self, c: &Compiled<'_>, li: usize, ii: usize, cache: &mut LineCache) -> bool {
        let (lf, itf) = (&self.line[li], &self.item[ii]);
        if let Some(days) = c.days
            && (lf.day < itf.from - days || lf.day > itf.to + days)
        {
            return false;
        }
        if c.suffix && (lf.addressed == 0 || lf.addressed != itf.virtual_number) {
            return false;
        }
        if c.reference && (itf.reference == 0 || !self.keys_of(li).iter().any(|k| k.hash == itf.reference)) {
            return false;
        }
        if let Some(min) = c.name_min {
            if lf.name == 0 || itf.name == 0 {
                return false;
            }
            if lf.name != itf.name {
                self.load_names(li, ii, cache);
                if !names::similar_at_least(&cache.line_name, &cache.item_name, min, &mut cache.row) {
                    return false;
                }
            }
        }
        true
    }

    /// A line's normalised name.
    fn line_name(&self, li: usize) -> &str {
        let f = &self.line[li];
        self.line_text.get(f.name_at as usize..(f.name_at + f.name_len) as usize).unwrap_or("")
    }

    /// Reads a pair's normalised names into the cache as characters.
    fn load_names(&self, li: usize, ii: usize, cache: &mut LineCache) {
        cache.line_name.clear();
        cache.line_name.extend(self.line_name(li).chars());
        cache.item_name.clear();
        cache.item_name.extend(self.item_text(ii, 2).chars());
    }

    /// The similarity of a pair's names, on the texts.
    fn name_similarity(&self, li: usize, ii: usize, cache: &mut LineCache) -> u8 {
        let (a, b) = (self.line_name(li), self.item_text(ii, 2));
        if a == b {
            return if a.is_empty() { 0 } else { 100 };
        }
        self.load_names(li, ii, cache);
        names::similarity_chars(&cache.line_name, &cache.item_name, &mut cache.row)
    }

    /// The exact facts of a pair, on the texts (what the score shows).
    fn facts(&self, li: usize, ii: usize, cache: &mut LineCache) -> Facts {
        let (line, lf, itf) = (&self.lines[li], &self.line[li], &self.item[ii]);
        let days = (itf.from - lf.day).max(lf.day - itf.to).max(0) as u32;
        let reference = (itf.reference != 0).then(|| {
            let wanted = self.item_text(ii, 0);
            self.keys_of(li)
                .iter()
                .any(|k| k.hash == itf.reference && names::matches_normalised(k.text(line), wanted))
        });
        let suffix = (lf.addressed != 0 && itf.virtual_number != 0).then(|| {
            lf.addressed == itf.virtual_number
                && line
                    .addressed_account
                    .as_deref()
                    .is_some_and(|a| names::matches_normalised(a, self.item_text(ii, 1)))
        });
        let name = (lf.name != 0 && itf.name != 0).then(|| self.name_similarity(li, ii, cache));
        Facts { days, reference, name, suffix }
    }

    /// Whether a pair meets the rule's pair conditions on the texts, given its
    /// exact facts.
    fn verify(&self, c: &Compiled<'_>, facts: &Facts) -> bool {
        (!c.suffix || facts.suffix == Some(true))
            && (!c.reference || facts.reference == Some(true))
            && c.name_min.is_none_or(|min| facts.name.is_some_and(|p| p >= min))
    }
}

/// Scratch for comparing names.
#[derive(Default)]
struct LineCache {
    line_name: Vec<char>,
    item_name: Vec<char>,
    row: Vec<u32>,
}

/// The keys a line is found by in a group index (into `out`).
fn line_group_keys(data: &Data<'_>, key: GroupKey, li: usize, out: &mut Vec<u64>) {
    out.clear();
    let f = &data.line[li];
    match key {
        GroupKey::Counterparty => out.push(f.name),
        GroupKey::VirtualNumber => out.push(f.addressed),
        GroupKey::Reference => {
            out.extend(data.keys_of(li).iter().map(|k| k.hash));
            out.dedup();
        }
    }
    out.retain(|&h| h != 0);
}

/// The key an item is grouped by (0: none).
fn item_group_key(data: &Data<'_>, key: GroupKey, ii: usize) -> u64 {
    let f = &data.item[ii];
    match key {
        GroupKey::Counterparty => f.name,
        GroupKey::Reference => f.reference,
        GroupKey::VirtualNumber => f.virtual_number,
    }
}

/// The index key of an amount.
fn amount_key(amount: i64) -> u64 {
    names::mix64(amount as u64).max(1)
}

/// One indexed entry: its window (a line's is its booking day), amount and
/// position in the input, so most checks need not read the line or item itself.
#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    from: i32,
    to: i32,
    idx: u32,
    amount: i64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    start: u32,
    len: u32,
    /// The longest window (`to − from`) in the bucket.
    max_window: i32,
}

/// Entries grouped by a 64-bit key, each group sorted by window start (then id),
/// laid out in one array.
struct KeyIndex {
    entries: Vec<Entry>,
    buckets: KeyMap<Bucket>,
}

impl KeyIndex {
    fn build(keyed: &[(u64, Entry)], id_of: impl Fn(u32) -> Uuid) -> Self {
        let mut buckets: KeyMap<Bucket> = KeyMap::with_capacity_and_hasher(keyed.len(), Default::default());
        for (key, entry) in keyed {
            let bucket = buckets.entry(*key).or_default();
            bucket.len += 1;
            bucket.max_window = bucket.max_window.max(entry.to - entry.from);
        }
        let mut start = 0;
        for bucket in buckets.values_mut() {
            bucket.start = start;
            start += bucket.len;
            bucket.len = 0;
        }
        let mut entries = vec![Entry::default(); keyed.len()];
        for (key, entry) in keyed {
            if let Some(bucket) = buckets.get_mut(key) {
                entries[(bucket.start + bucket.len) as usize] = *entry;
                bucket.len += 1;
            }
        }
        for bucket in buckets.values() {
            if bucket.len > 1 {
                let slice = &mut entries[bucket.start as usize..(bucket.start + bucket.len) as usize];
                slice.sort_unstable_by(|x, y| {
                    x.from.cmp(&y.from).then_with(|| id_of(x.idx).cmp(&id_of(y.idx)))
                });
            }
        }
        KeyIndex { entries, buckets }
    }

    /// The positions of `key`'s entries whose window can reach `[a, z]` (all of
    /// them without a window).
    fn range(&self, key: u64, window: Option<(i32, i32)>) -> Option<(usize, usize)> {
        self.narrow(*self.buckets.get(&key)?, window)
    }

    /// The positions of a bucket's entries whose window can reach `[a, z]`.
    fn narrow(&self, bucket: Bucket, window: Option<(i32, i32)>) -> Option<(usize, usize)> {
        let (start, end) = (bucket.start as usize, (bucket.start + bucket.len) as usize);
        let Some((a, z)) = window else { return Some((start, end)) };
        let slice = &self.entries[start..end];
        let lo = slice.partition_point(|e| e.from < a - bucket.max_window);
        let hi = slice.partition_point(|e| e.from <= z).max(lo);
        (hi > lo).then_some((start + lo, start + hi))
    }
}

/// Items sorted by amount (then id), for amount ranges.
struct AmountIndex {
    entries: Vec<Entry>,
}

impl AmountIndex {
    fn build(data: &Data<'_>, taken: &[bool]) -> Self {
        let mut entries: Vec<Entry> =
            (0..data.items.len()).filter(|&i| !taken[i]).map(|i| data.item_entry(i)).collect();
        entries.sort_unstable_by(|x, y| {
            x.amount
                .cmp(&y.amount)
                .then_with(|| data.item[x.idx as usize].id.cmp(&data.item[y.idx as usize].id))
        });
        AmountIndex { entries }
    }

    fn range(&self, low: i64, high: i64) -> Option<(usize, usize)> {
        let lo = self.entries.partition_point(|e| e.amount < low);
        let hi = self.entries.partition_point(|e| e.amount <= high);
        (hi > lo).then_some((lo, hi))
    }
}

/// The one-to-one indexes over the items still open when a rule first needs
/// them (items taken later are skipped when read).
#[derive(Default)]
struct Indexes {
    suffix: Option<KeyIndex>,
    reference: Option<KeyIndex>,
    amount: Option<KeyIndex>,
    amount_sorted: Option<AmountIndex>,
}

impl Indexes {
    /// Builds the anchor's index over the items still open, unless built.
    fn ensure(&mut self, anchor: Anchor, data: &Data<'_>, taken: &[bool]) {
        let keyed = |key: &dyn Fn(&ItemFacts) -> u64| -> KeyIndex {
            let keyed: Vec<(u64, Entry)> = (0..data.items.len())
                .filter(|&i| !taken[i])
                .filter_map(|i| Some(key(&data.item[i])).filter(|&k| k != 0).map(|k| (k, data.item_entry(i))))
                .collect();
            KeyIndex::build(&keyed, |i| data.item[i as usize].id)
        };
        match anchor {
            Anchor::Suffix if self.suffix.is_none() => self.suffix = Some(keyed(&|f| f.virtual_number)),
            Anchor::Reference if self.reference.is_none() => self.reference = Some(keyed(&|f| f.reference)),
            Anchor::AmountExact if self.amount.is_none() => {
                self.amount = Some(keyed(&|f| amount_key(f.amount)))
            }
            Anchor::AmountRange(_) if self.amount_sorted.is_none() => {
                self.amount_sorted = Some(AmountIndex::build(data, taken))
            }
            _ => {}
        }
    }

    /// The hash index an anchor uses (`None` for amount ranges).
    fn key_index(&self, anchor: Anchor) -> Option<&KeyIndex> {
        match anchor {
            Anchor::Suffix => self.suffix.as_ref(),
            Anchor::Reference => self.reference.as_ref(),
            Anchor::AmountExact => self.amount.as_ref(),
            Anchor::AmountRange(_) => None,
        }
    }

    /// The keys line `li` is looked up by in the anchor's hash index.
    fn keys_for(anchor: Anchor, data: &Data<'_>, li: usize, out: &mut Vec<u64>) {
        match anchor {
            Anchor::Suffix => line_group_keys(data, GroupKey::VirtualNumber, li, out),
            Anchor::Reference => line_group_keys(data, GroupKey::Reference, li, out),
            Anchor::AmountExact => {
                out.clear();
                out.push(amount_key(data.lines[li].amount_minor));
            }
            Anchor::AmountRange(_) => out.clear(),
        }
    }

    /// The positions of the sorted amount index a line reaches under a tolerance.
    fn amount_range(&self, tolerance: Tolerance, amount: i64) -> Option<(usize, usize)> {
        let index = self.amount_sorted.as_ref()?;
        let a = i128::from(amount);
        let slack = match tolerance {
            Tolerance::Exact => 0,
            Tolerance::Absolute { minor } => i128::from(minor.max(0)),
            Tolerance::BasisPoints { bp } => {
                let room = (10_000 - i128::from(bp)).max(1);
                (i128::from(bp) * a.abs() + room - 1) / room
            }
        };
        let clamp = |x: i128| x.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        index.range(clamp(a - slack), clamp(a + slack))
    }

    fn entries(&self, anchor: Anchor) -> &[Entry] {
        match anchor {
            Anchor::AmountRange(_) => self.amount_sorted.as_ref().map_or(&[], |i| &i.entries),
            _ => self.key_index(anchor).map_or(&[], |i| &i.entries),
        }
    }
}

/// Raises to 2 (contested) the count of every entry inside one of `ranges`.
fn contest(entries: &[Entry], ranges: &[(usize, usize)], degree: &mut [u8]) {
    if ranges.is_empty() {
        return;
    }
    let mut cover = vec![0i32; entries.len() + 1];
    for &(s, e) in ranges {
        cover[s] += 1;
        cover[e] -= 1;
    }
    let mut depth = 0;
    for (entry, step) in entries.iter().zip(&cover) {
        depth += step;
        if depth > 0 {
            degree[entry.idx as usize] = 2;
        }
    }
}

/// Every subset (bit mask over `values`) of 2..=`max` members whose sum `fits`,
/// in lexicographic order of members, until `want` are found.
fn fitting_subsets(values: &[i64], max: usize, fits: &dyn Fn(i128) -> bool, want: usize, out: &mut Vec<u16>) {
    #[allow(clippy::too_many_arguments)]
    fn walk(
        values: &[i64],
        max: usize,
        fits: &dyn Fn(i128) -> bool,
        want: usize,
        start: usize,
        mask: u16,
        count: usize,
        sum: i128,
        out: &mut Vec<u16>,
    ) {
        for i in start..values.len() {
            if out.len() >= want {
                return;
            }
            let (mask, count, sum) = (mask | 1 << i, count + 1, sum + i128::from(values[i]));
            if count >= 2 && fits(sum) {
                out.push(mask);
            }
            if count < max {
                walk(values, max, fits, want, i + 1, mask, count, sum, out);
            }
        }
    }
    walk(values, max, fits, want, 0, 0, 0, 0, out);
}

/// Drops members that are too large to be part of a fitting group, when all
/// members have the target's sign (with mixed signs anything may cancel out).
fn drop_too_large(group: &mut Vec<u32>, amount: impl Fn(u32) -> i64, target: i64, bound: Option<i128>) {
    let Some(bound) = bound else { return };
    if target == 0 || group.iter().any(|&m| amount(m).signum() == -target.signum()) {
        return;
    }
    group.retain(|&m| i128::from(amount(m)).abs() <= bound);
}

/// The search for one target's fitting groups among one bucket's members.
struct GroupSearch {
    members: Vec<u32>,
    values: Vec<i64>,
    masks: Vec<u16>,
}

/// The outcome of a grouped search for one target.
#[derive(Default)]
struct GroupOutcome {
    /// The fitting groups found (at most two).
    fits: Vec<Vec<u32>>,
    /// Members seen when the search had to give up (too many), for the ambiguity.
    listed: Vec<u32>,
    /// The search gave up somewhere: the target is ambiguous.
    doubtful: bool,
}

impl GroupSearch {
    /// Searches `members` (sorted here by id) for groups adding up to `target`.
    fn run(
        &mut self,
        outcome: &mut GroupOutcome,
        max_group: usize,
        id_of: &dyn Fn(u32) -> Uuid,
        amount: &dyn Fn(u32) -> i64,
        fits: &dyn Fn(i128) -> bool,
    ) {
        if self.members.len() > GROUP_CANDIDATE_LIMIT {
            outcome.doubtful = true;
            outcome.listed.extend_from_slice(&self.members);
            return;
        }
        if self.members.len() < 2 || outcome.fits.len() >= 2 {
            return;
        }
        self.members.sort_unstable_by_key(|&m| id_of(m));
        self.values.clear();
        self.values.extend(self.members.iter().map(|&m| amount(m)));
        self.masks.clear();
        fitting_subsets(&self.values, max_group, fits, 2 - outcome.fits.len(), &mut self.masks);
        for &mask in &self.masks {
            let group =
                (0..self.members.len()).filter(|b| mask & (1 << b) != 0).map(|b| self.members[b]).collect();
            outcome.fits.push(group);
        }
    }
}

/// What is open, what is tainted by an ambiguity, and what was decided.
struct State {
    line_taken: Vec<bool>,
    item_taken: Vec<bool>,
    line_tainted: Vec<bool>,
    item_tainted: Vec<bool>,
    line_flagged: Vec<bool>,
    open_lines: usize,
    open_items: usize,
    matches: Vec<MatchProposal>,
    ambiguous: Vec<Ambiguity>,
    cache: LineCache,
}

impl State {
    fn new(lines: usize, items: usize) -> Self {
        State {
            line_taken: vec![false; lines],
            item_taken: vec![false; items],
            line_tainted: vec![false; lines],
            item_tainted: vec![false; items],
            line_flagged: vec![false; lines],
            open_lines: lines,
            open_items: items,
            matches: Vec::new(),
            ambiguous: Vec::new(),
            cache: LineCache::default(),
        }
    }

    /// The open lines, in input order.
    fn free_lines(&self) -> Vec<u32> {
        (0..self.line_taken.len() as u32).filter(|&l| !self.line_taken[l as usize]).collect()
    }

    /// Records that `line` could be any of `candidates` under the rule: taints them
    /// all (never confirmed later), and keeps the line's first ambiguity.
    fn ambiguity(&mut self, data: &Data<'_>, rule: &Rule, line: u32, candidates: &mut Vec<u32>) {
        candidates.sort_unstable_by_key(|&i| data.item[i as usize].id);
        candidates.dedup();
        if candidates.is_empty() {
            return;
        }
        self.line_tainted[line as usize] = true;
        for &i in candidates.iter() {
            self.item_tainted[i as usize] = true;
        }
        if !std::mem::replace(&mut self.line_flagged[line as usize], true) {
            self.ambiguous.push(Ambiguity {
                line: data.lines[line as usize].id,
                rule: rule.code.clone(),
                candidates: candidates.iter().map(|&i| data.item[i as usize].id).collect(),
            });
        }
    }

    fn take(&mut self, lines: &[u32], items: &[u32]) {
        for &l in lines {
            self.line_taken[l as usize] = true;
        }
        for &i in items {
            self.item_taken[i as usize] = true;
        }
        self.open_lines -= lines.len();
        self.open_items -= items.len();
    }

    /// Checks a group on the texts and, when it holds, takes its lines and items
    /// out and builds the proposal.
    fn propose_group(
        &mut self,
        data: &Data<'_>,
        c: &Compiled<'_>,
        mut lines: Vec<u32>,
        mut items: Vec<u32>,
    ) -> Option<MatchProposal> {
        let mut facts: Option<Facts> = None;
        for &l in &lines {
            for &i in &items {
                let pair = data.facts(l as usize, i as usize, &mut self.cache);
                if !data.verify(c, &pair) {
                    return None;
                }
                facts = Some(facts.map_or(pair, |f| f.worst(pair)));
            }
        }
        lines.sort_unstable_by_key(|&l| data.lines[l as usize].id);
        items.sort_unstable_by_key(|&i| data.item[i as usize].id);
        let sum = |values: &mut dyn Iterator<Item = i64>| values.fold(0i64, i64::saturating_add);
        let line_sum = sum(&mut lines.iter().map(|&l| data.lines[l as usize].amount_minor));
        let item_sum = sum(&mut items.iter().map(|&i| data.item[i as usize].amount));
        let line_fees = sum(&mut lines.iter().map(|&l| data.lines[l as usize].fee_minor));
        let item_fees = sum(&mut items.iter().map(|&i| data.item[i as usize].fee));
        let score = score::facts_total(
            line_sum.saturating_sub(item_sum),
            line_fees.saturating_sub(item_fees),
            item_sum,
            facts.unwrap_or_default(),
        );
        let wide = |values: &mut dyn Iterator<Item = i64>| values.map(i128::from).sum::<i128>();
        let line_total = wide(&mut lines.iter().map(|&l| data.lines[l as usize].amount_minor));
        let item_total = wide(&mut items.iter().map(|&i| data.item[i as usize].amount));
        let clean = lines.iter().all(|&l| !self.line_tainted[l as usize])
            && items.iter().all(|&i| !self.item_tainted[i as usize]);
        self.take(&lines, &items);
        let line_ids = lines.iter().map(|&l| data.lines[l as usize].id).collect();
        let item_ids = items.iter().map(|&i| data.item[i as usize].id).collect();
        Some(proposal(c, line_ids, item_ids, line_total, item_total, clean, score))
    }

    /// Checks a pair on the texts and, when it holds, takes the line and item out
    /// and builds the proposal.
    fn propose_one(&mut self, data: &Data<'_>, c: &Compiled<'_>, li: u32, ii: u32) -> Option<MatchProposal> {
        let (l, i) = (li as usize, ii as usize);
        let facts = data.facts(l, i, &mut self.cache);
        if !data.verify(c, &facts) {
            return None;
        }
        let (line, item) = (&data.lines[l], &data.item[i]);
        let score = score::facts_total(
            line.amount_minor.saturating_sub(item.amount),
            line.fee_minor.saturating_sub(item.fee),
            item.amount,
            facts,
        );
        let clean = !self.line_tainted[l] && !self.item_tainted[i];
        self.take(&[li], &[ii]);
        let (line_sum, item_sum) = (i128::from(line.amount_minor), i128::from(item.amount));
        Some(proposal(c, vec![line.id], vec![item.id], line_sum, item_sum, clean, score))
    }

    /// Appends a rule's proposals ordered by their first line id.
    fn push_in_order(&mut self, built: Vec<MatchProposal>) {
        if built.is_sorted_by_key(|p| p.lines.first().copied()) {
            self.matches.extend(built);
            return;
        }
        // Ids compare as big-endian numbers: the same order, cheaper comparisons.
        let mut order: Vec<(u128, u32)> = built
            .iter()
            .enumerate()
            .map(|(i, p)| (p.lines.first().map_or(0, |id| id.as_u128()), i as u32))
            .collect();
        order.sort_unstable();
        let mut slots: Vec<Option<MatchProposal>> = built.into_iter().map(Some).collect();
        self.matches.reserve(order.len());
        for (_, i) in order {
            if let Some(p) = slots[i as usize].take() {
                self.matches.push(p);
            }
        }
    }

    /// One line to one item. Lines go in batches, each looked up in stages (keys,
    /// buckets, entries, the items reached) so that the memory reads of a batch
    /// overlap instead of waiting for one another.
    fn one_to_one(&mut self, data: &Data<'_>, indexes: &mut Indexes, c: &Compiled<'_>) {
        let Some(anchor) = c.anchor() else { return };
        indexes.ensure(anchor, data, &self.item_taken);
        let indexes = &*indexes;
        let key_index = indexes.key_index(anchor);
        let entries = indexes.entries(anchor);
        let mut degree = vec![0u8; data.items.len()];
        // (line, start in `candidates`, count, gave up scanning)
        let mut found: Vec<(u32, u32, u32, bool)> = Vec::new();
        let mut candidates: Vec<u32> = Vec::new();
        let mut contested: Vec<(usize, usize)> = Vec::new();
        let mut line_keys = Vec::new();
        let mut keys: Vec<(u32, u64)> = Vec::new();
        let mut buckets: Vec<(u32, Bucket)> = Vec::new();
        let mut spans: Vec<(u32, usize, usize)> = Vec::new();
        let mut cache = LineCache::default();
        for chunk in self.free_lines().chunks(BATCH) {
            keys.clear();
            buckets.clear();
            spans.clear();
            for (j, &li) in chunk.iter().enumerate() {
                if let Anchor::AmountRange(tolerance) = anchor {
                    let amount = data.lines[li as usize].amount_minor;
                    spans.extend(indexes.amount_range(tolerance, amount).map(|(s, e)| (j as u32, s, e)));
                } else {
                    Indexes::keys_for(anchor, data, li as usize, &mut line_keys);
                    keys.extend(line_keys.iter().map(|&k| (j as u32, k)));
                }
            }
            if let Some(index) = key_index {
                buckets.extend(keys.iter().filter_map(|&(j, k)| index.buckets.get(&k).map(|b| (j, *b))));
                for &(j, bucket) in &buckets {
                    let day = data.line[chunk[j as usize] as usize].day;
                    let window = c.days.map(|d| (day - d, day + d));
                    spans.extend(index.narrow(bucket, window).map(|(s, e)| (j, s, e)));
                }
            }
            // Read ahead the facts of the items the batch reaches.
            let mut sink = 0u64;
            for &(_, s, e) in &spans {
                for entry in &entries[s..e.min(s + SCAN_LIMIT)] {
                    sink ^= data.item[entry.idx as usize].reference;
                }
            }
            std::hint::black_box(sink);
            let mut at = 0;
            for (j, &li) in chunk.iter().enumerate() {
                let (li, line) = (li as usize, &data.lines[li as usize]);
                let day = data.line[li].day;
                let start = candidates.len();
                let mut overflow = false;
                let mut reached = false;
                while let Some(&(_, s, e)) = spans.get(at).filter(|span| span.0 == j as u32) {
                    at += 1;
                    reached = true;
                    let e = if e - s > SCAN_LIMIT {
                        overflow = true;
                        contested.push((s, e));
                        s + SCAN_LIMIT
                    } else {
                        e
                    };
                    for entry in &entries[s..e] {
                        let ii = entry.idx as usize;
                        if !self.item_taken[ii]
                            && c.entry_fits(line.amount_minor, day, entry)
                            && data.pair_ok(c, li, ii, &mut cache)
                        {
                            candidates.push(entry.idx);
                        }
                    }
                }
                let count = candidates.len() - start;
                if !reached || (count == 0 && !overflow) {
                    continue;
                }
                for &ii in &candidates[start..] {
                    degree[ii as usize] = degree[ii as usize].saturating_add(1);
                }
                found.push((li as u32, start as u32, count as u32, overflow));
            }
        }
        contest(entries, &contested, &mut degree);
        let mut unique: Vec<(u32, u32)> = Vec::new();
        let mut listed = Vec::new();
        for &(line, start, count, overflow) in &found {
            let these = &candidates[start as usize..(start + count) as usize];
            if !overflow && count == 1 && degree[these[0] as usize] == 1 {
                unique.push((line, these[0]));
            } else {
                listed.clear();
                listed.extend_from_slice(these);
                self.ambiguity(data, c.rule, line, &mut listed);
            }
        }
        let mut built = Vec::with_capacity(unique.len());
        for chunk in unique.chunks(BATCH) {
            warm_pairs(data, chunk);
            for &(line, item) in chunk {
                built.extend(self.propose_one(data, c, line, item));
            }
        }
        self.push_in_order(built);
    }

    /// One line to several items of one group.
    fn one_to_many(&mut self, data: &Data<'_>, c: &Compiled<'_>, key: GroupKey, max_group: usize) {
        let keyed: Vec<(u64, Entry)> = (0..data.items.len())
            .filter(|&i| !self.item_taken[i])
            .filter_map(|i| {
                Some(item_group_key(data, key, i)).filter(|&k| k != 0).map(|k| (k, data.item_entry(i)))
            })
            .collect();
        if keyed.is_empty() {
            return;
        }
        let index = KeyIndex::build(&keyed, |i| data.item[i as usize].id);
        let item_id = |i: u32| data.item[i as usize].id;
        let item_amount = |i: u32| data.item[i as usize].amount;
        let mut degree = vec![0u8; data.items.len()];
        let mut tentative: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut unsure: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut contested = Vec::new();
        let mut cache = LineCache::default();
        let mut search = GroupSearch { members: Vec::new(), values: Vec::new(), masks: Vec::new() };
        let mut hashes = Vec::new();
        for li in self.free_lines() {
            let li = li as usize;
            line_group_keys(data, key, li, &mut hashes);
            if hashes.is_empty() {
                continue;
            }
            let amount = data.lines[li].amount_minor;
            let day = data.line[li].day;
            let window = c.days.map(|d| (day - d, day + d));
            let bound = c.magnitude_bound(amount);
            let target = i128::from(amount);
            let fits = |sum: i128| c.amount_fits(target - sum, sum);
            let mut outcome = GroupOutcome::default();
            for &h in &hashes {
                let Some((s, e)) = index.range(h, window) else { continue };
                let over = e - s > SCAN_LIMIT;
                if over {
                    contested.push((s, e));
                    outcome.doubtful = true;
                }
                search.members.clear();
                for entry in &index.entries[s..e.min(s + SCAN_LIMIT)] {
                    let ii = entry.idx as usize;
                    if !self.item_taken[ii] && data.pair_ok(c, li, ii, &mut cache) {
                        search.members.push(entry.idx);
                    }
                }
                if over {
                    outcome.listed.extend_from_slice(&search.members);
                    continue;
                }
                drop_too_large(&mut search.members, item_amount, amount, bound);
                search.run(&mut outcome, max_group, &item_id, &item_amount, &fits);
            }
            settle(li as u32, outcome, &mut degree, &mut tentative, &mut unsure);
        }
        contest(&index.entries, &contested, &mut degree);
        for (line, mut candidates) in unsure {
            self.ambiguity(data, c.rule, line, &mut candidates);
        }
        let mut built = Vec::new();
        for (line, mut group) in tentative {
            if group.iter().all(|&i| degree[i as usize] == 1) {
                built.extend(self.propose_group(data, c, vec![line], group));
            } else {
                self.ambiguity(data, c.rule, line, &mut group);
            }
        }
        self.push_in_order(built);
    }

    /// Several lines of one group to one item.
    fn many_to_one(&mut self, data: &Data<'_>, c: &Compiled<'_>, key: GroupKey, max_group: usize) {
        let mut hashes = Vec::new();
        let mut keyed: Vec<(u64, Entry)> = Vec::new();
        for li in self.free_lines() {
            line_group_keys(data, key, li as usize, &mut hashes);
            let day = data.line[li as usize].day;
            let entry = Entry { from: day, to: day, idx: li, amount: data.lines[li as usize].amount_minor };
            keyed.extend(hashes.iter().map(|&h| (h, entry)));
        }
        if keyed.is_empty() {
            return;
        }
        let index = KeyIndex::build(&keyed, |l| data.lines[l as usize].id);
        let line_id = |l: u32| data.lines[l as usize].id;
        let line_amount = |l: u32| data.lines[l as usize].amount_minor;
        let mut degree = vec![0u8; data.lines.len()];
        let mut tentative: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut unsure: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut contested = Vec::new();
        let mut cache = LineCache::default();
        let mut search = GroupSearch { members: Vec::new(), values: Vec::new(), masks: Vec::new() };
        for ii in 0..data.items.len() {
            if self.item_taken[ii] {
                continue;
            }
            let h = item_group_key(data, key, ii);
            if h == 0 {
                continue;
            }
            let item = &data.item[ii];
            let window = c.item_window(item.from, item.to);
            let Some((s, e)) = index.range(h, window) else { continue };
            let target = i128::from(item.amount);
            let fits = |sum: i128| c.amount_fits(sum - target, target);
            let mut outcome = GroupOutcome::default();
            let over = e - s > SCAN_LIMIT;
            if over {
                contested.push((s, e));
                outcome.doubtful = true;
            }
            search.members.clear();
            for entry in &index.entries[s..e.min(s + SCAN_LIMIT)] {
                let li = entry.idx as usize;
                if !self.line_taken[li] && data.pair_ok(c, li, ii, &mut cache) {
                    search.members.push(entry.idx);
                }
            }
            if over {
                outcome.listed.extend_from_slice(&search.members);
            } else {
                let bound = c.magnitude_bound(item.amount);
                drop_too_large(&mut search.members, line_amount, item.amount, bound);
                search.run(&mut outcome, max_group, &line_id, &line_amount, &fits);
            }
            settle(ii as u32, outcome, &mut degree, &mut tentative, &mut unsure);
        }
        contest(&index.entries, &contested, &mut degree);
        // Ambiguities are per line: gather each line's items.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        for (item, lines) in &unsure {
            pairs.extend(lines.iter().map(|&l| (l, *item)));
        }
        let mut built = Vec::new();
        for (item, group) in tentative {
            if group.iter().all(|&l| degree[l as usize] == 1) {
                built.extend(self.propose_group(data, c, group, vec![item]));
            } else {
                pairs.extend(group.iter().map(|&l| (l, item)));
            }
        }
        pairs.sort_unstable_by_key(|&(l, i)| (line_id(l), data.item[i as usize].id));
        let mut at = 0;
        while at < pairs.len() {
            let line = pairs[at].0;
            let end = at + pairs[at..].iter().take_while(|p| p.0 == line).count();
            let mut items: Vec<u32> = pairs[at..end].iter().map(|p| p.1).collect();
            self.ambiguity(data, c.rule, line, &mut items);
            at = end;
        }
        self.push_in_order(built);
    }

    fn finish(mut self, data: &Data<'_>) -> Plan {
        // Ids compare as big-endian numbers: the same order, cheaper comparisons.
        self.ambiguous.sort_by_key(|a| a.line.as_u128());
        let mut unmatched_lines: Vec<Uuid> =
            data.lines.iter().zip(&self.line_taken).filter(|(_, t)| !**t).map(|(l, _)| l.id).collect();
        unmatched_lines.sort_unstable_by_key(|id| id.as_u128());
        let mut unmatched_items: Vec<Uuid> =
            data.item.iter().zip(&self.item_taken).filter(|(_, t)| !**t).map(|(i, _)| i.id).collect();
        unmatched_items.sort_unstable_by_key(|id| id.as_u128());
        Plan { matches: self.matches, ambiguous: self.ambiguous, unmatched_lines, unmatched_items }
    }
}

/// Lines or pairs handled together in the batched stages.
const BATCH: usize = 128;

/// Reads ahead what checking and scoring a batch of pairs reads: the items'
/// facts and their normalised texts.
fn warm_pairs(data: &Data<'_>, pairs: &[(u32, u32)]) {
    let mut sink = 0u64;
    for &(_, ii) in pairs {
        sink ^= u64::from(data.item[ii as usize].text[0]);
    }
    let bytes = data.text.as_bytes();
    for &(_, ii) in pairs {
        let t = data.item[ii as usize].text;
        for at in [t[0], t[1], t[2]] {
            sink ^= u64::from(bytes.get(at as usize).copied().unwrap_or(0));
        }
    }
    std::hint::black_box(sink);
}

/// A proposal from its parts: confirmed only when the rule confirms, nothing in
/// it was ambiguous before, and the amounts fit (exactly, without an amount
/// condition).
fn proposal(
    c: &Compiled<'_>,
    lines: Vec<Uuid>,
    items: Vec<Uuid>,
    line_sum: i128,
    item_sum: i128,
    clean: bool,
    score: u8,
) -> MatchProposal {
    let difference = line_sum - item_sum;
    let status = if c.rule.confirm && clean && c.amount_fits(difference, item_sum) {
        MatchStatus::Confirmed
    } else {
        MatchStatus::Suggested
    };
    MatchProposal {
        rule: c.rule.code.clone(),
        lines,
        items,
        difference_minor: difference.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        score,
        status,
    }
}

/// Files a grouped search's outcome for one target: a unique group is tentative,
/// anything else ambiguous; every member seen counts towards its degree.
fn settle(
    target: u32,
    outcome: GroupOutcome,
    degree: &mut [u8],
    tentative: &mut Vec<(u32, Vec<u32>)>,
    unsure: &mut Vec<(u32, Vec<u32>)>,
) {
    let GroupOutcome { mut fits, mut listed, doubtful } = outcome;
    if doubtful || fits.len() >= 2 {
        for group in fits {
            listed.extend(group);
        }
        listed.sort_unstable();
        listed.dedup();
        for &m in &listed {
            degree[m as usize] = degree[m as usize].saturating_add(1);
        }
        if !listed.is_empty() {
            unsure.push((target, listed));
        }
    } else if let Some(group) = fits.pop() {
        for &m in &group {
            degree[m as usize] = degree[m as usize].saturating_add(1);
        }
        tentative.push((target, group));
    }
}

/// Proposes matches of `lines` to `items` under `rules`, in order.
///
/// Deterministic: the same lines and items give the same plan in whatever order
/// they come (every output list is sorted by id; each rule decides on the whole
/// set, never greedily). Nothing ambiguous is matched: see the module docs. A rule
/// with [`Rule::problems`] is skipped.
///
/// Cost: one pass over lines and items reads their texts once (normalised names
/// and references, hashed). One-to-one rules then look candidates up in hash
/// indexes over the open items (by virtual number, by reference, by amount; an
/// amount tolerance uses a sorted array) narrowed by the date window, a batch of
/// lines at a time, so each line costs a few lookups; at most [`SCAN_LIMIT`]
/// entries are examined per line and key. Grouped rules index what is still open
/// by the group key and search at most [`GROUP_CANDIDATE_LIMIT`] members per
/// target for groups of up to `max_group` (≤ [`MAX_GROUP_LIMIT`]). Memory is a
/// few dozen bytes per line and item plus their normalised texts. Never line ×
/// item; single-threaded (it runs in the browser too). Lines and items are
/// counted in `u32`.
pub fn plan(rules: &RuleSet, lines: &[BankLine], items: &[OurItem]) -> Plan {
    let data = Data::new(lines, items);
    let mut state = State::new(lines.len(), items.len());
    let mut indexes = Indexes::default();
    for rule in &rules.rules {
        if state.open_lines == 0 || state.open_items == 0 {
            break;
        }
        if !rule.problems().is_empty() {
            continue;
        }
        let c = Compiled::new(rule);
        let max_group = usize::from(rule.max_group.min(MAX_GROUP_LIMIT));
        match (rule.cardinality, rule.group_by) {
            (Cardinality::OneToOne, _) => state.one_to_one(&data, &mut indexes, &c),
            (Cardinality::OneToMany, Some(key)) => state.one_to_many(&data, &c, key, max_group),
            (Cardinality::ManyToOne, Some(key)) => state.many_to_one(&data, &c, key, max_group),
            _ => {}
        }
    }
    state.finish(&data)
}
