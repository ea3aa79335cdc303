//! Every string the UI shows, in Chinese (default) and English.
//!
//! Views never hard-code text: they ask for a [`T`] key. Parameters are written
//! `{name}` and filled with [`fill`].

use serde::{Deserialize, Serialize};

/// UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    /// 简体中文.
    #[default]
    Zh,
    /// English.
    En,
}

macro_rules! catalogue {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A catalogue key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum T { $($key),* }

        impl T {
            /// Every key, for completeness tests.
            pub const ALL: &'static [T] = &[$(T::$key),*];

            /// The text in `lang`.
            pub fn text(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((T::$key, Lang::Zh) => $zh, (T::$key, Lang::En) => $en,)*
                }
            }
        }
    };
}

catalogue! {
    AppTitle => "号务与差错运营台", "Ops Console";
    Username => "用户名", "Username";
    Password => "密码", "Password";
    LogIn => "登录", "Log in";
    LogOut => "退出登录", "Log out";
    LoggingIn => "正在登录…", "Logging in…";
    Loading => "加载中…", "Loading…";
    WrongPassword => "用户名或密码错误，还可尝试 {n} 次", "Wrong username or password; {n} attempts left";
    OperatorLocked => "该操作员已锁定，请于 {until} 后再试或联系管理员", "Operator locked until {until}; try later or ask an admin";
    SessionExpired => "长时间未操作，会话已超时，请重新登录", "Session timed out after inactivity; please log in again";
    NotLoggedIn => "请先登录", "Please log in";
    Forbidden => "无权执行此操作（需要权限：{permission}）", "Not permitted (needs permission: {permission})";
    InvalidInput => "输入有误：{field}{problem}", "Invalid input: {field} {problem}";
    ProblemRequired => "不能为空", "is required";
    ProblemTooShort => "至少需要 {n} 个字", "needs at least {n} characters";
    FieldUsername => "用户名", "username";
    FieldQuery => "搜索内容", "search";
    FieldReason => "查看原因", "reason";
    NotFound => "未找到：{what}", "Not found: {what}";
    DbInvalidUrl => "数据库地址无效：{reason}", "Invalid database URL: {reason}";
    DbUnreachable => "无法连接数据库 {location}：{reason}", "Cannot reach database {location}: {reason}";
    DbTooNew => "数据库版本（{found}）比本程序支持的版本（{supported}）新，请升级运营台", "Database schema {found} is newer than this console supports ({supported}); please upgrade";
    DbCorrupt => "数据库文件 {path} 已损坏或不是数据库：{reason}", "Database file {path} is damaged or not a database: {reason}";
    DbError => "数据库错误：{message}", "Database error: {message}";
    Unavailable => "后台不可用：{message}", "Backend unavailable: {message}";
    StartupFailed => "无法打开数据库", "Cannot open the database";
    StartupHint => "请检查 --database-url 或 OPS_CONSOLE_DATABASE_URL 设置后重新启动。", "Check --database-url or OPS_CONSOLE_DATABASE_URL and restart.";
    AreaLookup => "客户查询", "Customer lookup";
    AreaRecycled => "二次号审核", "Recycled numbers";
    AreaForceUnbind => "强制解绑", "Force unbind";
    AreaSuspense => "挂账处理", "Suspense items";
    AreaVirtual => "虚拟子账户", "Virtual sub-accounts";
    AreaAudit => "审计日志", "Audit log";
    AreaSettings => "设置", "Settings";
    NotBuiltYet => "此功能尚未开放，将在后续版本中提供。", "This area is not available yet; it comes in a later release.";
    SearchLabel => "搜索客户", "Search customers";
    SearchHint => "手机号 / 用户ID / 邮箱 / 昵称 / 证件号后四位", "Phone / user id / email / nickname / ID last 4";
    Search => "搜索", "Search";
    NoResults => "没有找到匹配的客户", "No matching customer";
    ResultsCount => "找到 {n} 位客户", "{n} customers found";
    ColName => "姓名", "Name";
    ColIdNumber => "证件号", "ID number";
    ColUsers => "用户数", "Users";
    ColMatched => "匹配字段", "Matched on";
    Open => "打开", "Open";
    Back => "返回", "Back";
    MatchedPhone => "手机号", "phone";
    MatchedUserId => "用户ID", "user id";
    MatchedEmail => "邮箱", "email";
    MatchedNickname => "昵称", "nickname";
    MatchedIdLast4 => "证件号后四位", "ID last 4";
    Customer => "客户", "Customer";
    RealNameVerified => "已实名", "Real-name verified";
    NotVerified => "未实名", "Not verified";
    BirthYear => "出生年份", "Birth year";
    CreatedAt => "创建时间", "Created";
    User => "用户", "User";
    Phone => "手机号", "Phone";
    Email => "邮箱", "Email";
    Nickname => "昵称", "Nickname";
    Status => "状态", "Status";
    RegisteredAt => "注册时间", "Registered";
    LastLogin => "最近登录", "Last login";
    SmsResetBlocked => "短信重置密码已封禁", "SMS password reset blocked";
    NoPhone => "（未绑定手机号）", "(no phone)";
    Accounts => "账户", "Accounts";
    AccountKind => "类型", "Kind";
    Balance => "余额", "Balance";
    RealNameLevel => "实名等级", "Real-name level";
    PhoneHistory => "手机号绑定历史", "Phone-binding history";
    BoundAt => "绑定时间", "Bound";
    UnboundAt => "解绑时间", "Unbound";
    Reason => "原因", "Reason";
    BankCards => "银行卡", "Bank cards";
    Bank => "银行", "Bank";
    CardNumber => "卡号", "Card";
    ReservedPhone => "预留手机号", "Reserved phone";
    NoCards => "无绑定银行卡", "No bound cards";
    Reveal => "显示", "Reveal";
    Hide => "隐藏", "Hide";
    RevealName => "显示姓名", "Reveal name";
    RevealIdNumber => "显示证件号", "Reveal ID number";
    RevealPhone => "显示手机号", "Reveal phone";
    RevealEmail => "显示邮箱", "Reveal email";
    RevealTitle => "查看敏感信息", "Reveal sensitive data";
    RevealExplain => "查看完整信息将记入审计日志。请填写原因（至少 4 个字）。", "Revealing writes to the audit log. Give a reason (at least 4 characters).";
    RevealReason => "查看原因", "Reason for revealing";
    ConfirmReveal => "确认查看", "Confirm reveal";
    Cancel => "取消", "Cancel";
    AuditSeq => "序号", "Seq";
    AuditAt => "时间", "Time";
    AuditActor => "操作员", "Operator";
    AuditAction => "动作", "Action";
    AuditTarget => "对象", "Target";
    AuditDetail => "详情", "Detail";
    AuditHash => "哈希", "Hash";
    LoadMore => "加载更多", "Load more";
    Refresh => "刷新", "Refresh";
    VerifyChain => "校验哈希链", "Verify hash chain";
    ChainOk => "哈希链完整：已校验 {n} 条记录", "Hash chain intact: {n} rows verified";
    ChainBroken => "哈希链断裂于第 {seq} 条：{reason}", "Hash chain broken at row {seq}: {reason}";
    Language => "语言", "Language";
    Database => "数据库", "Database";
    DatabaseKind => "类型", "Kind";
    DatabaseLocation => "位置", "Location";
    SchemaVersion => "结构版本", "Schema version";
    DatabaseHowTo => "切换数据库：启动时加 --database-url postgres://… 或设置环境变量 OPS_CONSOLE_DATABASE_URL。", "To switch database, start with --database-url postgres://… or set OPS_CONSOLE_DATABASE_URL.";
    SignedInAs => "当前操作员", "Signed in as";
    Role => "角色", "Role";
    IdleLock => "空闲 {n} 分钟后自动锁定", "Locks after {n} idle minutes";
    RoleCsAgent => "客服", "Customer service";
    RoleFinanceReviewer => "财务复核", "Finance reviewer";
    RoleSupervisor => "主管", "Supervisor";
    RoleAuditor => "稽核", "Auditor";
    RoleAdmin => "管理员", "Administrator";
    KindCash => "现金", "Cash";
    KindRedPacket => "红包", "Red packets";
    KindPoints => "积分", "Points";
    StatusActive => "正常", "Active";
    StatusFrozen => "冻结", "Frozen";
    StatusClosed => "已注销", "Closed";
    StatusEnded => "已解约", "Ended";
    StatusNeedsResign => "需重新签约", "Needs re-signing";
    StatusResignRequired => "需重新签约", "Needs re-signing";
    FieldPhone => "手机号", "phone";
    FieldIdNumber => "证件号", "ID number";
    FieldCardNumber => "卡号", "card number";
    FieldNote => "备注", "note";
    FieldName => "姓名", "name";
    FieldPath => "文件路径", "file path";
    Conflict => "无法执行：{what}", "Cannot do that: {what}";
    BudgetExhausted => "核验次数已用尽，为避免银行锁卡，请于 {until} 后再试", "Attempt budget spent; to keep the bank from locking the card, try after {until}";
    GatewayError => "{service} 接口错误：{message}", "{service} gateway error: {message}";
    CaseOpen => "待处理", "Open";
    CasePending => "待复核", "Pending approval";
    CaseEscalated => "已升级", "Escalated";
    CaseConfirmed => "已确认二次号", "Confirmed recycled";
    CaseNotRecycled => "非二次号", "Not recycled";
    CaseForceUnbound => "已强制解绑", "Force-unbound";
    SourceEntryTime => "入网时间晚于绑定", "Entry after binding";
    SourceNotice => "运营商通知", "Carrier notice";
    SourcePort => "携号转网", "Ported";
    SourceRegistration => "注册冲突", "Registration clash";
    SourceSmsReset => "短信重置", "SMS reset";
    SourceGateway => "运营商查询", "Carrier query";
    ReasonSameHolder => "同一机主", "Same holder";
    ReasonFamilyTransfer => "家庭内过户", "Family transfer";
    ReasonPorted => "携号转网", "Ported";
    ReasonDataError => "数据错误", "Data error";
    ReasonReclaimed => "冻结期内已找回", "Reclaimed in freeze window";
    FilterStatus => "状态", "Status";
    FilterSource => "来源", "Source";
    FilterPhone => "号码", "Number";
    FilterMinRisk => "最低风险", "Min risk";
    FilterOlderHours => "超过小时", "Older than h";
    FilterCarrier => "运营商", "Carrier";
    FilterProvince => "省份", "Province";
    AnyActive => "全部待处理", "All active";
    Any => "全部", "Any";
    Sort => "排序", "Sort";
    SortRisk => "风险从高到低", "Highest risk";
    SortOldest => "最早优先", "Oldest first";
    SortNewest => "最新优先", "Newest first";
    MineOnly => "只看我的", "Mine only";
    SavedViews => "视图：", "Views:";
    ViewName => "视图名称", "View name";
    SaveView => "保存视图", "Save view";
    ImportCarrierFile => "导入运营商文件", "Import carrier file";
    ImportHint => "CSV（UTF-8 或 GBK）：号码,入网时间,事件,事件时间,运营商[,省份]；时间按北京时间。整批校验，有错不入库；同一文件重复导入不会重复入库。", "CSV (UTF-8 or GBK): phone,entry_at,event,event_at,carrier[,province]; Beijing time. Checked as a whole: any bad line and nothing is written; the same file twice adds nothing.";
    FilePath => "文件路径", "File path";
    PickFile => "选择文件…", "Choose file…";
    Import => "导入", "Import";
    ImportReading => "正在读取校验：{n} 行", "Reading and checking: {n} lines";
    ImportWriting => "正在写入：{n} 行", "Writing: {n} lines";
    ImportDone => "导入完成：{file}（{encoding}）{lines} 行，其中 {matched} 行是我方号码的证据，新建案件 {opened}，补充证据 {updated}", "Imported {file} ({encoding}): {lines} lines, {matched} of them evidence about our numbers, {opened} cases opened, {updated} updated";
    ImportAlready => "文件 {file} 已导入过，本次未做任何更改", "{file} was imported before; nothing changed";
    ImportRejected => "文件有 {n} 处错误，未导入任何数据：", "{n} errors in the file; nothing was imported:";
    ClaimNext => "领取下一件", "Claim next";
    NothingToClaim => "没有可领取的案件", "No case to claim";
    BulkNotRecycled => "批量判定非二次号（{n}）", "Bulk: not recycled ({n})";
    BulkDryRun => "预演：{n} 件将判定为「{reason}」，{skipped} 件跳过。确认执行？", "Dry run: {n} cases would close as \"{reason}\", {skipped} skipped. Go ahead?";
    BulkConfirm => "确认执行", "Run it";
    BulkDone => "已处理 {n} 件", "{n} cases closed";
    Note => "备注", "Note";
    QueueEmpty => "没有符合条件的案件", "No cases match";
    Risk => "风险", "Risk";
    Actions => "操作", "Actions";
    Carrier => "运营商", "Carrier";
    Province => "省份", "Province";
    Age => "时长", "Age";
    AgeHours => "{n} 小时", "{n} h";
    PastSla => "超时", "past SLA";
    ClaimedBy => "处理人", "Held by";
    PrevPage => "上一页", "Previous";
    NextPage => "下一页", "Next";
    ManualOnlyTag => "（人工）", " (manual)";
    ManualOnly => "携号转网或运营商无法判断：只能人工决定，系统不会自动处理", "Ported or unknown to the carrier: manual decision only, nothing happens automatically";
    InFreeze => "冻结期至 {until}：原用户仍可找回号码，期间不能确认二次号", "Freeze window until {until}: the old user may still reclaim the number; no confirmation before then";
    OldUser => "原用户", "Old user";
    EntryAt => "入网时间", "Entry time";
    StillBound => "仍为登录手机号", "Still the login phone";
    Yes => "是", "Yes";
    No => "否", "No";
    RiskLine => "风险分 {score} = {formula}（有效卡 {cards}，代扣 {debits}，距上次登录 {days} 天）", "Risk {score} = {formula} (cards {cards}, direct debits {debits}, days since login {days})";
    ProposalBy => "{by} 提议：{decision}，等待复核", "{by} proposed {decision}; waiting for a checker";
    DecidedBy => "决定：{decision}（{reason}），经办 {by}，复核 {checker}", "Decision: {decision} ({reason}), maker {by}, checker {checker}";
    EvidenceHash => "证据包 SHA-256", "Evidence pack SHA-256";
    Claim => "领取", "Claim";
    Release => "释放", "Release";
    CheckCarrier => "查询运营商", "Ask the carrier";
    ExportEvidence => "导出证据包", "Export evidence pack";
    EvidenceWritten => "证据包已导出：{path}（SHA-256 {sha}，已记入审计日志）", "Evidence pack written: {path} (SHA-256 {sha}, in the audit log)";
    StartForceUnbind => "为新号主强制解绑", "Force-unbind for the new holder";
    ConfirmRecycled => "确认二次号", "Confirm recycled";
    NotRecycled => "非二次号", "Not recycled";
    Escalate => "升级主管", "Escalate";
    NeedsChecker => "确认二次号需要另一位主管复核（四眼原则）", "Confirming needs a second person's approval (four-eyes)";
    Approve => "复核通过", "Approve";
    RejectProposal => "复核驳回", "Reject";
    ReassignTo => "转交给", "Reassign to";
    Reassign => "转交", "Reassign";
    SentForApproval => "已提交，等待复核", "Sent for approval";
    Saved => "已保存", "Saved";
    Timeline => "号码时间线", "Number timeline";
    TlRegistered => "用户注册", "User registered";
    TlLogin => "最近登录", "Last login";
    TlBound => "绑定手机号", "Phone bound";
    TlUnbound => "解绑手机号", "Phone unbound";
    TlCancel => "运营商：销户", "Carrier: cancelled";
    TlTransfer => "运营商：过户", "Carrier: transferred";
    TlReissue => "运营商：二次放号", "Carrier: reissued";
    TlPortIn => "运营商：携入", "Carrier: ported in";
    TlPortOut => "运营商：携出", "Carrier: ported out";
    TlRegistration => "注册尝试", "Registration attempt";
    TlSmsReset => "短信重置密码尝试", "SMS reset attempt";
    TlCard => "银行卡预留此号（快捷协议）", "Card reserves this number (quick-pay)";
    TlDebit => "话费代扣签约", "Phone-bill direct debit signed";
    TlDebitEnded => "话费代扣解约", "Direct debit ended";
    TlSmsBlocked => "封禁短信重置密码", "SMS reset blocked";
    TlSmsLifted => "解除短信重置封禁", "SMS reset block lifted";
    TlCarrierCheck => "运营商三要素核验", "Carrier 3-element check";
    TlBankCheck => "银行卡四要素核验", "Bank 4-element check";
    TlGateway => "运营商查询：", "Carrier query:";
    TlCase => "案件：", "Case:";
    WizardIntro => "为新号主解除原账户的手机号绑定：运营商三要素 + 入网时间晚于原绑定，再加本人名下、预留此号的银行卡四要素，全部通过后才能解绑。", "Frees the number from the old account for its new holder: carrier 3 elements + entry after the old binding, then a bank card in their name reserving this number must pass 4 elements.";
    Step1 => "第一步：号码", "Step 1: the number";
    Step2 => "第二步：新号主身份（运营商三要素）", "Step 2: the claimant (carrier 3 elements)";
    Step3 => "第三步：银行卡四要素", "Step 3: bank card, 4 elements";
    Step4 => "第四步：解绑", "Step 4: unbind";
    ClaimantPhone => "新号主手机号", "Claimant's phone";
    ClaimantName => "新号主姓名", "Claimant's name";
    ClaimantId => "新号主证件号", "Claimant's ID number";
    FindCase => "查找案件", "Find case";
    NoActiveCase => "该号码没有待处理的二次号案件", "No active recycled-number case for this number";
    WizardCase => "案件：{phone} · {status} · 风险 {risk}", "Case: {phone} · {status} · risk {risk}";
    RunCarrierCheck => "运营商核验", "Run carrier check";
    SamePerson => "申请人与原客户是同一人：这不是二次号，请走账户找回流程。", "The claimant is the old customer: not a recycled number. Use account recovery.";
    ClaimantBudget => "申请人剩余次数", "Claimant attempts";
    CardBudget => "此卡剩余次数", "Card attempts";
    BudgetLeft => "还可尝试 {n} 次", "{n} attempts left";
    BudgetLocked => "已锁定至 {until}", "locked until {until}";
    CarrierAnswer => "运营商三要素：姓名 {name}，证件号 {id}，号码 {phone}", "Carrier 3 elements: name {name}, ID {id}, number {phone}";
    TwiceTelAnswer => "号码是否易主：{answer}", "Changed hands since the old binding: {answer}";
    CarrierFailed => "运营商核验未通过，不能继续", "The carrier check failed; cannot continue";
    CarrierPassed => "运营商核验通过", "Carrier check passed";
    NoCvv => "只需卡号；不要索取或录入 CVV、有效期或密码。", "Card number only; never ask for or type CVV, expiry or PIN.";
    RunBankCheck => "银行卡核验", "Run bank check";
    BankPassed => "银行卡核验通过", "Bank check passed";
    SubmitUnbind => "提交解绑", "Submit unbind";
    UnbindDone => "已解绑：原用户手机号已移除，短信重置已封禁，新号主可注册", "Unbound: removed from the old user, SMS reset blocked, the new holder can register";
    FieldMatch => "一致", "match";
    FieldMismatch => "不一致", "mismatch";
    FieldNoRecord => "无记录", "no record";
    BankMatch => "一致", "match";
    BankMismatch => "不一致", "mismatch";
    BankInvalidCard => "无效卡号", "invalid card";
    BankAbnormal => "卡状态异常", "card status abnormal";
    BankRestricted => "受限卡", "restricted card";
    KeyboardShortcuts => "快捷键（J/K 移动，Enter 打开，C 领取，A 确认，R 驳回，Esc 返回）", "Shortcuts (J/K move, Enter open, C claim, A confirm, R reject, Esc back)";
    WorkflowSettings => "二次号流程设置（所有桌面共用）", "Recycled-number workflow (shared by all desktops)";
    FreezeDays => "冻结期（天）", "Freeze window (days)";
    LeaseMinutes => "领取时长（分钟）", "Claim lease (minutes)";
    SlaHours => "时限（小时）", "SLA (hours)";
    FourEyesAlways => "确认二次号一律需要复核", "Every confirmation needs a checker";
    FourEyesAbove => "余额不低于此金额（元）才需要复核", "Checker only at or above this balance (yuan)";
    SaveSettings => "保存设置", "Save settings";
    UnblockPhone => "原用户现用手机号", "Old user's current number";
    RequestUnblock => "申请解除短信封禁", "Ask to lift the SMS block";
    UnblockPending => "{by} 已申请解除短信封禁（运营商核验通过），等待复核", "{by} asked to lift the SMS block (carrier check passed); waiting for a checker";
    ApproveUnblock => "批准解除封禁", "Approve lifting the block";
    // ui-split
    NoticeClaimed => "已领取此案件", "Case claimed";
    NoticeReleased => "已释放此案件", "Case released";
    NoticeConfirmed => "已确认为二次号，决定已生效", "Confirmed as recycled; the decision applies";
    NoticeNotRecycled => "已判定为非二次号，案件已关闭", "Closed as not recycled";
    NoticeEscalated => "已升级给主管", "Escalated to a supervisor";
    NoticeApproved => "复核已通过，决定已生效", "Approved; the decision applies";
    NoticeRejected => "已驳回提议，案件退回待处理", "Proposal rejected; the case is open again";
    NoticeReassigned => "已转交给 {to}", "Reassigned to {to}";
    NoticeUnblockRequested => "已申请解除短信封禁，等待复核", "Asked to lift the SMS block; waiting for a checker";
    NoticeUnblockApproved => "已批准解除短信封禁", "Lifting the SMS block approved";
    WorkflowSaved => "二次号流程设置已保存", "Workflow settings saved";
}

/// The catalogue text for a stored code (account kind or status); unknown codes are
/// shown as they are, so new codes never disappear from the screen.
pub fn code_text(code: &str, lang: Lang) -> String {
    let key = match code {
        "cash" => T::KindCash,
        "red_packet" => T::KindRedPacket,
        "points" => T::KindPoints,
        "active" => T::StatusActive,
        "frozen" => T::StatusFrozen,
        "closed" => T::StatusClosed,
        "ended" => T::StatusEnded,
        "needs_resign" => T::StatusNeedsResign,
        "resign_required" => T::StatusResignRequired,
        other => return other.to_owned(),
    };
    key.text(lang).to_owned()
}

/// Replaces each `{name}` in `template` with its value.
pub fn fill(template: &str, params: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in params {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_key_has_both_languages_and_same_parameters() {
        let params = |s: &str| {
            s.split('{')
                .skip(1)
                .filter_map(|p| p.split_once('}').map(|(n, _)| n.to_owned()))
                .collect::<HashSet<_>>()
        };
        for key in T::ALL {
            let (zh, en) = (key.text(Lang::Zh), key.text(Lang::En));
            assert!(!zh.is_empty() && !en.is_empty(), "{key:?}");
            assert_eq!(params(zh), params(en), "{key:?} parameters differ");
        }
    }

    #[test]
    fn fills_parameters() {
        assert_eq!(
            fill(T::WrongPassword.text(Lang::En), &[("n", &3)]),
            "Wrong username or password; 3 attempts left"
        );
    }
}
