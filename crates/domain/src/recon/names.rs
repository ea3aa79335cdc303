//! Names and references as the matching compares them.
//!
//! Names: trimmed, full-width ASCII folded to half-width, lowercased, spaces and
//! punctuation dropped, company forms dropped from the end (有限公司, 股份有限公司,
//! "Co., Ltd.", …), then compared character by character with a normalised
//! Levenshtein distance: every `char` is one unit, so `张三`/`张山` is one edit out
//! of two.
//!
//! References: full-width folded, ASCII lowercased, whitespace dropped; compared
//! for equality. A remittance text is cut into words (at whitespace, at
//! punctuation other than `-` and `_`, and where Latin letters or digits meet
//! Chinese); any run of up to [`REMITTANCE_WORDS_JOINED`] neighbouring words not
//! separated by punctuation is a candidate reference, so `ORD 2024 0001` and
//! `货款ORD20240001` both carry `ord20240001`.

use super::BankLine;

/// How many neighbouring words of a remittance text are joined into one candidate
/// reference (references printed with spaces in them).
pub const REMITTANCE_WORDS_JOINED: usize = 4;

/// Company forms dropped from the end of a normalised Chinese name, longest first
/// (only the longest that ends the name, and never the whole name).
const CJK_SUFFIXES: [&[char]; 4] = [
    &['股', '份', '有', '限', '公', '司'],
    &['有', '限', '责', '任', '公', '司'],
    &['有', '限', '公', '司'],
    &['公', '司'],
];

/// Latin company-form words dropped from the end of a name (as whole words, so
/// `Tesco` keeps its `co`).
const LATIN_SUFFIX_WORDS: [&str; 9] =
    ["co", "ltd", "limited", "inc", "corp", "corporation", "company", "llc", "plc"];

/// Folds full-width ASCII (`Ａ`, `１`, `（`) and the ideographic space to their
/// half-width forms.
pub(crate) fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// `char::is_alphanumeric`, answered without the Unicode tables for ASCII and the
/// common CJK block.
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        ('\u{4E00}'..='\u{9FFF}').contains(&c) || c.is_alphanumeric()
    }
}

/// Whether a name has anything left after normalisation but its company form
/// (enough to call two equal texts 100 % similar).
pub(crate) fn has_word(name: &str) -> bool {
    name.chars().any(|c| is_word_char(half_width(c).to_ascii_lowercase()))
}

/// A name normalised into characters, reusable between calls.
#[derive(Debug, Default, Clone)]
pub(crate) struct NameBuf {
    /// The normalised characters.
    pub(crate) chars: Vec<char>,
    /// Where each word started (scratch for dropping Latin company forms).
    starts: Vec<usize>,
}

impl NameBuf {
    /// Normalises `name` into this buffer.
    pub(crate) fn set(&mut self, name: &str) {
        let (chars, starts) = (&mut self.chars, &mut self.starts);
        chars.clear();
        starts.clear();
        let mut in_word = false;
        for c in name.chars() {
            let c = half_width(c).to_ascii_lowercase();
            if is_word_char(c) {
                if !in_word {
                    starts.push(chars.len());
                    in_word = true;
                }
                chars.push(c);
            } else {
                in_word = false;
            }
        }
        while starts.len() > 1 {
            let start = starts[starts.len() - 1];
            let word = &chars[start..];
            if word.iter().all(char::is_ascii)
                && LATIN_SUFFIX_WORDS
                    .iter()
                    .any(|s| s.len() == word.len() && s.chars().eq(word.iter().copied()))
            {
                chars.truncate(start);
                starts.pop();
            } else {
                break;
            }
        }
        if !chars.ends_with(&['公', '司']) {
            return;
        }
        for suffix in CJK_SUFFIXES {
            let n = suffix.len();
            if chars.ends_with(suffix) {
                // A name that is only the company form keeps it.
                if chars.len() > n {
                    chars.truncate(chars.len() - n);
                }
                break;
            }
        }
    }

    /// A hash of the normalised name (group key), `None` when it is empty.
    pub(crate) fn hash(&self) -> Option<u64> {
        if self.chars.is_empty() {
            return None;
        }
        let mut h = Hash64::new();
        for &c in &self.chars {
            h.feed(c);
        }
        Some(h.finish())
    }
}

/// A name as the matching compares it: see the module docs.
pub fn normalise_name(name: &str) -> String {
    let mut buf = NameBuf::default();
    buf.set(name);
    buf.chars.iter().collect()
}

/// How similar two names are, 0..=100: `100 × (1 − edits / longer length)` over the
/// characters of the normalised names, rounded down, so 100 means equal after
/// normalisation. A name that normalises to nothing is similar to nothing (0).
pub fn similarity_percent(a: &str, b: &str) -> u8 {
    let (mut x, mut y) = (NameBuf::default(), NameBuf::default());
    x.set(a);
    y.set(b);
    similarity_chars(&x.chars, &y.chars, &mut Vec::new())
}

/// [`similarity_percent`] on normalised characters, with a reusable row buffer.
pub(crate) fn similarity_chars(a: &[char], b: &[char], row: &mut Vec<u32>) -> u8 {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    if a == b {
        return 100;
    }
    let longer = a.len().max(b.len());
    let edits = levenshtein(a, b, row);
    (longer.saturating_sub(edits) * 100 / longer) as u8
}

/// Whether the similarity is at least `min`; cheaper than computing it when the
/// lengths alone rule it out.
pub(crate) fn similar_at_least(a: &[char], b: &[char], min: u8, row: &mut Vec<u32>) -> bool {
    if min == 0 {
        return true;
    }
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (shorter, longer) = (a.len().min(b.len()), a.len().max(b.len()));
    // At least `longer − shorter` edits are needed.
    if shorter * 100 / longer < usize::from(min) {
        return false;
    }
    similarity_chars(a, b, row) >= min
}

/// Levenshtein distance over characters (insert, delete, substitute: one each).
fn levenshtein(a: &[char], b: &[char], row: &mut Vec<u32>) -> usize {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix = a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    if a.is_empty() || b.is_empty() {
        return a.len().max(b.len());
    }
    row.clear();
    row.extend(0..=b.len() as u32);
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i as u32 + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let substitute = diagonal + u32::from(ca != cb);
            row[j + 1] = substitute.min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()] as usize
}

/// The characters of a reference as compared: full-width folded, whitespace
/// dropped, ASCII lowercased.
fn reference_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().map(half_width).filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_lowercase())
}

/// A reference as the matching compares it: see the module docs.
pub fn normalise_reference(reference: &str) -> String {
    reference_chars(reference).collect()
}

/// Printable ASCII other than space: such a text normalises to its lowercase.
fn plain(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_graphic())
}

/// Whether two references are equal after normalisation (and not empty).
pub(crate) fn reference_eq(a: &str, b: &str) -> bool {
    if plain(a) && plain(b) {
        return !a.is_empty() && a.eq_ignore_ascii_case(b);
    }
    let mut x = reference_chars(a).peekable();
    x.peek().is_some() && x.eq(reference_chars(b))
}

/// Appends the normalised form of a reference to `out`; returns its hash (the
/// same as [`reference_hash`]), 0 when it is empty.
pub(crate) fn push_reference(s: &str, out: &mut String) -> u64 {
    let mut h = Hash64::new();
    let start = out.len();
    let mut push = |c: char| {
        h.feed(c);
        out.push(c);
    };
    if plain(s) {
        s.bytes().for_each(|b| push(char::from(b.to_ascii_lowercase())));
    } else {
        reference_chars(s).for_each(push);
    }
    if out.len() == start { 0 } else { h.finish() }
}

/// Whether `text` normalises to `normalised` (which is not empty).
pub(crate) fn matches_normalised(text: &str, normalised: &str) -> bool {
    if normalised.is_empty() {
        return false;
    }
    if plain(text) {
        return text.len() == normalised.len() && text.eq_ignore_ascii_case(normalised);
    }
    reference_chars(text).eq(normalised.chars())
}

/// The hash of a normalised reference, `None` when it is empty.
pub(crate) fn reference_hash(s: &str) -> Option<u64> {
    let mut h = Hash64::new();
    if plain(s) {
        for b in s.bytes() {
            h.feed(char::from(b.to_ascii_lowercase()));
        }
        return (!s.is_empty()).then(|| h.finish());
    }
    let mut any = false;
    for c in reference_chars(s) {
        h.feed(c);
        any = true;
    }
    any.then(|| h.finish())
}

/// A streaming hash over characters (multiply–xor, finished by a 64-bit mix).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hash64(u64);

impl Hash64 {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn feed(&mut self, c: char) {
        self.0 = (self.0 ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
    }

    /// The hash, never 0 (0 stands for "none" in the planner's tables).
    pub(crate) fn finish(self) -> u64 {
        mix64(self.0).max(1)
    }
}

/// The splitmix64 finaliser: spreads any 64-bit value over all bits.
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Which field of a bank line a candidate reference was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefField {
    /// `our_ref`, whole.
    OurRef,
    /// `end_to_end`, whole.
    EndToEnd,
    /// A run of words of `remittance`.
    Remittance,
}

/// One candidate reference of a bank line: its hash and where it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefKey {
    /// Hash of the normalised text.
    pub(crate) hash: u64,
    field: RefField,
    start: u32,
    end: u32,
}

impl RefKey {
    /// The text the key was read from (normalise before comparing).
    pub(crate) fn text<'a>(&self, line: &'a BankLine) -> &'a str {
        let field = match self.field {
            RefField::OurRef => line.our_ref.as_deref(),
            RefField::EndToEnd => line.end_to_end.as_deref(),
            RefField::Remittance => line.remittance.as_deref(),
        };
        field.and_then(|f| f.get(self.start as usize..self.end as usize)).unwrap_or("")
    }
}

/// How a remittance character splits words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharClass {
    /// Part of a word; `true` for ASCII.
    Word(bool),
    /// Whitespace: ends a word, words on both sides may be joined.
    Soft,
    /// Punctuation: ends a word, words on both sides are never joined.
    Hard,
}

fn class(c: char) -> CharClass {
    let c = half_width(c);
    if c.is_whitespace() {
        CharClass::Soft
    } else if is_word_char(c) || c == '-' || c == '_' {
        CharClass::Word(c.is_ascii())
    } else {
        CharClass::Hard
    }
}

/// Every candidate reference a bank line carries: `our_ref`, `end_to_end`, and the
/// word runs of `remittance`. `words` is scratch.
pub(crate) fn reference_keys(line: &BankLine, out: &mut Vec<RefKey>, words: &mut Vec<(u32, u32, u32)>) {
    out.clear();
    for (field, text) in [(RefField::OurRef, &line.our_ref), (RefField::EndToEnd, &line.end_to_end)] {
        if let Some(text) = text
            && let Some(hash) = reference_hash(text)
        {
            out.push(RefKey { hash, field, start: 0, end: text.len() as u32 });
        }
    }
    let Some(text) = line.remittance.as_deref() else { return };
    // Words as (start byte, end byte, segment); a segment ends at punctuation.
    words.clear();
    let mut segment = 0u32;
    let mut current: Option<(u32, bool)> = None;
    for (at, c) in text.char_indices() {
        let at = at as u32;
        match class(c) {
            CharClass::Word(ascii) => match current {
                Some((_, was_ascii)) if was_ascii == ascii => {}
                Some((start, _)) => {
                    words.push((start, at, segment));
                    current = Some((at, ascii));
                }
                None => current = Some((at, ascii)),
            },
            kind => {
                if let Some((start, _)) = current.take() {
                    words.push((start, at, segment));
                }
                if kind == CharClass::Hard {
                    segment += 1;
                }
            }
        }
    }
    if let Some((start, _)) = current {
        words.push((start, text.len() as u32, segment));
    }
    for i in 0..words.len() {
        let mut h = Hash64::new();
        let (start, _, segment) = words[i];
        for &(from, to, seg) in words[i..].iter().take(REMITTANCE_WORDS_JOINED) {
            if seg != segment {
                break;
            }
            for c in reference_chars(&text[from as usize..to as usize]) {
                h.feed(c);
            }
            out.push(RefKey { hash: h.finish(), field: RefField::Remittance, start, end: to });
        }
    }
}

/// Whether one of `keys` (read from `line`) is `reference`.
pub(crate) fn keys_contain(line: &BankLine, keys: &[RefKey], reference: &str) -> bool {
    let Some(hash) = reference_hash(reference) else { return false };
    keys.iter().any(|k| k.hash == hash && reference_eq(reference, k.text(line)))
}
