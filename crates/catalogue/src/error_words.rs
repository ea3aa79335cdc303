//! The words for errors the backend sends: API errors, input problems, conflicts,
//! gateway failures. Split from `words.rs` by concern; both are re-exported.

use crate::words::{case_status, fmt_time};
use crate::{Lang, T, fill};
use domain::api::{GatewayProblem, GatewayService};
use domain::auth::Permission;
use domain::cases::LineError;
use domain::id_number::IdNumberError;
use domain::phone::PhoneError;
use domain::{ApiError, Conflict, Entity, InputProblem};

/// An error as the operator reads it.
pub fn error_text(lang: Lang, e: &ApiError) -> String {
    let t = |k: T| k.text(lang);
    match e {
        ApiError::NotLoggedIn => t(T::NotLoggedIn).to_owned(),
        ApiError::SessionExpired => t(T::SessionExpired).to_owned(),
        ApiError::InvalidCredentials { max_failures, lock_minutes } => {
            fill(t(T::WrongPassword), &[("n", max_failures), ("m", lock_minutes)])
        }
        ApiError::OperatorLocked { until } => fill(t(T::OperatorLocked), &[("until", &fmt_time(*until))]),
        ApiError::Forbidden { permission } => {
            fill(t(T::Forbidden), &[("permission", &permission_text(*permission).text(lang))])
        }
        ApiError::InvalidInput { field, problem } => fill(
            t(T::InvalidField),
            &[("field", &field_text(field, lang)), ("problem", &problem_text(problem, lang))],
        ),
        ApiError::NotFound { entity } => {
            fill(t(T::NotFoundEntity), &[("entity", &entity_text(*entity).text(lang))])
        }
        ApiError::Conflict { conflict } => {
            fill(t(T::ConflictReason), &[("reason", &conflict_text(conflict, lang))])
        }
        ApiError::BudgetExhausted { until } => fill(t(T::BudgetExhausted), &[("until", &fmt_time(*until))]),
        ApiError::Gateway { service, problem } => gateway_text(*service, problem, lang),
        ApiError::InvalidDatabaseUrl { reason } => fill(t(T::DbInvalidUrl), &[("reason", reason)]),
        ApiError::DatabaseUnreachable { location, reason } => {
            fill(t(T::DbUnreachable), &[("location", location), ("reason", reason)])
        }
        ApiError::DatabaseTooNew { found, supported } => {
            fill(t(T::DbTooNew), &[("found", found), ("supported", supported)])
        }
        ApiError::DatabaseNeedsTls { host } => fill(t(T::DbNeedsTls), &[("host", host)]),
        ApiError::DatabaseNeedsMigration { found, supported } => {
            fill(t(T::DbNeedsMigration), &[("found", found), ("supported", supported)])
        }
        ApiError::DatabaseCorrupt { path, reason } => {
            fill(t(T::DbCorrupt), &[("path", path), ("reason", reason)])
        }
        ApiError::DatabaseBusy => t(T::DbBusy).to_owned(),
        ApiError::Database { message } => fill(t(T::DbError), &[("message", message)]),
        ApiError::PiiKeyMismatch => t(T::PiiKeyMismatch).to_owned(),
        ApiError::OperatorDisabled => t(T::OperatorDisabled).to_owned(),
        ApiError::PasswordChangeRequired => t(T::PasswordChangeRequired).to_owned(),
        ApiError::GatewaysMissing => t(T::GatewaysMissing).to_owned(),
        ApiError::Unavailable { message } => fill(t(T::Unavailable), &[("message", message)]),
        ApiError::StatementFile { file, error } => crate::statement_error_text(file, error, lang),
    }
}

/// The name of a permission.
pub fn permission_text(p: Permission) -> T {
    match p {
        Permission::CustomerView => T::PermCustomerView,
        Permission::PiiReveal => T::PermPiiReveal,
        Permission::AuditView => T::PermAuditView,
        Permission::RecycledReview => T::PermRecycledReview,
        Permission::RecycledApprove => T::PermRecycledApprove,
        Permission::ForceUnbind => T::PermForceUnbind,
        Permission::SuspenseView => T::PermSuspenseView,
        Permission::SuspenseResolve => T::PermSuspenseResolve,
        Permission::SuspenseApprove => T::PermSuspenseApprove,
        Permission::VirtualAccountView => T::PermVirtualAccountView,
        Permission::VirtualAccountOperate => T::PermVirtualAccountOperate,
        Permission::VirtualAccountApprove => T::PermVirtualAccountApprove,
        Permission::OperatorManage => T::PermOperatorManage,
        Permission::StatementImport => T::PermStatementImport,
        Permission::ReconcileRun => T::PermReconcileRun,
    }
}

/// A request or file field's name; an unknown field code is shown as it is.
pub fn field_text(field: &str, lang: Lang) -> String {
    let key = match field {
        "username" => T::FieldUsername,
        "query" => T::FieldQuery,
        "reason" => T::FieldReason,
        "phone" => T::FieldPhone,
        "id_number" => T::FieldIdNumber,
        "card_number" => T::FieldCardNumber,
        "note" => T::FieldNote,
        "view_name" => T::FieldViewName,
        "name" => T::FieldName,
        "path" => T::FieldPath,
        "to" => T::FieldTo,
        "settings" => T::FieldSettings,
        "case_ids" => T::FieldCaseIds,
        "user_id" => T::FieldUserId,
        "decision" => T::FieldDecision,
        "header" => T::FieldHeader,
        "entry_at" => T::FieldEntryAt,
        "event" => T::FieldEvent,
        "event_at" => T::FieldEventAt,
        "carrier" => T::FieldCarrier,
        "province" => T::FieldProvince,
        "csv" => T::FieldCsv,
        "file" => T::FieldFile,
        "password" => T::FieldNewPassword,
        "current_password" => T::FieldCurrentPassword,
        "older_than_hours" => T::FilterOlderHours,
        "contract_ref" => T::FieldContractRef,
        "reference" => T::FieldReference,
        "number" => T::FieldNumber,
        "items" => T::FieldItems,
        "until" => T::FieldUntil,
        "amount" => T::FieldAmount,
        "fee" => T::FieldFee,
        "preset" => T::FieldPreset,
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}

/// What is wrong with a field, worded to follow the field's name.
pub fn problem_text(p: &InputProblem, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match p {
        InputProblem::Required => t(T::ProblemRequired),
        InputProblem::TooShort { min_chars } => fill(&t(T::ProblemTooShort), &[("n", min_chars)]),
        InputProblem::Phone { error } => match error {
            PhoneError::Length(n) => fill(&t(T::ProblemPhoneLength), &[("n", n)]),
            PhoneError::NotDigits => t(T::ProblemDigitsOnly),
            PhoneError::Prefix => t(T::ProblemPhonePrefix),
        },
        InputProblem::IdNumber { error } => match error {
            IdNumberError::Length(n) => fill(&t(T::ProblemIdLength), &[("n", n)]),
            IdNumberError::Characters => t(T::ProblemIdCharacters),
            IdNumberError::BirthDate => t(T::ProblemIdBirthDate),
            IdNumberError::CheckCharacter { expected } => fill(&t(T::ProblemIdCheck), &[("c", expected)]),
        },
        InputProblem::CardDigits => t(T::ProblemCardDigits),
        InputProblem::NotATime { text } => fill(&t(T::ProblemNotATime), &[("text", text)]),
        InputProblem::UnknownEvent { text } => fill(&t(T::ProblemUnknownEvent), &[("text", text)]),
        InputProblem::MissingColumn { header } => fill(&t(T::ProblemMissingColumn), &[("header", header)]),
        InputProblem::EmptyFile => t(T::ProblemEmptyFile),
        InputProblem::Encoding { encoding } => fill(&t(T::ProblemEncoding), &[("encoding", encoding)]),
        InputProblem::Csv { detail } => fill(&t(T::ProblemCsv), &[("detail", detail)]),
        InputProblem::Unreadable { detail } => fill(&t(T::ProblemUnreadable), &[("detail", detail)]),
        InputProblem::NotAFile => t(T::ProblemNotAFile),
        InputProblem::Amount => t(T::ProblemAmount),
        InputProblem::VirtualNumber { .. } => t(T::ProblemVirtualNumber),
        InputProblem::DateRange => t(T::ProblemDateRange),
        InputProblem::SameAccount => t(T::ProblemSameAccount),
        InputProblem::WeakPassword { rule } => match rule {
            domain::auth::PasswordRule::TooShort => {
                fill(&t(T::ProblemPasswordShort), &[("n", &domain::auth::MIN_PASSWORD_CHARS)])
            }
            domain::auth::PasswordRule::ContainsUsername => t(T::ProblemPasswordUsername),
            domain::auth::PasswordRule::Common => t(T::ProblemPasswordCommon),
        },
        InputProblem::FileTooLarge { max_bytes } => {
            fill(&t(T::ProblemFileTooLarge), &[("mb", &(max_bytes >> 20))])
        }
        InputProblem::LineTooLong { max_bytes } => fill(&t(T::ProblemLineTooLong), &[("n", max_bytes)]),
        InputProblem::TooMany { max } => fill(&t(T::ProblemTooMany), &[("n", max)]),
        InputProblem::OutOfRange => t(T::ProblemOutOfRange),
        InputProblem::NotCaseNumber => t(T::ProblemNotCaseNumber),
        InputProblem::NoSuchOperator => t(T::ProblemNoSuchOperator),
        InputProblem::CannotWorkCases => t(T::ProblemCannotWorkCases),
        InputProblem::NotRealNameVerified => t(T::ProblemNotRealName),
        InputProblem::UseWizard => t(T::ProblemUseWizard),
        InputProblem::UnknownChoice { text } => fill(&t(T::ProblemUnknownChoice), &[("text", text)]),
    }
}

/// One bad line of a carrier file: file, line, field and what is wrong.
pub fn line_error_text(e: &LineError, lang: Lang) -> String {
    fill(
        T::LineErrorText.text(lang),
        &[
            ("file", &e.file),
            ("line", &e.line),
            ("field", &field_text(&e.field, lang)),
            ("problem", &problem_text(&e.problem, lang)),
        ],
    )
}

/// What kind of record.
pub fn entity_text(e: Entity) -> T {
    match e {
        Entity::Customer => T::EntityCustomer,
        Entity::User => T::EntityUser,
        Entity::Field => T::EntityField,
        Entity::Operator => T::EntityOperator,
        Entity::Case => T::EntityCase,
        Entity::Binding => T::EntityBinding,
        Entity::ImportJob => T::EntityImportJob,
        Entity::Wizard => T::EntityWizard,
        Entity::Phone => T::EntityPhone,
        Entity::PhysicalAccount => T::EntityPhysicalAccount,
        Entity::SubAccount => T::EntitySubAccount,
        Entity::Transfer => T::EntityTransfer,
        Entity::Hold => T::EntityHold,
        Entity::Proposal => T::EntityProposal,
        Entity::SuspenseItem => T::EntitySuspenseItem,
        Entity::StatementLine => T::EntityStatementLine,
        Entity::Match => T::EntityMatch,
        Entity::OurItem => T::EntityOurItem,
    }
}

/// Why an action cannot happen now.
pub fn conflict_text(c: &Conflict, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    match c {
        Conflict::ClaimedBy { by } => fill(&t(T::ConflictClaimedBy), &[("by", by)]),
        Conflict::NotHolder => t(T::ConflictNotHolder),
        Conflict::ClaimFirst => t(T::ConflictClaimFirst),
        Conflict::CaseStatus { status } => {
            fill(&t(T::ConflictCaseStatus), &[("status", &t(case_status(*status)))])
        }
        Conflict::CaseClosed => t(T::ConflictCaseClosed),
        Conflict::MakerIsChecker => t(T::ConflictMakerIsChecker),
        Conflict::InFreezeWindow { until } => fill(&t(T::ConflictInFreeze), &[("until", &fmt_time(*until))]),
        Conflict::NoLongerBound => t(T::ConflictNoLongerBound),
        Conflict::PhoneTaken => t(T::ConflictPhoneTaken),
        Conflict::NoSmsBlock => t(T::ConflictNoSmsBlock),
        Conflict::NoUnblockRequest => t(T::ConflictNoUnblockRequest),
        Conflict::CarrierCheckFailed => t(T::ConflictCarrierCheckFailed),
        Conflict::CarrierStepNotPassed => t(T::ConflictCarrierStep),
        Conflict::ChecksNotPassed => t(T::ConflictChecksNotPassed),
        Conflict::OthersWizard => t(T::ConflictOthersWizard),
        Conflict::Changed => t(T::ConflictChanged),
        Conflict::OwnAccount => t(T::ConflictOwnAccount),
        Conflict::Expired => t(T::ConflictExpired),
        Conflict::Exists { entity } => fill(&t(T::ConflictExists), &[("entity", &t(entity_text(*entity)))]),
        Conflict::InsufficientFunds => t(T::ConflictInsufficientFunds),
        Conflict::AccountStatus { status } => {
            fill(&t(T::ConflictAccountStatus), &[("status", &t(virtual_status(*status)))])
        }
        Conflict::KeyReused => t(T::ConflictKeyReused),
        Conflict::AlreadyReversed => t(T::ConflictAlreadyReversed),
        Conflict::ProposalDecided => t(T::ConflictProposalDecided),
        Conflict::StalePreview => t(T::ConflictStalePreview),
        Conflict::CloseBlocked { blockers } => {
            let list: Vec<String> = blockers.iter().map(|b| close_blocker_text(b, lang)).collect();
            fill(&t(T::ConflictCloseBlocked), &[("blockers", &list.join(lang_separator(lang)))])
        }
        Conflict::OtherPhysicalAccount => t(T::ConflictOtherPhysical),
        Conflict::SuspenseStatus { status } => {
            fill(&t(T::ConflictSuspenseStatus), &[("status", &t(crate::suspense_status(*status)))])
        }
        Conflict::ActionNotForKind { action, kind } => fill(
            &t(T::ConflictActionNotForKind),
            &[("action", &t(crate::action_kind(*action))), ("kind", &t(crate::suspense_kind(*kind)))],
        ),
        Conflict::AmountsDiffer { difference_minor } => fill(
            &t(T::ConflictAmountsDiffer),
            &[("amount", &domain::money::Cny::from_minor(*difference_minor))],
        ),
        Conflict::DayClosed { day } => fill(&t(T::ConflictDayClosed), &[("day", day)]),
        Conflict::StatementDoesNotAddUp { statement_id, difference_minor } => fill(
            &t(T::ConflictStatementDoesNotAddUp),
            &[("id", statement_id), ("amount", &domain::money::Cny::from_minor(*difference_minor))],
        ),
        Conflict::ApprovalNeedsRole { role } => {
            fill(&t(T::ConflictApprovalNeedsRole), &[("role", &t(crate::role_name(*role)))])
        }
        Conflict::UnknownAccount { account } => fill(&t(T::ConflictUnknownAccount), &[("account", account)]),
        Conflict::MatchStatus { status } => {
            fill(&t(T::ConflictMatchStatus), &[("status", &crate::match_status_code_text(status, lang))])
        }
    }
}

/// Words for a sub-account status.
pub fn virtual_status(status: domain::ledger::VirtualStatus) -> T {
    use domain::ledger::VirtualStatus as S;
    match status {
        S::Active => T::VStatusActive,
        S::Frozen => T::VStatusFrozen,
        S::Closing => T::VStatusClosing,
        S::Closed => T::VStatusClosed,
        S::Quarantined => T::VStatusQuarantined,
    }
}

/// One reason a sub-account cannot close, with its figures.
pub fn close_blocker_text(b: &domain::ledger::CloseBlocker, lang: Lang) -> String {
    use domain::ledger::CloseBlocker as B;
    let t = |k: T| k.text(lang).to_owned();
    let yuan = |minor: i64| domain::money::Cny::from_minor(minor).to_string();
    match b {
        B::NonZeroBalance { balance_minor } => {
            fill(&t(T::BlockerNonZero), &[("amount", &yuan(*balance_minor))])
        }
        B::ActiveHolds { count, held_minor } => {
            fill(&t(T::BlockerHolds), &[("count", count), ("amount", &yuan(*held_minor))])
        }
        B::PendingCredits { count } => fill(&t(T::BlockerPendingCredits), &[("count", count)]),
        B::OpenChildren { count } => fill(&t(T::BlockerOpenChildren), &[("count", count)]),
        B::UnallocatedInterest { interest_minor } => {
            fill(&t(T::BlockerInterest), &[("amount", &yuan(*interest_minor))])
        }
    }
}

/// Between items of a list in running text.
fn lang_separator(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "；",
        Lang::En => "; ",
    }
}

/// A gateway failure.
pub fn gateway_text(service: GatewayService, p: &GatewayProblem, lang: Lang) -> String {
    let t = |k: T| k.text(lang).to_owned();
    let problem = match p {
        GatewayProblem::NotConfigured => t(T::GwNotConfigured),
        GatewayProblem::Timeout { timeout_ms, attempts } => {
            fill(&t(T::GwTimeout), &[("ms", timeout_ms), ("n", attempts)])
        }
        GatewayProblem::Connect { endpoint } => fill(&t(T::GwConnect), &[("endpoint", endpoint)]),
        GatewayProblem::Http { status } => fill(&t(T::GwHttp), &[("status", status)]),
        GatewayProblem::Rejected { code } => fill(&t(T::GwRejected), &[("code", code)]),
        GatewayProblem::Protocol => t(T::GwProtocol),
        GatewayProblem::NeedsTls { endpoint } => fill(&t(T::GwNeedsTls), &[("endpoint", endpoint)]),
        GatewayProblem::BadCaFile { path } => fill(&t(T::GwBadCaFile), &[("path", path)]),
    };
    let service = match service {
        GatewayService::Carrier => t(T::ServiceCarrier),
        GatewayService::Bank => t(T::ServiceBank),
    };
    fill(&t(T::GatewayFailed), &[("service", &service), ("problem", &problem)])
}
