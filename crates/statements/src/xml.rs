//! A fast reader of the XML events the camt reader uses, over a slice.
//!
//! It gives the same events at the same positions as a
//! [`quick_xml::Reader`] over the same slice configured as `camt.rs` configures
//! it (`trim_text_start`, no end-name checks, unmatched ends allowed, empty
//! elements not expanded), for the markup bank files are made of: elements,
//! attributes, text, entity and character references. Comments, CDATA sections,
//! processing instructions and DOCTYPE are read by quick-xml itself, one event at
//! a time. Anything malformed (a tag not closed, a reference without `;`,
//! invalid UTF-8) answers [`Unsupported`]: the caller then reads the file with
//! quick-xml, whose errors are the ones reported.
//!
//! Why: quick-xml validates UTF-8 piece by piece, skips blanks byte by byte and
//! keeps a stack of open names the camt reader does not use; here the input is
//! validated once, in windows of [`WINDOW`] bytes (text is then sliced from the
//! validated window, tags are only located: [`Span`]), the scans go eight or
//! sixteen bytes at a time, and a value and its end tag are one event
//! ([`Token::TextEnd`]). About a third of quick-xml's instructions per entry on
//! pretty-printed camt files, with fewer hard-to-predict branches.
//!
//! `random_documents_read_as_quick_xml_reads_them` (below) checks the
//! equivalence on random documents.

use quick_xml::Reader;
use quick_xml::events::Event;

/// Where a tag's name (or content) is in the input read: offset and length.
/// Tags are not made text (`&str`) unless needed: their bytes are validated
/// UTF-8 all the same, and begin and end at ASCII bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) at: usize,
    pub(crate) len: usize,
}

/// An event of the reader: text borrows from the input, tags are [`Span`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// `<name attributes>`: the content between `<` and `>`, and the name's length.
    Start { content: Span, name_len: usize },
    /// `<name attributes/>`: the content between `<` and `/>`.
    Empty { content: Span, name_len: usize },
    /// `</name>`: the name (blanks before `>` trimmed).
    End(Span),
    /// Text up to markup or a reference, leading blanks skipped.
    Text(&'a str),
    /// Text and the end tag right after it (two quick-xml events: `Text`, `End`).
    TextEnd(&'a str, Span),
    /// `&name;`: the name between `&` and `;`.
    Ref(&'a str),
    /// The content of a CDATA section.
    CData(&'a str),
    /// A comment, processing instruction, XML declaration or DOCTYPE.
    Other,
    /// The end of the input.
    Eof,
}

/// The input is not something this reader reads exactly as quick-xml does (it
/// is malformed, or not UTF-8): read it with quick-xml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsupported;

/// How many bytes of input are validated as UTF-8 at a time (the window ends at
/// the next `<` after that).
const WINDOW: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first event: a UTF-8 byte order mark is skipped.
    Init,
    /// Between markup: blanks are skipped, then text up to `<` or `&`.
    Text,
    /// At a `<`.
    Markup,
    /// At a `&`.
    Ref,
    /// At the end.
    Done,
}

pub(crate) struct FastReader<'a> {
    bytes: &'a [u8],
    /// Offset in `bytes` of the next event.
    pos: usize,
    state: State,
    /// `bytes[window_at..window_at + window.len()]`, validated as UTF-8.
    window: &'a str,
    window_at: usize,
    /// 3 when the input starts with a byte order mark: quick-xml skips it without
    /// counting it in its positions, and so does [`FastReader::position`].
    bom: usize,
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

// Scans eight bytes at a time (SWAR): pieces are short, too short for SIMD
// searches to pay off, too long for a byte loop to be cheap.
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;
const SPACES: u64 = ONES * b' ' as u64;

/// The eight bytes at `i` (little-endian), if there are eight.
#[inline(always)]
fn word(bytes: &[u8], i: usize) -> Option<u64> {
    let w: [u8; 8] = bytes.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(w))
}

/// The high bit of each byte of `w` equal to `c`. The lowest one is exact (bytes
/// above a match may be flagged too), which is all a search needs.
#[inline(always)]
fn eq(w: u64, c: u8) -> u64 {
    let v = w ^ (ONES * u64::from(c));
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// The first index from `i` of a byte `flags` flags (`bytes.len()` if none),
/// eight bytes at a time. `flags` must flag the first match exactly, and nothing
/// in a word without a match (as [`eq`]).
#[inline(always)]
fn find(bytes: &[u8], mut i: usize, flags: impl Fn(u64) -> u64, hit: impl Fn(u8) -> bool) -> usize {
    while let Some(w) = word(bytes, i) {
        let m = flags(w);
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < bytes.len() && !hit(bytes[i]) {
        i += 1;
    }
    i
}

/// The first index from `i` of `a` or `b` (`bytes.len()` if none).
#[inline]
fn find2(bytes: &[u8], i: usize, a: u8, b: u8) -> usize {
    find(bytes, i, |w| eq(w, a) | eq(w, b), |c| c == a || c == b)
}

/// The first index from `i` of `a`, `b` or `c` (`bytes.len()` if none).
#[inline]
fn find3(bytes: &[u8], i: usize, a: u8, b: u8, c: u8) -> usize {
    find(bytes, i, |w| eq(w, a) | eq(w, b) | eq(w, c), |x| x == a || x == b || x == c)
}

/// The first index from `i` that is not a blank (`bytes.len()` if none).
#[inline]
fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    loop {
        match bytes.get(i) {
            // A line break, then usually the next line's indentation.
            Some(b'\n' | b'\r' | b'\t') => i += 1,
            Some(b' ') => {}
            _ => return i,
        }
        // A run of spaces, sixteen bytes at a time (the XOR is 0 exactly at
        // spaces).
        match (word(bytes, i), word(bytes, i + 8)) {
            (Some(a), Some(b)) => {
                let m = u128::from(a ^ SPACES) | u128::from(b ^ SPACES) << 64;
                i += if m == 0 { 16 } else { (m.trailing_zeros() / 8) as usize };
            }
            _ => {
                while bytes.get(i) == Some(&b' ') {
                    i += 1;
                }
            }
        }
    }
}

/// The first index from `i` of `>`, a quote or a byte below `!` (blanks and
/// control characters): where a tag's name may end (`bytes.len()` if none).
#[inline]
fn find_name_end(bytes: &[u8], i: usize) -> usize {
    const BANGS: u64 = ONES * b'!' as u64;
    find(
        bytes,
        i,
        // Bytes below `!`: the lowest flagged one is exact, as with `eq`.
        |w| eq(w, b'>') | eq(w, b'"') | eq(w, b'\'') | (w.wrapping_sub(BANGS) & !w & HIGHS),
        |c| matches!(c, b'>' | b'"' | b'\'' | 0..=b' '),
    )
}

impl<'a> FastReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        FastReader { bytes, pos: 0, state: State::Init, window: "", window_at: 0, bom: 0 }
    }

    /// Offset in the input just after the last event, as quick-xml's
    /// `buffer_position` counts it (without a byte order mark).
    pub(crate) fn position(&self) -> usize {
        self.pos - self.bom
    }

    /// `bytes[from..to]` validated (see [`FastReader::text`]), as a [`Span`].
    #[inline(always)]
    fn span(&mut self, from: usize, to: usize) -> Result<Span, Unsupported> {
        if from < self.window_at || to > self.window_at + self.window.len() {
            self.validate(from, to)?;
        }
        Ok(Span { at: from, len: to - from })
    }

    /// `bytes[from..to]` as text, validating the input from `from` on when it is
    /// outside the validated window. `from` is always just after an ASCII byte
    /// or at the start (a character boundary).
    #[inline(always)]
    fn text(&mut self, from: usize, to: usize) -> Result<&'a str, Unsupported> {
        let end = self.window_at + self.window.len();
        if from >= self.window_at && to <= end {
            return self.window.get(from - self.window_at..to - self.window_at).ok_or(Unsupported);
        }
        self.validate(from, to)?;
        self.window.get(from - self.window_at..to - self.window_at).ok_or(Unsupported)
    }

    #[cold]
    fn validate(&mut self, from: usize, to: usize) -> Result<(), Unsupported> {
        let bytes = self.bytes;
        let mut end = from.saturating_add(WINDOW).max(to);
        if end >= bytes.len() {
            end = bytes.len();
        } else {
            // End at a `<`: a character boundary (a cut character would not be
            // valid UTF-8).
            end = memchr::memchr(b'<', &bytes[end..]).map_or(bytes.len(), |i| end + i);
        }
        let window = bytes.get(from..end).ok_or(Unsupported)?;
        self.window = std::str::from_utf8(window).map_err(|_| Unsupported)?;
        self.window_at = from;
        Ok(())
    }

    /// Where the `>` that closes the tag starting at `from` is (quoted `>` in
    /// attribute values do not close it).
    #[inline]
    fn tag_end(&self, from: usize) -> Result<usize, Unsupported> {
        let bytes = self.bytes;
        let mut i = from;
        loop {
            i = find3(bytes, i, b'>', b'"', b'\'');
            match bytes.get(i) {
                Some(b'>') => return Ok(i),
                // A quoted attribute value: on after its closing quote.
                Some(&quote) => {
                    let rest = bytes.get(i + 1..).unwrap_or_default();
                    i = i + 2 + memchr::memchr(quote, rest).ok_or(Unsupported)?;
                }
                None => return Err(Unsupported),
            }
        }
    }

    /// The next event, or [`Unsupported`] for input quick-xml must read.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<Token<'a>, Unsupported> {
        match self.state {
            State::Text => {}
            State::Markup => {
                self.state = State::Text;
                return self.markup();
            }
            State::Ref => {
                self.state = State::Text;
                return self.reference();
            }
            State::Init => {
                if self.bytes.starts_with(b"\xEF\xBB\xBF") {
                    self.pos = 3;
                    self.bom = 3;
                }
                self.state = State::Text;
            }
            State::Done => return Ok(Token::Eof),
        }
        // Between markup: blanks are skipped (no event), then text up to `<` or `&`.
        let bytes = self.bytes;
        let start = skip_blanks(bytes, self.pos);
        match bytes.get(start) {
            Some(b'<') => {
                self.pos = start;
                return self.markup();
            }
            Some(b'&') => {
                self.pos = start;
                return self.reference();
            }
            Some(_) => {}
            None => {
                self.pos = start;
                self.state = State::Done;
                return Ok(Token::Eof);
            }
        }
        let i = find2(bytes, start + 1, b'<', b'&');
        let t = self.text(start, i)?;
        self.pos = i;
        match (bytes.get(i), bytes.get(i + 1)) {
            // The usual value: text and the end tag, in one go.
            (Some(b'<'), Some(b'/')) => return Ok(Token::TextEnd(t, self.end_tag()?)),
            (Some(b'<'), _) => self.state = State::Markup,
            (Some(_), _) => self.state = State::Ref,
            (None, _) => self.state = State::Done,
        }
        Ok(Token::Text(t))
    }

    /// At `</`: the name, up to blanks before `>`.
    #[inline(always)]
    fn end_tag(&mut self) -> Result<Span, Unsupported> {
        let at = self.pos;
        let gt = self.tag_end(at + 2)?;
        let mut name = self.span(at + 2, gt)?;
        // quick-xml trims the blanks after the name, unless it is all blanks.
        if self.bytes.get(gt - 1).is_some_and(|&c| is_blank(c)) {
            let content = &self.bytes[at + 2..gt];
            if let Some(last) = content.iter().rposition(|&c| !is_blank(c)) {
                name.len = last + 1;
            }
        }
        self.pos = gt + 1;
        Ok(name)
    }

    /// At `&`: the name up to `;`, with no `&` or `<` before it.
    #[inline]
    fn reference(&mut self) -> Result<Token<'a>, Unsupported> {
        let from = self.pos + 1;
        let i = find3(self.bytes, from, b';', b'&', b'<');
        if self.bytes.get(i) != Some(&b';') {
            return Err(Unsupported);
        }
        let name = self.text(from, i)?;
        self.pos = i + 1;
        Ok(Token::Ref(name))
    }

    /// At a `<` (the state is back to text).
    #[inline(always)]
    fn markup(&mut self) -> Result<Token<'a>, Unsupported> {
        let at = self.pos;
        match self.bytes.get(at + 1) {
            Some(b'/') => Ok(Token::End(self.end_tag()?)),
            Some(b'!' | b'?') => self.by_quick_xml(),
            Some(_) => {
                let from = at + 1;
                // The name ends at the first blank; the tag at the first `>` outside
                // quotes.
                let stop = find_name_end(self.bytes, from);
                let (gt, name_end) = match self.bytes.get(stop) {
                    Some(b'>') => (stop, Some(stop)),
                    Some(&c) if is_blank(c) => (self.tag_end(stop)?, Some(stop)),
                    // A quote or a control character in the name.
                    Some(_) => (self.tag_end(from)?, None),
                    None => return Err(Unsupported),
                };
                let empty = self.bytes[gt - 1] == b'/';
                let content = self.span(from, if empty { gt - 1 } else { gt })?;
                let name_len = match name_end {
                    Some(end) => (end - from).min(content.len),
                    None => self.bytes[from..from + content.len]
                        .iter()
                        .position(|&c| is_blank(c))
                        .unwrap_or(content.len),
                };
                self.pos = gt + 1;
                Ok(if empty {
                    Token::Empty { content, name_len }
                } else {
                    Token::Start { content, name_len }
                })
            }
            None => Err(Unsupported),
        }
    }

    /// A comment, CDATA section, processing instruction or DOCTYPE, read by
    /// quick-xml from the `<` on.
    #[cold]
    fn by_quick_xml(&mut self) -> Result<Token<'a>, Unsupported> {
        let rest = self.bytes.get(self.pos..).ok_or(Unsupported)?;
        let mut reader = Reader::from_reader(rest);
        let token = match reader.read_event() {
            Ok(Event::CData(c)) => {
                let at = usize::try_from(reader.buffer_position()).map_err(|_| Unsupported)?;
                // The content is between `<![CDATA[` and `]]>`.
                let from = self.pos + 9;
                let to = (self.pos + at).checked_sub(3).ok_or(Unsupported)?;
                if c.len() != to.saturating_sub(from) {
                    return Err(Unsupported);
                }
                Token::CData(self.text(from, to)?)
            }
            Ok(Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_)) => Token::Other,
            _ => return Err(Unsupported),
        };
        let used = usize::try_from(reader.buffer_position()).map_err(|_| Unsupported)?;
        self.pos += used;
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tokens quick-xml reads, configured as the camt reader configures it,
    /// with the position after each.
    fn quick(input: &[u8]) -> Result<Vec<(Tok<'_>, usize)>, ()> {
        let mut reader = Reader::from_reader(input);
        let config = reader.config_mut();
        config.trim_text_start = true;
        config.trim_text_end = false;
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.expand_empty_elements = false;
        let mut out = Vec::new();
        loop {
            let ev = reader.read_event().map_err(|_| ())?;
            let pos = usize::try_from(reader.buffer_position()).map_err(|_| ())?;
            // Re-slice from the input so that tokens borrow from it.
            let find = |s: &str| -> &str {
                let at = s.as_ptr().addr() - input.as_ptr().addr();
                std::str::from_utf8(&input[at..at + s.len()]).unwrap_or_default()
            };
            let t = match &ev {
                Event::Start(e) => Tok::Start { content: find(e), name_len: e.name().0.len() },
                Event::Empty(e) => Tok::Empty { content: find(e), name_len: e.name().0.len() },
                Event::End(e) => Tok::End(find(e.name().0)),
                Event::Text(t) => Tok::Text(find(t)),
                Event::GeneralRef(r) => Tok::Ref(find(r)),
                Event::CData(c) => Tok::CData(find(c)),
                Event::Eof => Tok::Eof,
                _ => Tok::Other,
            };
            out.push((t, pos));
            if t == Tok::Eof {
                return Ok(out);
            }
        }
    }

    /// Tokens as quick-xml's: tags as text.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Tok<'a> {
        Start { content: &'a str, name_len: usize },
        Empty { content: &'a str, name_len: usize },
        End(&'a str),
        Text(&'a str),
        Ref(&'a str),
        CData(&'a str),
        Other,
        Eof,
    }

    fn fast(input: &[u8]) -> Result<Vec<(Tok<'_>, usize)>, ()> {
        let mut r = FastReader::new(input);
        let mut out = Vec::new();
        let s = |span: Span| std::str::from_utf8(&input[span.at..span.at + span.len]).map_err(|_| ());
        loop {
            let t = r.next().map_err(|_| ())?;
            let t = match t {
                Token::TextEnd(text, name) => {
                    // quick-xml's position after the text: the `<` of the end tag.
                    let lt = text.as_ptr().addr() + text.len() - input.as_ptr().addr();
                    out.push((Tok::Text(text), lt - r.bom));
                    Tok::End(s(name)?)
                }
                Token::Start { content, name_len } => Tok::Start { content: s(content)?, name_len },
                Token::Empty { content, name_len } => Tok::Empty { content: s(content)?, name_len },
                Token::End(name) => Tok::End(s(name)?),
                Token::Text(t) => Tok::Text(t),
                Token::Ref(t) => Tok::Ref(t),
                Token::CData(t) => Tok::CData(t),
                Token::Other => Tok::Other,
                Token::Eof => Tok::Eof,
            };
            out.push((t, r.position()));
            if t == Tok::Eof {
                return Ok(out);
            }
        }
    }

    #[test]
    fn same_tokens_as_quick_xml() {
        let docs: [&[u8]; 16] = [
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<a xmlns=\"u\">\n  <b c='>'>x &amp; y&#x4E2D; </b>\n<c/><d e=\"1\" /></a>\n",
            b"<a><![CDATA[<x> & ]]>  tail </a >",
            b"<!-- c --><a><!DOCTYPE x><?pi x?>t</a>trailing",
            b"  <a>text",
            b"<a></b></a></a>",
            b"<>x</>",
            b"<a\tb='1'/>",
            "<名>中文 &lt;</名>".as_bytes(),
            b"",
            b"   ",
            b"<a>&#32;  x</a>",
            b"</a  \n>",
            b"<a/ >",
            b"<a b=\"/\">x</a>",
            b"<a>x</  >",
            b"\xEF\xBB\xBF<a>x &lt; y</a>",
        ];
        for doc in docs {
            assert_eq!(fast(doc), quick(doc), "{}", String::from_utf8_lossy(doc));
        }
    }

    #[test]
    fn malformed_input_is_left_to_quick_xml() {
        let docs: [&[u8]; 7] =
            [b"<a", b"<a b='>", b"<a>x &amp y</a>", b"<a>\xFF</a>", b"<a>x</a><", b"<a>&</a>", b"<!-- x"];
        for doc in docs {
            assert_eq!(fast(doc), Err(()), "{}", String::from_utf8_lossy(doc));
        }
        // quick-xml refuses them too (the reader reports its error).
        for doc in docs {
            assert!(quick(doc).is_err(), "{}", String::from_utf8_lossy(doc));
        }
    }

    /// Random documents from fragments that matter to a tokenizer: whenever the
    /// fast reader reads one to its end, quick-xml reads the same tokens at the same
    /// positions.
    #[test]
    fn random_documents_read_as_quick_xml_reads_them() {
        const PIECES: [&[u8]; 32] = [
            b"<",
            b">",
            b"/",
            b"\"",
            b"'",
            b"&",
            b";",
            b"amp",
            b" ",
            b"\n",
            b"\t",
            b"\r",
            b"a",
            b"Ntry",
            b"c:Amt",
            b"<!--",
            b"-->",
            b"<![CDATA[",
            b"]]>",
            b"<?",
            b"?>",
            "中".as_bytes(),
            b"\xFF",
            b"=",
            b"\x01",
            b"!",
            b"#x41",
            b"<a>",
            b"</a>",
            b"<b x='>'/>",
            b"  ",
            b"\xEF\xBB\xBF",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut read = 0;
        for _ in 0..40_000 {
            let len = (next() % 24) as usize;
            let mut doc = Vec::new();
            for _ in 0..len {
                doc.extend_from_slice(PIECES[(next() % PIECES.len() as u64) as usize]);
            }
            if let Ok(tokens) = fast(&doc) {
                assert_eq!(Ok(tokens), quick(&doc), "{:?}", String::from_utf8_lossy(&doc));
                read += 1;
            }
        }
        assert!(read > 4_000, "{read}");
    }

    #[test]
    fn windows_cover_long_inputs() {
        let mut doc = String::from("<r>");
        for i in 0..20_000 {
            doc.push_str(&format!("<e i=\"{i}\">中文{i}</e>\n"));
        }
        doc.push_str("</r>");
        assert_eq!(fast(doc.as_bytes()), quick(doc.as_bytes()));
    }
}
