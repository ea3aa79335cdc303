//! The planner: the rules in order, each over indexes of what is still open.
//!
//! Every rule is decided as a whole, not line by line, so the outcome does not
//! depend on the order of the input: first every open line's candidates are
//! found (through an index), then a line is matched only if its candidate (or
//! fitting group) is unique and no other line reached the same item.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::{Datelike, NaiveDate};
use uuid::Uuid;

use super::names::{self, NameBuf, RefKey};
use super::score::{self, ScoreScratch};
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

fn day_number(date: NaiveDate) -> i32 {
    date.num_days_from_ce()
}

/// A 64-bit hash where 0 means "none" (a real 0 is moved to 1).
fn some_hash(hash: Option<u64>) -> u64 {
    hash.map_or(0, |h| h.max(1))
}

/// The input with what the checks read often laid out flat.
struct Data<'a> {
    lines: &'a [BankLine],
    items: &'a [OurItem],
    line_day: Vec<i32>,
    item_from: Vec<i32>,
    item_to: Vec<i32>,
}

impl<'a> Data<'a> {
    fn new(lines: &'a [BankLine], items: &'a [OurItem]) -> Self {
        let line_day = lines.iter().map(|l| day_number(l.booking_date)).collect();
        let (mut item_from, mut item_to) = (Vec::with_capacity(items.len()), Vec::with_capacity(items.len()));
        for item in items {
            let (a, b) = (day_number(item.date_from), day_number(item.date_to));
            item_from.push(a.min(b));
            item_to.push(a.max(b));
        }
        Data { lines, items, line_day, item_from, item_to }
    }

    /// The entry of item `ii` for an index.
    fn item_entry(&self, ii: usize) -> Entry {
        Entry {
            from: self.item_from[ii],
            to: self.item_to[ii],
            idx: ii as u32,
            amount: self.items[ii].amount_minor,
        }
    }

    /// Whether a pair meets the rule's pair conditions (all but the amount).
    fn pair_ok(
        &self,
        c: &Compiled<'_>,
        li: usize,
        ii: usize,
        cache: &mut LineCache,
        key: Option<u64>,
    ) -> bool {
        if let Some(days) = c.days {
            let day = self.line_day[li];
            if day < self.item_from[ii] - days || day > self.item_to[ii] + days {
                return false;
            }
        }
        self.pair_rest(c, li, ii, cache, key)
    }

    /// The pair conditions on text: virtual number, reference, name. `key` is the
    /// reference hash the pair was found by, when it was (only line references
    /// with that hash are then compared).
    fn pair_rest(
        &self,
        c: &Compiled<'_>,
        li: usize,
        ii: usize,
        cache: &mut LineCache,
        key: Option<u64>,
    ) -> bool {
        let (line, item) = (&self.lines[li], &self.items[ii]);
        if c.suffix {
            match (line.addressed_account.as_deref(), item.virtual_number.as_deref()) {
                (Some(a), Some(v)) if names::reference_eq(a, v) => {}
                _ => return false,
            }
        }
        if c.reference {
            let Some(reference) = item.reference.as_deref() else { return false };
            let found = cache.keys(line).iter().any(|k| {
                key.is_none_or(|h| k.hash.max(1) == h) && names::reference_eq(reference, k.text(line))
            });
            if !found {
                return false;
            }
        }
        if let Some(min) = c.name_min {
            let Some(name) = item.counterparty_name.as_deref() else { return false };
            cache.ensure_name(line);
            cache.item_name.set(name);
            if !names::similar_at_least(&cache.name.chars, &cache.item_name.chars, min, &mut cache.row) {
                return false;
            }
        }
        true
    }
}

/// What is read from the line being looked at, once, and scratch buffers.
#[derive(Default)]
struct LineCache {
    /// The line's addressed account hash, once read (`None`: not yet).
    addressed: Option<u64>,
    name_ready: bool,
    name: NameBuf,
    keys_ready: bool,
    keys: Vec<RefKey>,
    words: Vec<(u32, u32, u32)>,
    hashes: Vec<u64>,
    item_name: NameBuf,
    row: Vec<u32>,
}

impl LineCache {
    fn reset(&mut self) {
        self.addressed = None;
        self.name_ready = false;
        self.keys_ready = false;
    }

    fn addressed(&mut self, line: &BankLine) -> u64 {
        *self.addressed.get_or_insert_with(|| {
            some_hash(line.addressed_account.as_deref().and_then(names::reference_hash))
        })
    }

    fn keys(&mut self, line: &BankLine) -> &[RefKey] {
        if !self.keys_ready {
            names::reference_keys(line, &mut self.keys, &mut self.words);
            self.keys_ready = true;
        }
        &self.keys
    }

    fn ensure_name(&mut self, line: &BankLine) {
        if !self.name_ready {
            self.name.set(line.counterparty_name.as_deref().unwrap_or(""));
            self.name_ready = true;
        }
    }

    /// The keys a line is found by in a group index (into `self.hashes`).
    fn group_keys(&mut self, key: GroupKey, line: &BankLine) {
        self.hashes.clear();
        match key {
            GroupKey::Counterparty => {
                self.ensure_name(line);
                self.hashes.extend(self.name.hash().map(|h| h.max(1)));
            }
            GroupKey::Reference => {
                self.keys(line);
                self.hashes.extend(self.keys.iter().map(|k| k.hash.max(1)));
                self.hashes.sort_unstable();
                self.hashes.dedup();
            }
            GroupKey::VirtualNumber => {
                let h = self.addressed(line);
                if h != 0 {
                    self.hashes.push(h);
                }
            }
        }
    }
}

/// The key an item is grouped by (never 0).
fn item_group_key(key: GroupKey, item: &OurItem, name: &mut NameBuf) -> Option<u64> {
    let hash = match key {
        GroupKey::Counterparty => {
            name.set(item.counterparty_name.as_deref()?);
            name.hash()
        }
        GroupKey::Reference => names::reference_hash(item.reference.as_deref()?),
        GroupKey::VirtualNumber => names::reference_hash(item.virtual_number.as_deref()?),
    };
    hash.map(|h| h.max(1))
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
                .then_with(|| data.items[x.idx as usize].id.cmp(&data.items[y.idx as usize].id))
        });
        AmountIndex { entries }
    }

    fn range(&self, low: i64, high: i64) -> Option<(usize, usize)> {
        let lo = self.entries.partition_point(|e| e.amount < low);
        let hi = self.entries.partition_point(|e| e.amount <= high);
        (hi > lo).then_some((lo, hi))
    }
}

/// The one-to-one indexes over all items, built when a rule first needs them.
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
        let keyed = |key: &dyn Fn(&OurItem) -> Option<u64>| -> Vec<(u64, Entry)> {
            (0..data.items.len())
                .filter(|&i| !taken[i])
                .filter_map(|i| key(&data.items[i]).map(|k| (k.max(1), data.item_entry(i))))
                .collect()
        };
        let id_of = |i: u32| data.items[i as usize].id;
        match anchor {
            Anchor::Suffix if self.suffix.is_none() => {
                let keyed = keyed(&|item| item.virtual_number.as_deref().and_then(names::reference_hash));
                self.suffix = Some(KeyIndex::build(&keyed, id_of));
            }
            Anchor::Reference if self.reference.is_none() => {
                let keyed = keyed(&|item| item.reference.as_deref().and_then(names::reference_hash));
                self.reference = Some(KeyIndex::build(&keyed, id_of));
            }
            Anchor::AmountExact if self.amount.is_none() => {
                let keyed = keyed(&|item| Some(item.amount_minor as u64));
                self.amount = Some(KeyIndex::build(&keyed, id_of));
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

    /// The keys a line is looked up by in the anchor's hash index (into
    /// `cache.hashes`).
    fn keys_for(anchor: Anchor, line: &BankLine, cache: &mut LineCache) {
        match anchor {
            Anchor::Suffix => {
                cache.hashes.clear();
                let key = cache.addressed(line);
                if key != 0 {
                    cache.hashes.push(key);
                }
            }
            Anchor::Reference => cache.group_keys(GroupKey::Reference, line),
            Anchor::AmountExact => {
                cache.hashes.clear();
                cache.hashes.push(line.amount_minor as u64);
            }
            Anchor::AmountRange(_) => cache.hashes.clear(),
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
        let index = match anchor {
            Anchor::Suffix => self.suffix.as_ref(),
            Anchor::Reference => self.reference.as_ref(),
            Anchor::AmountExact => self.amount.as_ref(),
            Anchor::AmountRange(_) => return self.amount_sorted.as_ref().map_or(&[], |i| &i.entries),
        };
        index.map_or(&[], |i| &i.entries)
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
    matches: Vec<MatchProposal>,
    ambiguous: Vec<Ambiguity>,
    score: ScoreScratch,
}

impl State {
    fn new(lines: usize, items: usize) -> Self {
        State {
            line_taken: vec![false; lines],
            item_taken: vec![false; items],
            line_tainted: vec![false; lines],
            item_tainted: vec![false; items],
            line_flagged: vec![false; lines],
            matches: Vec::new(),
            ambiguous: Vec::new(),
            score: ScoreScratch::default(),
        }
    }

    /// Records that `line` could be any of `candidates` under the rule: taints them
    /// all (never confirmed later), and keeps the line's first ambiguity.
    fn ambiguity(&mut self, data: &Data<'_>, rule: &Rule, line: u32, candidates: &mut Vec<u32>) {
        candidates.sort_unstable_by_key(|&i| data.items[i as usize].id);
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
                candidates: candidates.iter().map(|&i| data.items[i as usize].id).collect(),
            });
        }
    }

    /// Takes the lines and items out and builds the proposal for a group.
    fn propose(
        &mut self,
        data: &Data<'_>,
        c: &Compiled<'_>,
        mut lines: Vec<u32>,
        mut items: Vec<u32>,
    ) -> MatchProposal {
        lines.sort_unstable_by_key(|&l| data.lines[l as usize].id);
        items.sort_unstable_by_key(|&i| data.items[i as usize].id);
        let line_refs: Vec<&BankLine> = lines.iter().map(|&l| &data.lines[l as usize]).collect();
        let item_refs: Vec<&OurItem> = items.iter().map(|&i| &data.items[i as usize]).collect();
        let line_sum: i128 = line_refs.iter().map(|l| i128::from(l.amount_minor)).sum();
        let item_sum: i128 = item_refs.iter().map(|i| i128::from(i.amount_minor)).sum();
        let clean = lines.iter().all(|&l| !self.line_tainted[l as usize])
            && items.iter().all(|&i| !self.item_tainted[i as usize]);
        let score = score::group_total(&line_refs, &item_refs, &mut self.score);
        for &l in &lines {
            self.line_taken[l as usize] = true;
        }
        for &i in &items {
            self.item_taken[i as usize] = true;
        }
        let lines = line_refs.iter().map(|l| l.id).collect();
        let items = item_refs.iter().map(|i| i.id).collect();
        proposal(c, lines, items, line_sum, item_sum, clean, score)
    }

    /// Takes a line and an item out and builds the proposal.
    fn propose_one(&mut self, data: &Data<'_>, c: &Compiled<'_>, li: u32, ii: u32) -> MatchProposal {
        let (li, ii) = (li as usize, ii as usize);
        let (line, item) = (&data.lines[li], &data.items[ii]);
        let clean = !self.line_tainted[li] && !self.item_tainted[ii];
        let day = data.line_day[li];
        let days = (data.item_from[ii] - day).max(day - data.item_to[ii]).max(0);
        let score = score::pair_total(line, item, days as u32, &mut self.score);
        self.line_taken[li] = true;
        self.item_taken[ii] = true;
        let (line_sum, item_sum) = (i128::from(line.amount_minor), i128::from(item.amount_minor));
        proposal(c, vec![line.id], vec![item.id], line_sum, item_sum, clean, score)
    }

    /// Appends a rule's proposals ordered by their first line id.
    fn push_in_order(&mut self, built: Vec<MatchProposal>) {
        let mut order: Vec<(Uuid, u32)> = built
            .iter()
            .enumerate()
            .map(|(i, p)| (p.lines.first().copied().unwrap_or_default(), i as u32))
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

    /// One line to one item. Lines go in batches, each looked up in stages
    /// (keys, buckets, entries, the items reached) so that the memory reads of a
    /// batch overlap instead of waiting for one another.
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
        let free: Vec<u32> = (0..data.lines.len() as u32).filter(|&l| !self.line_taken[l as usize]).collect();
        let mut caches: Vec<LineCache> = (0..BATCH).map(|_| LineCache::default()).collect();
        let mut keys: Vec<(u32, u64)> = Vec::new();
        let mut buckets: Vec<(u32, u64, Bucket)> = Vec::new();
        // (line in batch, start, end, reference key the span was found by)
        let mut spans: Vec<(u32, usize, usize, Option<u64>)> = Vec::new();
        let reference_keyed = anchor == Anchor::Reference;
        let mut reached = Vec::new();
        for chunk in free.chunks(BATCH) {
            keys.clear();
            buckets.clear();
            spans.clear();
            for (j, (&li, cache)) in chunk.iter().zip(caches.iter_mut()).enumerate() {
                let line = &data.lines[li as usize];
                cache.reset();
                if let Anchor::AmountRange(tolerance) = anchor {
                    spans.extend(
                        indexes
                            .amount_range(tolerance, line.amount_minor)
                            .map(|(s, e)| (j as u32, s, e, None)),
                    );
                } else {
                    Indexes::keys_for(anchor, line, cache);
                    keys.extend(cache.hashes.iter().map(|&k| (j as u32, k)));
                }
            }
            if let Some(index) = key_index {
                buckets.extend(keys.iter().filter_map(|&(j, k)| index.buckets.get(&k).map(|b| (j, k, *b))));
                for &(j, k, bucket) in &buckets {
                    let day = data.line_day[chunk[j as usize] as usize];
                    let window = c.days.map(|d| (day - d, day + d));
                    let key = reference_keyed.then_some(k);
                    spans.extend(index.narrow(bucket, window).map(|(s, e)| (j, s, e, key)));
                }
            }
            self.warm(data, c, entries, chunk, &spans, &mut reached);
            let mut at = 0;
            for (j, (&li, cache)) in chunk.iter().zip(caches.iter_mut()).enumerate() {
                let (li, line) = (li as usize, &data.lines[li as usize]);
                let day = data.line_day[li];
                let start = candidates.len();
                let mut overflow = false;
                let mut reached = false;
                while let Some(&(_, s, e, key)) = spans.get(at).filter(|span| span.0 == j as u32) {
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
                            && data.pair_rest(c, li, ii, cache, key)
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
                built.push(self.propose_one(data, c, line, item));
            }
        }
        self.push_in_order(built);
    }

    /// Reads ahead what the candidate checks of a batch will read: the items the
    /// batch reaches (those that pass the checks on the index entry alone) and
    /// the texts the rule compares. Reading them in a tight loop lets the reads
    /// overlap; the checks then find them in cache.
    fn warm(
        &self,
        data: &Data<'_>,
        c: &Compiled<'_>,
        entries: &[Entry],
        chunk: &[u32],
        spans: &[(u32, usize, usize, Option<u64>)],
        reached: &mut Vec<u32>,
    ) {
        if !(c.suffix || c.reference || c.name_min.is_some()) {
            return;
        }
        reached.clear();
        for &(j, s, e, _) in spans {
            let li = chunk[j as usize] as usize;
            let (amount, day) = (data.lines[li].amount_minor, data.line_day[li]);
            for entry in &entries[s..e.min(s + SCAN_LIMIT)] {
                if !self.item_taken[entry.idx as usize] && c.entry_fits(amount, day, entry) {
                    reached.push(entry.idx);
                }
            }
        }
        let mut sink = 0usize;
        for &ii in reached.iter() {
            let item = &data.items[ii as usize];
            sink = sink.wrapping_add(item.amount_minor as usize);
        }
        for &ii in reached.iter() {
            let item = &data.items[ii as usize];
            let mut touch = |text: &Option<String>| sink = sink.wrapping_add(first_byte(text));
            if c.suffix {
                touch(&item.virtual_number);
            }
            if c.reference {
                touch(&item.reference);
            }
            if c.name_min.is_some() {
                touch(&item.counterparty_name);
            }
        }
        std::hint::black_box(sink);
    }

    /// One line to several items of one group.
    fn one_to_many(&mut self, data: &Data<'_>, c: &Compiled<'_>, key: GroupKey, max_group: usize) {
        let mut name = NameBuf::default();
        let keyed: Vec<(u64, Entry)> = (0..data.items.len())
            .filter(|&i| !self.item_taken[i])
            .filter_map(|i| item_group_key(key, &data.items[i], &mut name).map(|k| (k, data.item_entry(i))))
            .collect();
        if keyed.is_empty() {
            return;
        }
        let index = KeyIndex::build(&keyed, |i| data.items[i as usize].id);
        let reference_key = key == GroupKey::Reference;
        let item_id = |i: u32| data.items[i as usize].id;
        let item_amount = |i: u32| data.items[i as usize].amount_minor;
        let mut degree = vec![0u8; data.items.len()];
        let mut tentative: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut unsure: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut contested = Vec::new();
        let mut cache = LineCache::default();
        let mut search = GroupSearch { members: Vec::new(), values: Vec::new(), masks: Vec::new() };
        let mut hashes = Vec::new();
        for (li, line) in data.lines.iter().enumerate() {
            if self.line_taken[li] {
                continue;
            }
            cache.reset();
            cache.group_keys(key, line);
            if cache.hashes.is_empty() {
                continue;
            }
            hashes.clear();
            hashes.extend_from_slice(&cache.hashes);
            let day = data.line_day[li];
            let window = c.days.map(|d| (day - d, day + d));
            let bound = c.magnitude_bound(line.amount_minor);
            let target = i128::from(line.amount_minor);
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
                    if !self.item_taken[ii]
                        && c.entry_dates_fit(day, entry)
                        && data.pair_rest(c, li, ii, &mut cache, reference_key.then_some(h))
                    {
                        search.members.push(entry.idx);
                    }
                }
                if over {
                    outcome.listed.extend_from_slice(&search.members);
                    continue;
                }
                drop_too_large(&mut search.members, item_amount, line.amount_minor, bound);
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
                built.push(self.propose(data, c, vec![line], group));
            } else {
                self.ambiguity(data, c.rule, line, &mut group);
            }
        }
        self.push_in_order(built);
    }

    /// Several lines of one group to one item.
    fn many_to_one(&mut self, data: &Data<'_>, c: &Compiled<'_>, key: GroupKey, max_group: usize) {
        let mut cache = LineCache::default();
        let mut keyed: Vec<(u64, Entry)> = Vec::new();
        for (li, line) in data.lines.iter().enumerate() {
            if self.line_taken[li] {
                continue;
            }
            cache.reset();
            cache.group_keys(key, line);
            let day = data.line_day[li];
            let entry = Entry { from: day, to: day, idx: li as u32, amount: line.amount_minor };
            keyed.extend(cache.hashes.iter().map(|&h| (h, entry)));
        }
        if keyed.is_empty() {
            return;
        }
        let index = KeyIndex::build(&keyed, |l| data.lines[l as usize].id);
        let reference_key = key == GroupKey::Reference;
        let line_id = |l: u32| data.lines[l as usize].id;
        let line_amount = |l: u32| data.lines[l as usize].amount_minor;
        let mut degree = vec![0u8; data.lines.len()];
        let mut tentative: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut unsure: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut contested = Vec::new();
        let mut name = NameBuf::default();
        let mut search = GroupSearch { members: Vec::new(), values: Vec::new(), masks: Vec::new() };
        for (ii, item) in data.items.iter().enumerate() {
            if self.item_taken[ii] {
                continue;
            }
            let Some(h) = item_group_key(key, item, &mut name) else { continue };
            let window = c.item_window(data.item_from[ii], data.item_to[ii]);
            let Some((s, e)) = index.range(h, window) else { continue };
            let target = i128::from(item.amount_minor);
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
                cache.reset();
                if !self.line_taken[li] && data.pair_ok(c, li, ii, &mut cache, reference_key.then_some(h)) {
                    search.members.push(entry.idx);
                }
            }
            if over {
                outcome.listed.extend_from_slice(&search.members);
            } else {
                let bound = c.magnitude_bound(item.amount_minor);
                drop_too_large(&mut search.members, line_amount, item.amount_minor, bound);
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
                built.push(self.propose(data, c, group, vec![item]));
            } else {
                pairs.extend(group.iter().map(|&l| (l, item)));
            }
        }
        pairs.sort_unstable_by_key(|&(l, i)| (line_id(l), data.items[i as usize].id));
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
        self.ambiguous.sort_by_key(|a| a.line);
        let mut unmatched_lines: Vec<Uuid> =
            data.lines.iter().zip(&self.line_taken).filter(|(_, t)| !**t).map(|(l, _)| l.id).collect();
        unmatched_lines.sort_unstable();
        let mut unmatched_items: Vec<Uuid> =
            data.items.iter().zip(&self.item_taken).filter(|(_, t)| !**t).map(|(i, _)| i.id).collect();
        unmatched_items.sort_unstable();
        Plan { matches: self.matches, ambiguous: self.ambiguous, unmatched_lines, unmatched_items }
    }
}

/// Lines or items handled together in the batched stages.
const BATCH: usize = 128;

/// The first byte of a text (0 for none): reading it brings the text into cache.
fn first_byte(text: &Option<String>) -> usize {
    text.as_deref().and_then(|t| t.as_bytes().first()).map_or(0, |&b| usize::from(b))
}

/// Reads ahead what scoring a batch of pairs reads: the items and their texts.
fn warm_pairs(data: &Data<'_>, pairs: &[(u32, u32)]) {
    let mut sink = 0usize;
    for &(_, ii) in pairs {
        let ii = ii as usize;
        sink = sink.wrapping_add(data.items[ii].amount_minor as usize);
        sink = sink.wrapping_add((data.item_from[ii] ^ data.item_to[ii]) as usize);
    }
    for &(_, ii) in pairs {
        let item = &data.items[ii as usize];
        sink = sink
            .wrapping_add(first_byte(&item.counterparty_name))
            .wrapping_add(first_byte(&item.reference))
            .wrapping_add(first_byte(&item.virtual_number));
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
/// Cost: one-to-one rules look candidates up in hash indexes over our items (by
/// virtual number, by reference, by amount; an amount tolerance uses a sorted
/// array) narrowed by the date window, so each line costs a few lookups; at most
/// [`SCAN_LIMIT`] entries are examined per line and key. Grouped rules index what
/// is still open by the group key and search at most [`GROUP_CANDIDATE_LIMIT`]
/// members per target for groups of up to `max_group` (≤ [`MAX_GROUP_LIMIT`]).
/// Single-threaded (it runs in the browser too).
pub fn plan(rules: &RuleSet, lines: &[BankLine], items: &[OurItem]) -> Plan {
    let data = Data::new(lines, items);
    let mut state = State::new(lines.len(), items.len());
    let mut indexes = Indexes::default();
    let mut open_lines = lines.len();
    let mut open_items = items.len();
    for rule in &rules.rules {
        if open_lines == 0 || open_items == 0 {
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
        open_lines = state.line_taken.iter().filter(|t| !**t).count();
        open_items = state.item_taken.iter().filter(|t| !**t).count();
    }
    state.finish(&data)
}
