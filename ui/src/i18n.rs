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
