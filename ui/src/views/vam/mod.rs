//! 虚拟子账户 (virtual sub-accounts): the physical accounts with the state of their
//! invariant (a red banner when a proof broke), bank polls, proofs, interest
//! allocation and manual credits; the lazy tree of sub-accounts with search; one
//! sub-account with its holds, forms (freeze, release, transfer, sweep, open, close),
//! entries with running balance and a 90-day balance chart; and the operations
//! waiting for a checker.
//!
//! Parts: [`physical`] (accounts, banner, proof), [`forms`] (interest, manual
//! credit), [`tree`] (tree, search, opening), [`sub_account`] (detail, holds and
//! the account's forms), [`entries`] (entries, export, reversal, chart),
//! [`proposals`] (four-eyes). Replies stay typed here and are worded while drawing.

mod entries;
mod forms;
mod physical;
mod proposals;
mod sub_account;
mod tree;

use crate::backend::Reply;
use crate::contract::{Outbox, Purpose, ViewCtx, WorkArea};
use crate::i18n::{Lang, T, fill};
use crate::text::error_text;
use crate::views::today;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use domain::api::{VamOperation, VamRequest};
use domain::ledger::{AccountId, CloseBlocker};
use domain::vam::{CreditOutcome, PollSummary, VamOutcome};
use domain::{ApiError, Request, Response};
use rust_decimal::Decimal;
use std::str::FromStr;
use uuid::Uuid;

/// Nodes per tree page.
pub const TREE_PAGE: u32 = 50;
/// Entries per page.
pub const ENTRY_PAGE: u32 = 50;
/// Days of the balance chart.
pub const SERIES_DAYS: u64 = 90;

/// What a virtual sub-account reply is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VamPurpose {
    /// The physical accounts.
    Physical,
    /// A page of children (`more`: appended to what is shown).
    Tree {
        /// Physical account asked about (a reply for another one is dropped).
        physical_id: Uuid,
        /// Parent node; `None` for the top level.
        parent: Option<AccountId>,
        /// The next page of the same parent.
        more: bool,
    },
    /// Search hits.
    Search,
    /// One sub-account.
    SubAccount(AccountId),
    /// Entries of a sub-account (`more`: older page).
    Entries {
        /// The account.
        account: AccountId,
        /// An older page, appended.
        more: bool,
    },
    /// End-of-day balances for the chart.
    Series(AccountId),
    /// CSV export.
    Export,
    /// Bank poll.
    Poll,
    /// Proof of a physical account.
    Proof,
    /// What an operation would change.
    Preview,
    /// Interest preview.
    InterestPreview,
    /// Close blockers.
    CloseCheck(AccountId),
    /// An operation, with the request id it was sent under.
    Do(OpKind, uuid::Uuid),
    /// Operations waiting for a checker.
    Proposals,
    /// A checker's verdict.
    Approve {
        /// Approved (`false`: rejected).
        approve: bool,
    },
}

/// Which operation a reply answers, so the notice can say what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// 开立子账户.
    Open,
    /// 手工入账.
    ManualCredit,
    /// 转账.
    Transfer,
    /// 归集到主账户.
    Sweep,
    /// 冻结.
    Freeze,
    /// 解冻.
    Release,
    /// 利息过账.
    PostInterest,
    /// 冲正.
    Reverse,
    /// 销户.
    Close,
    /// 结束招标.
    SettleTender,
}

impl OpKind {
    fn done(self) -> T {
        match self {
            OpKind::Open => T::VamDoneOpen,
            OpKind::ManualCredit => T::VamDoneCredit,
            OpKind::Transfer => T::VamDoneTransfer,
            OpKind::Sweep => T::VamDoneSweep,
            OpKind::Freeze => T::VamDoneFreeze,
            OpKind::Release => T::VamDoneRelease,
            OpKind::PostInterest => T::VamDoneInterest,
            OpKind::Reverse => T::VamDoneReverse,
            OpKind::Close => T::VamDoneClose,
            OpKind::SettleTender => T::VamDoneSettle,
        }
    }
}

/// What the last action did, kept typed and worded at draw time.
#[derive(Debug, Clone, PartialEq)]
enum Notice {
    Polled(PollSummary),
    Done(OpKind),
    Proposed(Uuid),
    Credit(CreditOutcome),
    NotClosed(Vec<CloseBlocker>),
    Approved,
    Rejected,
    Exported { path: String, rows: u64 },
}

impl Notice {
    fn text(&self, lang: Lang) -> String {
        let t = |k: T| k.text(lang);
        match self {
            Notice::Polled(s) => fill(
                t(T::VamPolled),
                &[("credited", &s.credited), ("unidentified", &s.unidentified), ("repeated", &s.repeated)],
            ),
            Notice::Done(kind) => t(kind.done()).to_owned(),
            Notice::Proposed(id) => fill(t(T::VamProposed), &[("id", &domain::cases::short_id(*id))]),
            Notice::Credit(outcome) => crate::i18n::credit_outcome_text(outcome, lang),
            Notice::NotClosed(blockers) => {
                let list: Vec<String> =
                    blockers.iter().map(|b| crate::i18n::close_blocker_text(b, lang)).collect();
                let separator = if lang == Lang::Zh { "；" } else { "; " };
                format!("{} {}", t(T::VamCloseBlocked), list.join(separator))
            }
            Notice::Approved => t(T::VamApproved).to_owned(),
            Notice::Rejected => t(T::VamRejected).to_owned(),
            Notice::Exported { path, rows } => fill(t(T::VamExported), &[("rows", rows), ("path", path)]),
        }
    }
}

/// Something typed that cannot be sent as it is; names the field by its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Amount(T),
    Date(T),
    Id(T),
    Uuid(T),
    Required(T),
}

impl Problem {
    fn text(self, lang: Lang) -> String {
        let (key, field) = match self {
            Problem::Amount(f) => (T::VamBadAmount, f),
            Problem::Date(f) => (T::VamBadDate, f),
            Problem::Id(f) => (T::VamBadId, f),
            Problem::Uuid(f) => (T::VamBadUuid, f),
            Problem::Required(f) => (T::VamRequired, f),
        };
        fill(key.text(lang), &[("field", &field.text(lang))])
    }
}

/// The view's state, one part per concern.
#[derive(Debug, Default)]
pub struct VamView {
    loaded: bool,
    physical: physical::PhysicalState,
    forms: forms::PhysicalForms,
    tree: tree::TreeState,
    sub: sub_account::SubState,
    entries: entries::EntriesState,
    proposals: proposals::ProposalsState,
    notice: Option<Notice>,
    problem: Option<Problem>,
    error: Option<ApiError>,
    /// Operations sent and not yet answered (or answered with an error), with their
    /// request ids: sending one of them again (a second click, a retry) reuses its
    /// id, so it cannot happen twice. The oldest go first beyond [`UNANSWERED`].
    sent: Vec<(VamOperation, uuid::Uuid)>,
}

/// Operations remembered while unanswered.
const UNANSWERED: usize = 16;

/// Queues a request of this area.
fn send(outbox: &mut Outbox, purpose: VamPurpose, request: VamRequest) {
    outbox.send(Purpose::Vam(purpose), Request::Vam(request));
}

impl VamView {
    /// Sends an operation; its reply says what happened and refreshes the screen.
    fn act(&mut self, outbox: &mut Outbox, kind: OpKind, op: VamOperation) {
        self.clear_status();
        let request_id = match self.sent.iter().find(|(sent, _)| *sent == op) {
            Some((_, id)) => *id,
            None => {
                let id = uuid::Uuid::now_v7();
                if self.sent.len() >= UNANSWERED {
                    self.sent.remove(0);
                }
                self.sent.push((op.clone(), id));
                id
            }
        };
        send(outbox, VamPurpose::Do(kind, request_id), VamRequest::DoOnce { request_id, operation: op });
    }

    fn clear_status(&mut self) {
        self.notice = None;
        self.problem = None;
        self.error = None;
    }

    /// A typed value that cannot be sent: say so, send nothing.
    fn refuse(&mut self, problem: Problem) {
        self.clear_status();
        self.problem = Some(problem);
    }

    /// Everything on screen again, after something changed the ledger.
    fn refresh_all(&mut self, outbox: &mut Outbox) {
        send(outbox, VamPurpose::Physical, VamRequest::PhysicalAccounts);
        self.reload_tree(outbox);
        if let Some(account) = self.sub.selected {
            self.load_sub_account(outbox, account);
        }
        if self.proposals.loaded {
            send(outbox, VamPurpose::Proposals, VamRequest::Proposals);
        }
    }

    /// An operation's outcome: a notice, the form it came from emptied, a refresh.
    fn on_done(&mut self, kind: OpKind, outcome: VamOutcome, outbox: &mut Outbox) {
        self.notice = Some(match outcome {
            VamOutcome::Posted { .. } | VamOutcome::Closed => Notice::Done(kind),
            VamOutcome::Proposed { proposal_id } => Notice::Proposed(proposal_id),
            VamOutcome::Credit(credit) => Notice::Credit(credit),
            VamOutcome::Rejected => Notice::Rejected,
            VamOutcome::Blocked { blockers } => {
                self.sub.close_check = Some(blockers.clone());
                self.refresh_all(outbox);
                self.notice = Some(Notice::NotClosed(blockers));
                return;
            }
        });
        match kind {
            OpKind::Open => self.tree.open = None,
            OpKind::ManualCredit | OpKind::PostInterest => self.forms.clear(),
            OpKind::Transfer
            | OpKind::Sweep
            | OpKind::Freeze
            | OpKind::Release
            | OpKind::Close
            | OpKind::SettleTender => self.sub.clear_forms(),
            OpKind::Reverse => self.entries.reverse = None,
        }
        self.refresh_all(outbox);
    }

    fn status_ui(&self, ui: &mut egui::Ui, lang: Lang) {
        if let Some(n) = &self.notice {
            ui.label(n.text(lang));
        }
        if let Some(p) = self.problem {
            ui.colored_label(ui.visuals().error_fg_color, p.text(lang));
        }
        if let Some(e) = &self.error {
            ui.colored_label(ui.visuals().error_fg_color, error_text(lang, e));
        }
    }
}

impl WorkArea for VamView {
    type Purpose = VamPurpose;

    fn on_reply(&mut self, purpose: VamPurpose, reply: Reply, outbox: &mut Outbox) {
        let reply = match reply {
            Ok(r) => r,
            Err(e) => {
                self.notice = None;
                self.error = Some(e);
                return;
            }
        };
        match (purpose, reply) {
            (VamPurpose::Physical, Response::PhysicalAccounts(list)) => self.set_physical(list, outbox),
            (VamPurpose::Tree { physical_id, parent, more }, Response::VirtualTree(page)) => {
                self.tree.set_page(physical_id, parent, more, page)
            }
            (VamPurpose::Search, Response::VirtualTree(page)) => self.tree.results = Some(page.nodes),
            (VamPurpose::SubAccount(id), Response::SubAccount(detail)) if self.sub.selected == Some(id) => {
                self.sub.detail = Some(*detail)
            }
            (VamPurpose::Entries { account, more }, Response::Entries(page))
                if self.sub.selected == Some(account) =>
            {
                self.entries.set_page(more, page)
            }
            (VamPurpose::Series(id), Response::BalanceSeries(series)) if self.sub.selected == Some(id) => {
                self.entries.series = Some(series)
            }
            (VamPurpose::Export, Response::Exported { path, rows }) => {
                self.notice = Some(Notice::Exported { path, rows })
            }
            (VamPurpose::Poll, Response::Polled(summary)) => {
                self.notice = Some(Notice::Polled(summary));
                self.refresh_all(outbox);
            }
            (VamPurpose::Proof, Response::Proof(proof)) => {
                self.physical.proof = Some(proof);
                send(outbox, VamPurpose::Physical, VamRequest::PhysicalAccounts);
            }
            (VamPurpose::InterestPreview, Response::InterestPreview(preview)) => {
                self.forms.interest.preview = Some(preview)
            }
            (VamPurpose::Preview, Response::OperationPreview(preview)) => self.sub.preview = Some(preview),
            (VamPurpose::CloseCheck(id), Response::CloseCheck(blockers)) if self.sub.selected == Some(id) => {
                self.sub.close_check = Some(blockers)
            }
            (VamPurpose::Do(kind, request_id), Response::Vam(outcome)) => {
                // Answered: the same operation typed again is a new one.
                self.sent.retain(|(_, id)| *id != request_id);
                self.on_done(kind, outcome, outbox)
            }
            (VamPurpose::Do(kind, _), _) => {
                self.notice = Some(Notice::Done(kind));
                self.refresh_all(outbox);
            }
            (VamPurpose::Proposals, Response::VamProposals(list)) => self.proposals.set(list),
            (VamPurpose::Approve { approve }, reply) => {
                self.notice = Some(match reply {
                    Response::Vam(VamOutcome::Blocked { blockers }) => Notice::NotClosed(blockers),
                    Response::Vam(VamOutcome::Credit(credit)) => Notice::Credit(credit),
                    Response::Vam(VamOutcome::Rejected) => Notice::Rejected,
                    _ if approve => Notice::Approved,
                    _ => Notice::Rejected,
                });
                self.refresh_all(outbox);
            }
            _ => {}
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        if !self.loaded {
            self.loaded = true;
            send(ctx.outbox, VamPurpose::Physical, VamRequest::PhysicalAccounts);
            if ctx.abilities.vam_approve {
                self.proposals.loaded = true;
                send(ctx.outbox, VamPurpose::Proposals, VamRequest::Proposals);
            }
        }
        ui.heading(ctx.t(T::AreaVirtual));
        if ctx.abilities.vam_operate {
            self.banner_ui(ui, ctx.lang);
        }
        self.status_ui(ui, ctx.lang);
        ui.separator();
        egui::ScrollArea::both().id_salt("vam").auto_shrink([false, false]).show(ui, |ui| {
            self.physical_ui(ui, ctx);
            if ctx.abilities.vam_approve {
                ui.separator();
                self.proposals_ui(ui, ctx);
            }
            ui.separator();
            self.tree_ui(ui, ctx);
            ui.separator();
            self.sub_account_ui(ui, ctx);
        });
    }
}

/// A typed amount in yuan: above zero, at most two decimals (`¥` and `,` allowed).
fn parse_amount(text: &str) -> Option<Decimal> {
    let cleaned: String = text.trim().chars().filter(|c| !matches!(c, ',' | '¥' | '，')).collect();
    let amount = Decimal::from_str(&cleaned).ok()?.normalize();
    (amount > Decimal::ZERO && amount.scale() <= 2).then_some(amount)
}

/// A typed date, `2025-01-31`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A typed ledger account id.
fn parse_account(text: &str) -> Option<AccountId> {
    Uuid::parse_str(text.trim()).ok().map(AccountId)
}

fn beijing() -> Option<FixedOffset> {
    FixedOffset::east_opt(8 * 3600)
}

/// The end of `date` in Beijing (the start of the next day), for expiries.
fn end_of_day(date: NaiveDate) -> Option<DateTime<Utc>> {
    let next = date.succ_opt()?.and_hms_opt(0, 0, 0)?;
    Some(beijing()?.from_local_datetime(&next).single()?.with_timezone(&Utc))
}

/// `¥1,234.56`.
fn yuan(amount: Decimal) -> String {
    domain::money::Cny(amount).to_string()
}

#[cfg(test)]
mod tests;
