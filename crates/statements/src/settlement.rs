//! A payment channel's settlement file: UTF-8 CSV, one row per order or refund the
//! channel settled, with an optional comment line first:
//!
//! ```text
//! # channel=alipay account=2088001234567890 currency=CNY
//! settle_date,channel_txn_id,order_id,type,amount,fee,net
//! 2026-11-24,2026112422001,ORD-1001,PAY,100.00,0.60,99.40
//! 2026-11-24,2026112422002,RF-77,REFUND,30.00,0.00,-30.00
//! ```
//!
//! One [`Statement`] per file (no balances). Per row: `bank_ref` =
//! `channel_txn_id`, `our_ref` = `order_id`, `bank_code` = `PAY` / `REFUND`,
//! `fee_minor` = `fee` as written (positive when the channel charges; a channel
//! that gives its fee back on a refund writes it negative), `booking_date` =
//! `settle_date`.
//!
//! Signs (our choice): `amount` is the gross of the order, written positive (a
//! negative amount on a refund is read as the same refund). A `PAY` row is money
//! in, `amount_minor = +amount`; a `REFUND` row is money back to the payer,
//! `amount_minor = −amount`. The net the channel moves is `amount_minor − fee`,
//! and when the file has a `net` column each row's net must equal it (else
//! `BadValue` on `net`).
//!
//! Statement id: `settlement:{channel}:{account}:{first day}:{last day}:{first 12
//! hex of the file's SHA-256}`; currency from `currency=` (default `CNY`).

use std::collections::HashMap;

use csv::{ByteRecord, ReaderBuilder};
use domain::statement::{
    Location, Statement, StatementEntry, StatementError, StatementFormat, StatementProblem,
};

use crate::amount::{AmountError, DecimalStyle, parse_minor};
use crate::text::{self, err, line};

const COLUMNS: [&str; 6] = ["settle_date", "channel_txn_id", "order_id", "type", "amount", "fee"];

/// Reads a settlement file. `account` replaces the comment's `account=`, and
/// supplies it when there is none.
pub fn parse(bytes: &[u8], account: Option<&str>) -> Result<Vec<Statement>, StatementError> {
    let body = crate::detect::strip_bom(bytes);
    let content = std::str::from_utf8(body).map_err(|e| {
        let n = 1 + memchr::memchr_iter(b'\n', &body[..e.valid_up_to()]).count() as u64;
        err(line(n), "", StatementProblem::Encoding { encoding: "UTF-8".into() })
    })?;

    // `# key=value …` lines before the header.
    let mut meta: HashMap<&str, &str> = HashMap::new();
    for l in content.lines() {
        let t = l.trim();
        let Some(c) = t.strip_prefix('#') else {
            if t.is_empty() {
                continue;
            }
            break;
        };
        for pair in c.split_whitespace() {
            if let Some((k, v)) = pair.split_once('=') {
                meta.insert(k, v);
            }
        }
    }
    let channel = meta.get("channel").copied().unwrap_or("");
    let account = match account.or_else(|| meta.get("account").copied()) {
        Some(a) => text::compact(a),
        None => return Err(err(Location::File, "account", StatementProblem::Missing)),
    };
    let currency = meta.get("currency").map_or_else(|| "CNY".to_owned(), |c| c.to_ascii_uppercase());

    let mut rdr = ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .from_reader(content.as_bytes());
    let mut rec = ByteRecord::new();
    let mut lines = crate::csv_bank::LineCounter::with_comments(content, b'#');
    let csv_err = |e: csv::Error| crate::csv_bank::csv_error_in(content, &e);
    // Header.
    let header_line = loop {
        if !rdr.read_byte_record(&mut rec).map_err(csv_err)? {
            return Err(err(Location::File, "", StatementProblem::Empty));
        }
        if rec.iter().any(|c| !c.trim_ascii().is_empty()) {
            break lines.line_of(&rec);
        }
    };
    let names: Vec<String> =
        rec.iter().map(|c| String::from_utf8_lossy(c.trim_ascii()).into_owned()).collect();
    let col = |name: &str| names.iter().position(|n| n == name);
    let mut idx = [0usize; 6];
    for (i, c) in COLUMNS.iter().enumerate() {
        idx[i] = col(c).ok_or_else(|| {
            err(line(header_line), *c, StatementProblem::MissingColumn { column: (*c).to_owned() })
        })?;
    }
    let net_col = col("net");
    let [date_i, txn_i, order_i, type_i, amount_i, fee_i] = idx;

    let mut entries = Vec::new();
    let (mut from, mut to) = (None, None);
    while rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        if rec.iter().all(|c| c.trim_ascii().is_empty()) {
            continue;
        }
        let at = line(lines.line_of(&rec));
        // The file is valid UTF-8 and cells split at ASCII, so this cannot fail.
        let get = |i: usize| std::str::from_utf8(rec.get(i).unwrap_or(b"")).unwrap_or("").trim();
        let amount_of = |i: usize, name: &str| -> Result<i64, StatementError> {
            let t = get(i);
            parse_minor(t.as_bytes(), DecimalStyle::Point).map_err(|e| match e {
                AmountError::Bad => err(at.clone(), name, StatementProblem::BadAmount { text: t.to_owned() }),
                AmountError::Overflow => err(at.clone(), name, StatementProblem::Overflow),
            })
        };
        let d = get(date_i);
        let date = text::date(d).ok_or_else(|| {
            err(at.clone(), "settle_date", StatementProblem::BadDate { text: d.to_owned() })
        })?;
        let kind = get(type_i);
        let refund = match kind.to_ascii_uppercase().as_str() {
            "PAY" => false,
            "REFUND" => true,
            _ => return Err(err(at, "type", StatementProblem::BadValue { text: kind.to_owned() })),
        };
        let gross = amount_of(amount_i, "amount")?.abs();
        let amount_minor = if refund { -gross } else { gross };
        let fee = if get(fee_i).is_empty() { 0 } else { amount_of(fee_i, "fee")? };
        if let Some(n) = net_col.filter(|n| !get(*n).is_empty()) {
            let net = amount_of(n, "net")?;
            if amount_minor.checked_sub(fee) != Some(net) {
                return Err(err(at, "net", StatementProblem::BadValue { text: get(n).to_owned() }));
            }
        }
        let txn = get(txn_i);
        if txn.is_empty() {
            return Err(err(at, "channel_txn_id", StatementProblem::Missing));
        }
        let order = get(order_i);
        from = Some(from.map_or(date, |f: chrono::NaiveDate| f.min(date)));
        to = Some(to.map_or(date, |t: chrono::NaiveDate| t.max(date)));
        entries.push(StatementEntry {
            at,
            amount_minor,
            booking_date: date,
            value_date: None,
            booked_at: None,
            bank_ref: txn.to_owned(),
            end_to_end: None,
            counterparty_name: None,
            counterparty_account: None,
            addressed_account: None,
            remittance: None,
            bank_code: Some(if refund { "REFUND" } else { "PAY" }.to_owned()),
            reversal: false,
            return_reason: None,
            fee_minor: Some(fee),
            our_ref: (!order.is_empty()).then(|| order.to_owned()),
            booked: true,
        });
    }
    let (Some(first), Some(last)) = (from, to) else {
        return Err(err(line(header_line), "", StatementProblem::Empty));
    };
    let digest = text::digest12(bytes);
    let statement_id = if channel.is_empty() {
        format!("settlement:{account}:{first}:{last}:{digest}")
    } else {
        format!("settlement:{channel}:{account}:{first}:{last}:{digest}")
    };
    Ok(vec![Statement {
        format: StatementFormat::ChannelSettlement,
        version: None,
        statement_id,
        account,
        currency,
        sequence: None,
        opening: None,
        closing: None,
        from,
        to,
        entries,
    }])
}
