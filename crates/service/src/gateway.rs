//! External services: the carrier (number history, tenure, 3-element identity
//! check) and the bank (4-element card check, credit notices, balances, returns to
//! the payer). Each sits behind a trait;
//! [`HttpCarrierGateway`] / [`HttpBankGateway`] speak the JSON protocol documented
//! in `docs/GATEWAYS.md`, which the simulator (`simulator.rs`) also serves.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::recycle::{BankAnswer, ThreeElementAnswer, TwiceTelAnswer};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A gateway failure, classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No answer within the timeout (after retries).
    #[error("no answer within {timeout_ms} ms (after {attempts} attempts)")]
    Timeout {
        /// Per-attempt timeout.
        timeout_ms: u64,
        /// Attempts made.
        attempts: u32,
    },
    /// Could not connect.
    #[error("cannot connect to {endpoint}: {reason}")]
    Connect {
        /// Endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The service answered with an HTTP error.
    #[error("HTTP {status} from {endpoint}")]
    Http {
        /// Status code.
        status: u16,
        /// Endpoint.
        endpoint: String,
    },
    /// The service refused the request with an error code.
    #[error("{code}: {message}")]
    Rejected {
        /// Error code (e.g. `InvalidParameter`).
        code: String,
        /// Message.
        message: String,
    },
    /// The answer did not follow the protocol.
    #[error("unexpected answer: {0}")]
    Protocol(String),
    /// Plain HTTP to another machine (or another scheme): refused before any request.
    #[error("{endpoint}: only https may leave this machine")]
    NeedsTls {
        /// Endpoint.
        endpoint: String,
    },
    /// The private CA file cannot be used.
    #[error("CA file {path}: {reason}")]
    BadCaFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Carrier services.
#[async_trait]
pub trait CarrierGateway: Send + Sync {
    /// Has the number changed hands since `since`? (Aliyun `DescribePhoneTwiceTelVerify`.)
    async fn twice_tel(&self, phone: &str, since: DateTime<Utc>) -> Result<TwiceTelAnswer, GatewayError>;
    /// The number's network-entry time and status.
    async fn tenure(&self, phone: &str) -> Result<Tenure, GatewayError>;
    /// Name + ID number + phone against the subscriber's real-name record.
    async fn three_elements(
        &self,
        name: &str,
        id_number: &str,
        phone: &str,
    ) -> Result<ThreeElementAnswer, GatewayError>;
}

/// Bank services.
#[async_trait]
pub trait BankGateway: Send + Sync {
    /// Name, ID number, card number and reserved phone against the issuing bank.
    async fn four_elements(&self, req: &FourElementRequest) -> Result<FourElementAnswer, GatewayError>;
    /// Credit notices of a physical account after `cursor` (idempotent: the same
    /// cursor gives the same page).
    async fn credits(&self, req: &CreditsRequest) -> Result<CreditPage, GatewayError>;
    /// The bank's balance of a physical account (fen).
    async fn balance(&self, req: &BalanceRequest) -> Result<BankBalance, GatewayError>;
    /// Pays an incoming credit back to its payer. Idempotent by
    /// `instruction_id`: a resend answers the first answer and moves no money twice.
    async fn return_payment(&self, req: &ReturnRequest) -> Result<ReturnAnswer, GatewayError>;
}

/// `POST /bank/v1/returns`: pay an incoming credit back to whoever sent it.
/// `Debug` is masked: logs never see the payer's name or full account.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRequest {
    /// Our physical account the money is in.
    pub account_number: String,
    /// The bank's reference of the original incoming credit.
    pub original_bank_ref: String,
    /// Amount to return (fen, positive): the whole credit.
    pub amount_minor: i64,
    /// The payer's name as the statement line (or notice) had it.
    pub payer_name: Option<String>,
    /// The payer's account as the statement line had it (notices carry none: the
    /// bank returns by its own reference).
    pub payer_account: Option<String>,
    /// Our instruction id (UUIDv7): the bank's idempotency key.
    pub instruction_id: uuid::Uuid,
    /// ISO 20022 return reason code (`AC03` no such creditor account: the virtual
    /// number names no sub-account; `CUST` returned at our request: nothing on our
    /// side expected it).
    pub reason_code: String,
}

impl std::fmt::Debug for ReturnRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tail = |a: &String| format!("…{}", a.get(a.len().saturating_sub(4)..).unwrap_or(""));
        f.debug_struct("ReturnRequest")
            .field("account_number", &tail(&self.account_number))
            .field("original_bank_ref", &self.original_bank_ref)
            .field("amount_minor", &self.amount_minor)
            .field("payer_name", &self.payer_name.as_deref().map(domain::mask::name))
            .field("payer_account", &self.payer_account.as_ref().map(tail))
            .field("instruction_id", &self.instruction_id)
            .field("reason_code", &self.reason_code)
            .finish()
    }
}

/// The bank's answer to a return: accepted with its reference, or refused with a
/// reason. (Failures to get an answer are [`GatewayError`]s: the instruction is
/// sent again later with the same id.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ReturnAnswer {
    /// The bank booked the return.
    Accepted {
        /// The bank's reference of the outgoing return.
        bank_ref: String,
    },
    /// The bank refused it; the money stays on the physical account.
    Rejected {
        /// Why.
        reason: ReturnRejection,
        /// The bank's words, for the log (never shown as-is).
        #[serde(default)]
        message: String,
    },
}

/// Why the bank refused a return. A code this build does not know is kept as
/// [`ReturnRejection::Other`]: still a refusal, never a failure to retry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReturnRejection {
    /// `account_closed`: the payer's account is closed (ISO `AC04`).
    AccountClosed,
    /// `account_blocked`: the payer's account is blocked (ISO `AC06`).
    AccountBlocked,
    /// `original_not_found`: no incoming credit with that reference.
    OriginalNotFound,
    /// `already_returned`: another instruction returned that credit already.
    AlreadyReturned,
    /// `insufficient_funds`: the physical account does not hold the amount.
    InsufficientFunds,
    /// Any other code the bank sends.
    Other(String),
}

impl ReturnRejection {
    /// The wire code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AccountClosed => "account_closed",
            Self::AccountBlocked => "account_blocked",
            Self::OriginalNotFound => "original_not_found",
            Self::AlreadyReturned => "already_returned",
            Self::InsufficientFunds => "insufficient_funds",
            Self::Other(code) => code,
        }
    }

    /// From the wire code.
    pub fn from_code(code: &str) -> Self {
        match code {
            "account_closed" => Self::AccountClosed,
            "account_blocked" => Self::AccountBlocked,
            "original_not_found" => Self::OriginalNotFound,
            "already_returned" => Self::AlreadyReturned,
            "insufficient_funds" => Self::InsufficientFunds,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for ReturnRejection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ReturnRejection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::from_code(&String::deserialize(d)?))
    }
}

/// `POST /bank/v1/credits`: notices since a cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditsRequest {
    /// The physical account.
    pub account_number: String,
    /// From after this cursor; `None` from the start.
    pub cursor: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// A credit to a physical account, addressed to a virtual number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNotice {
    /// The bank's reference (unique per account).
    pub bank_ref: String,
    /// The payee number the payer used (physical number + suffix + check digit).
    pub payee_number: String,
    /// Amount (fen).
    pub amount_minor: i64,
    /// Payer name.
    pub payer_name: String,
    /// When the bank booked it.
    pub booked_at: DateTime<Utc>,
    /// `credit` or `interest` (the bank's own interest to the physical account).
    pub kind: String,
}

/// A page of notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditPage {
    /// The notices, oldest first.
    pub notices: Vec<CreditNotice>,
    /// Cursor after the last notice (the request's when there are none).
    pub next_cursor: Option<String>,
}

/// `POST /bank/v1/balance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceRequest {
    /// The physical account.
    pub account_number: String,
}

/// The bank's balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankBalance {
    /// Fen.
    pub balance_minor: i64,
}

/// A number's tenure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenure {
    /// Network-entry time (入网时间).
    pub entry_at: DateTime<Utc>,
    /// `active`, `cancelled`, `reissued`, `ported`.
    pub status: String,
}

/// Body of a 4-element check. `Debug` is masked: logs never see the card or the ID.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FourElementRequest {
    /// Name.
    pub name: String,
    /// ID number.
    pub id_number: String,
    /// Card number.
    pub card_number: String,
    /// Reserved phone.
    pub phone: String,
}

impl std::fmt::Debug for FourElementRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let card = &self.card_number;
        let (bin, last4) =
            (card.get(..6).unwrap_or(""), card.get(card.len().saturating_sub(4)..).unwrap_or(""));
        f.debug_struct("FourElementRequest")
            .field("name", &domain::mask::name(&self.name))
            .field("id_number", &domain::mask::id_number(&self.id_number))
            .field("card_number", &domain::mask::card(bin, last4, card.len()))
            .field("phone", &domain::mask::phone(&self.phone))
            .finish()
    }
}

/// Answer of a 4-element check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FourElementAnswer {
    /// Result.
    pub result: BankAnswer,
    /// Issuing bank by BIN, when known.
    pub bank_name: Option<String>,
}

/// Wire envelope: `{"code": "OK", ...data}` or `{"code": "<Error>", "message": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// `OK` or an error code.
    pub code: String,
    /// Error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Payload when `code` is `OK`.
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub data: Option<T>,
}

fn none<T>() -> Option<T> {
    None
}

/// `twice-tel-verify` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwiceTelRequest {
    /// Number.
    pub phone: String,
    /// Our binding time.
    pub since: DateTime<Utc>,
}

/// `twice-tel-verify` answer: `0` unknown, `1` reassigned, `2` not reassigned, `3` cancelled.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TwiceTelData {
    /// The code.
    pub verify_result: u8,
}

/// `tenure` and `three-elements` requests.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhoneRequest {
    /// Number.
    pub phone: String,
    /// Name (3-element only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// ID number (3-element only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
}

/// Error codes of the protocol.
pub mod codes {
    /// Success.
    pub const OK: &str = "OK";
    /// Ported numbers are not supported by `twice-tel-verify`.
    pub const PORTED: &str = "PortedNumberNotSupported";
    /// Not a number of this carrier.
    pub const UNSUPPORTED: &str = "UnsupportedNumber";
    /// Bad request.
    pub const INVALID: &str = "InvalidParameter";
}

/// The header that carries a gateway's API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Client settings: endpoint, API key, per-attempt timeout, retries with exponential
/// backoff, and a rate limit (minimum gap between requests). `Debug` hides the key.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// Base URL, e.g. `http://127.0.0.1:7301`.
    pub endpoint: String,
    /// Per attempt.
    pub timeout_ms: u64,
    /// Extra attempts after the first, on timeouts, connection errors, 429 and 5xx.
    pub retries: u32,
    /// First backoff; doubles each retry.
    pub backoff_ms: u64,
    /// At most this many requests per second (0 = unlimited).
    pub max_per_second: u32,
    /// Sent as [`API_KEY_HEADER`] on every request; never logged.
    pub api_key: Option<String>,
    /// A private CA (PEM) to trust *instead of* the public web roots.
    pub ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("endpoint", &shown_endpoint(&self.endpoint))
            .field("timeout_ms", &self.timeout_ms)
            .field("retries", &self.retries)
            .field("backoff_ms", &self.backoff_ms)
            .field("max_per_second", &self.max_per_second)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl HttpConfig {
    /// Defaults for `endpoint`: 3 s timeout, 2 retries from 200 ms, 20 requests/s, no key.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            timeout_ms: 3_000,
            retries: 2,
            backoff_ms: 200,
            max_per_second: 20,
            api_key: None,
            ca_file: None,
        }
    }

    /// The same, sending `key` on every request.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
}

/// Customer data leaves this machine only over verified HTTPS: plain `http` is
/// for a gateway (or the simulator) on loopback.
fn require_tls_off_this_machine(endpoint: &str) -> Result<(), GatewayError> {
    let refused = || GatewayError::NeedsTls { endpoint: shown_endpoint(endpoint) };
    let url = reqwest::Url::parse(endpoint).map_err(|_| refused())?;
    match url.scheme() {
        "https" => Ok(()),
        "http" => {
            let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback { Ok(()) } else { Err(refused()) }
        }
        _ => Err(refused()),
    }
}

/// `endpoint` without user, password or query, fit for errors and logs.
fn shown_endpoint(endpoint: &str) -> String {
    match reqwest::Url::parse(endpoint) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.to_string()
        }
        Err(_) => "(unparsable URL)".to_owned(),
    }
}

/// An error with its causes: reqwest's own text ("error sending request") hides
/// the useful part (e.g. "invalid peer certificate: UnknownIssuer").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The shared HTTP machinery of both clients.
struct HttpClient {
    config: HttpConfig,
    /// The endpoint as errors and logs show it: no user, password or query.
    shown: String,
    client: reqwest::Client,
    next_slot: Mutex<Instant>,
}

impl HttpClient {
    fn new(config: HttpConfig) -> Result<Self, GatewayError> {
        require_tls_off_this_machine(&config.endpoint)?;
        // reqwest is built without a bundled crypto provider; rustls uses ring (as
        // sqlx does). Installing twice is harmless: the first one stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            // A redirect would carry the key and the customer's data to wherever it
            // points, past the rule above: a gateway that redirects is an error.
            .redirect(reqwest::redirect::Policy::none())
            // No HTTP(S)_PROXY from the environment: it would see loopback traffic in clear.
            .no_proxy()
            .https_only(config.endpoint.starts_with("https:"));
        if let Some(path) = &config.ca_file {
            let bad = |reason: String| GatewayError::BadCaFile { path: path.display().to_string(), reason };
            let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(e.to_string()))?;
            if certs.is_empty() {
                return Err(bad("no certificate in the file".into()));
            }
            builder = builder.tls_certs_only(certs);
        }
        let shown = shown_endpoint(&config.endpoint);
        let client = builder
            .build()
            .map_err(|e| GatewayError::Connect { endpoint: shown.clone(), reason: with_causes(&e) })?;
        Ok(Self { config, shown, client, next_slot: Mutex::new(Instant::now()) })
    }

    /// Waits for this request's slot under the rate limit.
    async fn pace(&self) {
        if self.config.max_per_second == 0 {
            return;
        }
        let gap = Duration::from_secs(1) / self.config.max_per_second;
        let wait = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + gap;
            slot - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    async fn post<Req: Serialize + Sync, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<T, GatewayError> {
        let url = format!("{}{path}", self.config.endpoint.trim_end_matches('/'));
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pace().await;
            let mut request = self.client.post(&url).json(body);
            if let Some(key) = &self.config.api_key {
                request = request.header(API_KEY_HEADER, key);
            }
            let outcome = request.send().await;
            let retryable = match &outcome {
                Err(e) => e.is_timeout() || e.is_connect(),
                Ok(r) => r.status().is_server_error() || r.status().as_u16() == 429,
            };
            if retryable && attempt <= self.config.retries {
                let backoff = self.config.backoff_ms.saturating_mul(1 << (attempt - 1).min(16));
                tokio::time::sleep(Duration::from_millis(backoff)).await;
                continue;
            }
            let response = outcome.map_err(|e| {
                if e.is_timeout() {
                    GatewayError::Timeout { timeout_ms: self.config.timeout_ms, attempts: attempt }
                } else {
                    GatewayError::Connect { endpoint: self.shown.clone(), reason: with_causes(&e) }
                }
            })?;
            let status = response.status();
            if !status.is_success() {
                return Err(GatewayError::Http { status: status.as_u16(), endpoint: self.shown.clone() });
            }
            let envelope: Envelope<T> =
                response.json().await.map_err(|e| GatewayError::Protocol(e.to_string()))?;
            return match (envelope.code.as_str(), envelope.data) {
                (codes::OK, Some(data)) => Ok(data),
                (codes::OK, None) => Err(GatewayError::Protocol("OK without data".into())),
                (code, _) => Err(GatewayError::Rejected {
                    code: code.to_owned(),
                    message: envelope.message.unwrap_or_default(),
                }),
            };
        }
    }
}

/// The carrier gateway over HTTP.
pub struct HttpCarrierGateway(HttpClient);

impl HttpCarrierGateway {
    /// A client for `config`.
    pub fn new(config: HttpConfig) -> Result<Arc<Self>, GatewayError> {
        Ok(Arc::new(Self(HttpClient::new(config)?)))
    }
}

#[async_trait]
impl CarrierGateway for HttpCarrierGateway {
    async fn twice_tel(&self, phone: &str, since: DateTime<Utc>) -> Result<TwiceTelAnswer, GatewayError> {
        let req = TwiceTelRequest { phone: phone.to_owned(), since };
        match self.0.post::<_, TwiceTelData>("/carrier/v1/twice-tel-verify", &req).await {
            Ok(d) => match d.verify_result {
                0 => Ok(TwiceTelAnswer::Unknown),
                1 => Ok(TwiceTelAnswer::Reassigned),
                2 => Ok(TwiceTelAnswer::NotReassigned),
                3 => Ok(TwiceTelAnswer::Cancelled),
                other => Err(GatewayError::Protocol(format!("verify_result {other}"))),
            },
            // These two are answers the rule must see, not failures.
            Err(GatewayError::Rejected { code, .. }) if code == codes::PORTED => {
                Ok(TwiceTelAnswer::PortedNotSupported)
            }
            Err(GatewayError::Rejected { code, .. }) if code == codes::UNSUPPORTED => {
                Ok(TwiceTelAnswer::Unsupported)
            }
            Err(e) => Err(e),
        }
    }

    async fn tenure(&self, phone: &str) -> Result<Tenure, GatewayError> {
        let req = PhoneRequest { phone: phone.to_owned(), name: None, id_number: None };
        self.0.post("/carrier/v1/tenure", &req).await
    }

    async fn three_elements(
        &self,
        name: &str,
        id_number: &str,
        phone: &str,
    ) -> Result<ThreeElementAnswer, GatewayError> {
        let req = PhoneRequest {
            phone: phone.to_owned(),
            name: Some(name.to_owned()),
            id_number: Some(id_number.to_owned()),
        };
        self.0.post("/carrier/v1/three-elements", &req).await
    }
}

/// The bank gateway over HTTP.
pub struct HttpBankGateway(HttpClient);

impl HttpBankGateway {
    /// A client for `config`.
    pub fn new(config: HttpConfig) -> Result<Arc<Self>, GatewayError> {
        Ok(Arc::new(Self(HttpClient::new(config)?)))
    }
}

#[async_trait]
impl BankGateway for HttpBankGateway {
    async fn four_elements(&self, req: &FourElementRequest) -> Result<FourElementAnswer, GatewayError> {
        self.0.post("/bank/v1/four-elements", req).await
    }

    async fn credits(&self, req: &CreditsRequest) -> Result<CreditPage, GatewayError> {
        self.0.post("/bank/v1/credits", req).await
    }

    async fn balance(&self, req: &BalanceRequest) -> Result<BankBalance, GatewayError> {
        self.0.post("/bank/v1/balance", req).await
    }

    async fn return_payment(&self, req: &ReturnRequest) -> Result<ReturnAnswer, GatewayError> {
        // Retried on timeouts like the others: the instruction id makes a resend safe.
        self.0.post("/bank/v1/returns", req).await
    }
}
