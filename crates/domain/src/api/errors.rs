//! The error that crosses IPC, and the codes it carries. Each variant is a code
//! with parameters; the catalogue words it (never the backend).

use crate::auth::Permission;
use crate::id_number::IdNumberError;
use crate::phone::PhoneError;
use crate::recycle::CaseStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What is wrong with an input field (or a field of a file's line): a code with its
/// parameters, which the UI turns into words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum InputProblem {
    /// Empty.
    #[error("required")]
    Required,
    /// Shorter than allowed.
    #[error("at least {min_chars} characters")]
    TooShort {
        /// Minimum length in characters.
        min_chars: usize,
    },
    /// Not a mainland mobile number.
    #[error("{error}")]
    Phone {
        /// Why.
        error: PhoneError,
    },
    /// Not a valid ID number.
    #[error("{error}")]
    IdNumber {
        /// Why.
        error: IdNumberError,
    },
    /// A card number must be 16 to 19 digits.
    #[error("16 to 19 digits")]
    CardDigits,
    /// Not a time a carrier writes.
    #[error("not a time: {text:?}")]
    NotATime {
        /// What the line held.
        text: String,
    },
    /// Not one of the carrier event words.
    #[error("unknown event {text:?}")]
    UnknownEvent {
        /// What the line held.
        text: String,
    },
    /// The header lacks this column.
    #[error("missing column (header has: {header})")]
    MissingColumn {
        /// The header as read.
        header: String,
    },
    /// The file has no lines.
    #[error("empty file")]
    EmptyFile,
    /// Not one of the names this field takes (a preset, a format).
    #[error("unknown choice {text:?}")]
    UnknownChoice {
        /// What was given.
        text: String,
    },
    /// The bytes are not valid in the file's encoding.
    #[error("not valid {encoding}")]
    Encoding {
        /// `UTF-8` or `GBK`.
        encoding: String,
    },
    /// The CSV reader could not read the line.
    #[error("unreadable CSV: {detail}")]
    Csv {
        /// The reader's own message (not translated: it names bytes and quotes).
        detail: String,
    },
    /// The path names no readable file.
    #[error("cannot read the file: {detail}")]
    Unreadable {
        /// The operating system's message.
        detail: String,
    },
    /// The file is larger than a carrier file may be.
    #[error("larger than {max_bytes} bytes")]
    FileTooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// A line is longer than a carrier line may be.
    #[error("a line longer than {max_bytes} bytes")]
    LineTooLong {
        /// The limit.
        max_bytes: usize,
    },
    /// The password breaks the policy.
    #[error("weak password: {rule:?}")]
    WeakPassword {
        /// Which rule.
        rule: crate::auth::PasswordRule,
    },
    /// The path names a folder or device.
    #[error("not a file")]
    NotAFile,
    /// Not an amount the ledger takes: zero or less, finer than one fen, or too large.
    #[error("not a positive amount in fen")]
    Amount,
    /// Not a virtual number of this physical account.
    #[error("not a virtual number: {why}")]
    VirtualNumber {
        /// Why.
        why: crate::ledger::NumberProblem,
    },
    /// The same account on both sides of a transfer.
    #[error("the same account on both sides")]
    SameAccount,
    /// The end date is before the start, or the range is too long.
    #[error("bad date range")]
    DateRange,
    /// More items than one request may carry.
    #[error("at most {max}")]
    TooMany {
        /// The limit.
        max: usize,
    },
    /// A number outside what the setting allows.
    #[error("out of range")]
    OutOfRange,
    /// The phone is not the case's number.
    #[error("not this case's number")]
    NotCaseNumber,
    /// No operator has that username.
    #[error("no such operator")]
    NoSuchOperator,
    /// That operator's role cannot work recycled-number cases.
    #[error("that operator cannot work these cases")]
    CannotWorkCases,
    /// The customer has no verified ID on record.
    #[error("the customer is not real-name verified")]
    NotRealNameVerified,
    /// Force-unbind is decided only through its wizard.
    #[error("use the force-unbind wizard")]
    UseWizard,
}

impl From<PhoneError> for InputProblem {
    fn from(error: PhoneError) -> Self {
        Self::Phone { error }
    }
}

impl From<IdNumberError> for InputProblem {
    fn from(error: IdNumberError) -> Self {
        Self::IdNumber { error }
    }
}

/// Why an action on a record cannot happen now (its state, or who holds it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "conflict", rename_all = "snake_case")]
pub enum Conflict {
    /// Another operator holds the case.
    #[error("the case is claimed by {by}")]
    ClaimedBy {
        /// Their username.
        by: String,
    },
    /// The action needs the caller to hold the case.
    #[error("you do not hold this case")]
    NotHolder,
    /// Claim the case first, or the claim has expired.
    #[error("claim the case first (or your claim has expired)")]
    ClaimFirst,
    /// The case is in a state that does not allow the action.
    #[error("the case is {status}")]
    CaseStatus {
        /// Its state.
        status: CaseStatus,
    },
    /// The case is closed (or gone).
    #[error("the case is closed")]
    CaseClosed,
    /// Four-eyes: the maker cannot also be the checker.
    #[error("the maker cannot approve their own proposal")]
    MakerIsChecker,
    /// Inside the freeze window after a cancellation: the old user may still reclaim it.
    #[error("in the freeze window until {until}")]
    InFreezeWindow {
        /// End of the window.
        until: DateTime<Utc>,
    },
    /// The phone is no longer the old user's login.
    #[error("the phone is no longer this user's login")]
    NoLongerBound,
    /// The number is another user's login.
    #[error("that number is another user's login")]
    PhoneTaken,
    /// The user has no SMS-reset block.
    #[error("the user has no SMS-reset block")]
    NoSmsBlock,
    /// Nobody asked to lift the block.
    #[error("nobody asked to lift this block")]
    NoUnblockRequest,
    /// The carrier check of the customer with this number failed.
    #[error("the carrier check failed")]
    CarrierCheckFailed,
    /// The wizard's carrier step has not passed.
    #[error("the carrier check has not passed")]
    CarrierStepNotPassed,
    /// The wizard's carrier and bank steps must both pass first.
    #[error("both checks must pass first")]
    ChecksNotPassed,
    /// The wizard belongs to another operator.
    #[error("another operator's wizard")]
    OthersWizard,
    /// The request is too old to act on: ask again.
    #[error("the request has expired")]
    Expired,
    /// The record changed since it was read (another operator acted first): reload.
    #[error("the record changed meanwhile")]
    Changed,
    /// Administrators change other accounts, never their own.
    #[error("an administrator cannot change their own account")]
    OwnAccount,
    /// A record with this key exists already.
    #[error("{entity} exists already")]
    Exists {
        /// What kind of record.
        entity: Entity,
    },
    /// Not enough available money on the account (balance − holds).
    #[error("insufficient available balance")]
    InsufficientFunds,
    /// The sub-account does not allow this now (closed, frozen for debits…).
    #[error("sub-account is {status}")]
    AccountStatus {
        /// Its status.
        status: crate::ledger::VirtualStatus,
    },
    /// An idempotency key was used before for a different request.
    #[error("idempotency key used for another request")]
    KeyReused,
    /// The transfer was reversed already.
    #[error("already reversed")]
    AlreadyReversed,
    /// The proposal was decided already.
    #[error("proposal already decided")]
    ProposalDecided,
    /// The preview is out of date (entries posted since): preview again.
    #[error("preview out of date")]
    StalePreview,
    /// The sub-account cannot close yet: every blocker.
    #[error("cannot close: {} blockers", blockers.len())]
    CloseBlocked {
        /// What stands in the way.
        blockers: Vec<crate::ledger::CloseBlocker>,
    },
    /// The two accounts belong to different physical accounts (money would have to move between banks).
    #[error("accounts of different physical accounts")]
    OtherPhysicalAccount,
    /// The suspense item is in a state that does not allow the action.
    #[error("the item is {status}")]
    SuspenseStatus {
        /// Its state.
        status: crate::suspense::SuspenseStatus,
    },
    /// The action does not resolve this kind of item.
    #[error("{action} does not apply to {kind}")]
    ActionNotForKind {
        /// The action.
        action: crate::suspense::ActionKind,
        /// The item's kind.
        kind: crate::suspense::SuspenseKind,
    },
    /// The amounts do not add up to the item's (the rest must be named, e.g. as a fee).
    #[error("amounts differ by {difference_minor} fen")]
    AmountsDiffer {
        /// Item − Σ amounts given (fen).
        difference_minor: i64,
    },
    /// The day is closed: nothing booked to it changes; book in the current period.
    #[error("day {day} is closed")]
    DayClosed {
        /// The day.
        day: chrono::NaiveDate,
    },
    /// The statement does not add up: store it only with an acknowledgement.
    #[error("statement {statement_id} does not add up by {difference_minor} fen")]
    StatementDoesNotAddUp {
        /// The statement.
        statement_id: String,
        /// closing − (opening + entries), fen.
        difference_minor: i64,
    },
    /// The approval must come from a role the operator does not have, or the
    /// operator approved it already in another role.
    #[error("this approval needs another person in the role {role:?}")]
    ApprovalNeedsRole {
        /// The role whose approval is missing.
        role: crate::auth::Role,
    },
    /// The statement's account is not one of our physical accounts.
    #[error("account {account} is not known")]
    UnknownAccount {
        /// The account as the file names it.
        account: String,
    },
    /// The match is already reversed, or was only suggested.
    #[error("the match is {status}")]
    MatchStatus {
        /// Its status (`suggested`, `confirmed`, `reversed`).
        status: String,
    },
}

/// What kind of record a `NotFound` or `Exists` is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A customer.
    #[error("customer")]
    Customer,
    /// A login user.
    #[error("user")]
    User,
    /// A stored PII field.
    #[error("field")]
    Field,
    /// An operator.
    #[error("operator")]
    Operator,
    /// A recycled-number case.
    #[error("case")]
    Case,
    /// A current phone binding.
    #[error("binding")]
    Binding,
    /// A carrier import job.
    #[error("import")]
    ImportJob,
    /// A force-unbind wizard (they expire after 30 minutes).
    #[error("force-unbind wizard")]
    Wizard,
    /// A phone in a batch.
    #[error("phone")]
    Phone,
    /// A physical bank account.
    #[error("physical account")]
    PhysicalAccount,
    /// A virtual sub-account (or ledger account).
    #[error("sub-account")]
    SubAccount,
    /// A transfer.
    #[error("transfer")]
    Transfer,
    /// A hold.
    #[error("hold")]
    Hold,
    /// A proposal waiting for a checker.
    #[error("proposal")]
    Proposal,
    /// A suspense item.
    #[error("suspense item")]
    SuspenseItem,
    /// A statement line.
    #[error("statement line")]
    StatementLine,
    /// A match.
    #[error("match")]
    Match,
    /// One of our items (expected payment, order, refund).
    #[error("our item")]
    OurItem,
}

/// Which external service a gateway error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum GatewayService {
    /// The carrier.
    #[error("carrier")]
    Carrier,
    /// The bank.
    #[error("bank")]
    Bank,
}

/// What went wrong with a gateway, as a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum GatewayProblem {
    /// No endpoint is configured.
    #[error("not configured")]
    NotConfigured,
    /// No answer within the timeout, after retries.
    #[error("no answer within {timeout_ms} ms ({attempts} attempts)")]
    Timeout {
        /// Per-attempt timeout.
        timeout_ms: u64,
        /// Attempts made.
        attempts: u32,
    },
    /// Could not connect.
    #[error("cannot connect to {endpoint}")]
    Connect {
        /// Endpoint.
        endpoint: String,
    },
    /// An HTTP error status.
    #[error("HTTP {status}")]
    Http {
        /// Status code.
        status: u16,
    },
    /// The service refused the request with its own error code.
    #[error("refused: {code}")]
    Rejected {
        /// The service's code (e.g. `InvalidParameter`).
        code: String,
    },
    /// The answer did not follow the protocol.
    #[error("unexpected answer")]
    Protocol,
    /// A plain-HTTP endpoint on another machine: only HTTPS may leave this one.
    #[error("{endpoint} needs https")]
    NeedsTls {
        /// Endpoint.
        endpoint: String,
    },
    /// The configured CA file cannot be read as PEM certificates.
    #[error("CA file {path} unusable")]
    BadCaFile {
        /// The file.
        path: String,
    },
}

/// The one error type that crosses IPC. The UI translates it by variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    /// The request needs a session.
    #[error("not logged in")]
    NotLoggedIn,
    /// The session was idle too long; log in again.
    #[error("session expired after inactivity")]
    SessionExpired,
    /// Wrong username or password. The same answer whether or not the username
    /// exists: it states the lock-out rule, not a count that would tell.
    #[error("wrong username or password")]
    InvalidCredentials {
        /// Consecutive failures that lock an operator.
        max_failures: u32,
        /// How long the lock lasts (minutes).
        lock_minutes: i64,
    },
    /// Too many failures, or disabled by an admin.
    #[error("operator locked until {until}")]
    OperatorLocked {
        /// When the lock ends.
        until: DateTime<Utc>,
    },
    /// The operator's role lacks the permission.
    #[error("permission denied: {permission}")]
    Forbidden {
        /// What was missing.
        permission: Permission,
    },
    /// A field of the request is not acceptable.
    #[error("{field}: {problem}")]
    InvalidInput {
        /// Which field, as its request name (`username`, `query`, `reason`, …): a code.
        field: String,
        /// What is wrong with it, as a code the UI translates.
        problem: InputProblem,
    },
    /// A statement file cannot be read: where, which field, why. Nothing was stored.
    #[error("{file}: {error}")]
    StatementFile {
        /// The file's name (without its folder).
        file: String,
        /// Where and why.
        error: crate::statement::StatementError,
    },
    /// Nothing with that id.
    #[error("{entity} not found")]
    NotFound {
        /// What kind of record was looked for.
        entity: Entity,
    },
    /// The record's state or holder does not allow the action now.
    #[error("conflict: {conflict}")]
    Conflict {
        /// Why, as a code.
        conflict: Conflict,
    },
    /// The verification attempt budget is spent: stop before the bank locks the card.
    #[error("attempt budget spent until {until}")]
    BudgetExhausted {
        /// When attempts are allowed again.
        until: DateTime<Utc>,
    },
    /// An external verification service failed (timeout, HTTP error, bad answer).
    #[error("{service} gateway: {problem}")]
    Gateway {
        /// Which service.
        service: GatewayService,
        /// What went wrong.
        problem: GatewayProblem,
    },
    /// The database URL is malformed or names an unsupported scheme.
    #[error("invalid database URL: {reason}")]
    InvalidDatabaseUrl {
        /// Why.
        reason: String,
    },
    /// The database server did not answer.
    #[error("database unreachable at {location}: {reason}")]
    DatabaseUnreachable {
        /// Host/file, without credentials.
        location: String,
        /// The driver's reason.
        reason: String,
    },
    /// The database was migrated by a newer version of the console.
    #[error("database schema version {found} is newer than this console supports ({supported})")]
    DatabaseTooNew {
        /// The newest migration in the database.
        found: i64,
        /// The newest migration this build knows.
        supported: i64,
    },
    /// A PostgreSQL server on another machine named without a verified TLS mode.
    #[error("database server {host} needs sslmode=verify-full")]
    DatabaseNeedsTls {
        /// The server's host name or address.
        host: String,
    },
    /// The shared database is behind this console: its owner runs `ops-console migrate`.
    #[error("database schema version {found} needs migrating to {supported}")]
    DatabaseNeedsMigration {
        /// The newest migration in the database.
        found: i64,
        /// The newest migration this build knows.
        supported: i64,
    },
    /// The SQLite file is not a database or is damaged.
    #[error("database file {path} is damaged or not a database: {reason}")]
    DatabaseCorrupt {
        /// The file.
        path: String,
        /// The driver's reason.
        reason: String,
    },
    /// Another desktop holds the database's write lock longer than a desktop
    /// waits (e.g. it is importing a large carrier file): nothing was changed.
    #[error("database busy: another desktop is writing")]
    DatabaseBusy,
    /// Any other storage failure.
    #[error("database error: {message}")]
    Database {
        /// Driver message (no PII: queries bind parameters).
        message: String,
    },
    /// A real database needs real carrier and bank endpoints (the simulator serves
    /// only demo databases, or tests that ask for it).
    #[error("carrier and bank gateway URLs are not configured")]
    GatewaysMissing,
    /// An administrator disabled the operator.
    #[error("operator disabled")]
    OperatorDisabled,
    /// The operator must choose a new password first.
    #[error("a new password is required")]
    PasswordChangeRequired,
    /// This desktop's PII key is not the one the database was written with.
    #[error("this desktop's PII key does not match the database's")]
    PiiKeyMismatch,
    /// The backend is up but has no database (see `Status`).
    #[error("no database: {message}")]
    Unavailable {
        /// Why.
        message: String,
    },
}
