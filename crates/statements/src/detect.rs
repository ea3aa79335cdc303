//! Which format a file is, from its first bytes.

use domain::statement::StatementFormat;
use memchr::memmem;

use crate::camt::namespace_format;

/// How far into the file detection looks.
const HEAD: usize = 16 * 1024;

pub(crate) fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// The file starts (after a BOM and blanks) with `<`.
pub fn looks_like_xml(bytes: &[u8]) -> bool {
    strip_bom(bytes).trim_ascii_start().first() == Some(&b'<')
}

/// The format of a statement file, from its first bytes:
/// - XML naming a camt.053 / camt.054 001.02–001.08 namespace;
/// - MT940: a `{1:` SWIFT header, or a line starting with `:20:` followed by a
///   `:25:` line near the start;
/// - a channel settlement CSV: a header with `settle_date` and `channel_txn_id`
///   (after optional `#` comment lines);
/// - a bank CSV whose header row (within the first 20 lines) has every column of
///   one of the [`presets`](crate::presets).
///
/// `None` when none fits (XML in another namespace included).
pub fn detect(bytes: &[u8]) -> Option<StatementFormat> {
    let head = strip_bom(&bytes[..bytes.len().min(HEAD)]);
    if looks_like_xml(head) {
        return xml_format(head);
    }
    if is_mt940(head) {
        return Some(StatementFormat::Mt940);
    }
    if is_settlement(head) {
        return Some(StatementFormat::ChannelSettlement);
    }
    if crate::csv_bank::preset_for_head(head).is_some() {
        return Some(StatementFormat::BankCsv);
    }
    None
}

fn xml_format(head: &[u8]) -> Option<StatementFormat> {
    let prefix = b"urn:iso:std:iso:20022:tech:xsd:camt.05";
    let mut from = 0;
    while let Some(i) = memmem::find(&head[from..], prefix) {
        let start = from + i;
        let len =
            head[start..].iter().position(|c| matches!(c, b'"' | b'\'' | b'<' | b'>' | b' ')).unwrap_or(0);
        if let Some(format) = std::str::from_utf8(&head[start..start + len]).ok().and_then(namespace_format) {
            return Some(format);
        }
        from = start + prefix.len();
    }
    None
}

fn lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|c| *c == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn is_mt940(head: &[u8]) -> bool {
    let trimmed = head.trim_ascii_start();
    if trimmed.starts_with(b"{1:") {
        return memmem::find(trimmed, b":20:").is_some();
    }
    let mut lines = lines(trimmed).map(<[u8]>::trim_ascii_start).filter(|l| !l.is_empty());
    lines.by_ref().take(10).any(|l| l.starts_with(b":20:")) && lines.take(20).any(|l| l.starts_with(b":25:"))
}

fn is_settlement(head: &[u8]) -> bool {
    let Some(header) = lines(head).map(<[u8]>::trim_ascii).find(|l| !l.is_empty() && !l.starts_with(b"#"))
    else {
        return false;
    };
    memmem::find(header, b"settle_date").is_some() && memmem::find(header, b"channel_txn_id").is_some()
}
