//! A local carrier + bank simulator serving the gateway protocol over HTTP
//! (`docs/GATEWAYS.md`) from the database's carrier records and cards. The demo
//! and the tests use it; production points the clients at the real endpoints.
//!
//! Who holds a reissued number is [`crate::seed::new_holder`]. Test cards: a
//! Luhn-valid number ending `0001` answers "abnormal status", `0002` "restricted".
//! Test payers of a return: an account ending `0004` is closed, `0006` blocked
//! (or [`Simulator::reject_returns`] refuses every new return).

use crate::gateway::{
    Envelope, FourElementAnswer, FourElementRequest, PhoneRequest, ReturnAnswer, ReturnRejection,
    ReturnRequest, Tenure, TwiceTelData, TwiceTelRequest, codes,
};
use crate::seed::new_holder;
use crate::vault::PiiVault;
use chrono::{DateTime, Utc};
use domain::card::{bank_name, luhn_valid};
use domain::recycle::{BankAnswer, FieldMatch, ThreeElementAnswer};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use store::Store;

/// Faults the tests inject: slow answers and HTTP 503s.
#[derive(Debug, Default)]
pub struct Faults {
    /// Delay every answer by this much.
    pub delay_ms: AtomicU64,
    /// Answer this many next requests with 503.
    pub fail_next: AtomicU32,
    /// Requests served (for rate-limit and retry tests).
    pub served: AtomicU32,
}

/// The simulated carrier and bank.
pub struct Simulator {
    store: Arc<dyn Store>,
    vault: PiiVault,
    /// Required on every request, like the real gateways' keys.
    api_key: Option<String>,
    /// Injected faults.
    pub faults: Arc<Faults>,
    /// The bank's side of physical accounts: balance and credit feed.
    bank_accounts: parking_lot::Mutex<std::collections::BTreeMap<String, SimBankAccount>>,
    /// Returns to payers, remembered by instruction id.
    returns: parking_lot::Mutex<SimReturns>,
    /// `POST /bank/v1/returns` requests that reached the bank (resends included).
    return_requests: AtomicU32,
}

/// The simulated bank's returns: every answer by instruction id (a resend gets
/// the first), which credits were returned, and a forced refusal for tests.
#[derive(Debug, Default)]
struct SimReturns {
    answers: std::collections::HashMap<uuid::Uuid, (ReturnRequest, ReturnAnswer)>,
    /// (physical account, original reference) → the instruction that returned it.
    returned: std::collections::HashMap<(String, String), uuid::Uuid>,
    booked: u64,
    forced: Option<ReturnRejection>,
}

/// A physical account as the simulated bank keeps it.
#[derive(Debug, Default)]
struct SimBankAccount {
    balance_minor: i64,
    feed: Vec<crate::gateway::CreditNotice>,
}

fn field(matches: bool) -> FieldMatch {
    if matches { FieldMatch::Match } else { FieldMatch::Mismatch }
}

impl Simulator {
    /// A simulator answering from `store` (cards are compared through `vault`'s keyed hash).
    pub fn new(store: Arc<dyn Store>, vault: PiiVault) -> Arc<Self> {
        Arc::new(Self {
            store,
            vault,
            api_key: None,
            faults: Arc::default(),
            bank_accounts: Default::default(),
            returns: Default::default(),
            return_requests: AtomicU32::new(0),
        })
    }

    /// A simulator that answers only requests carrying `key` (401 otherwise).
    pub fn with_api_key(store: Arc<dyn Store>, vault: PiiVault, key: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            store,
            vault,
            api_key: Some(key.into()),
            faults: Arc::default(),
            bank_accounts: Default::default(),
            returns: Default::default(),
            return_requests: AtomicU32::new(0),
        })
    }

    /// Opens (or resets) a physical account at the simulated bank with a balance.
    pub fn open_bank_account(&self, number: &str, balance_minor: i64) {
        self.bank_accounts
            .lock()
            .insert(number.to_owned(), SimBankAccount { balance_minor, feed: Vec::new() });
    }

    /// The bank books a credit to a physical account: its balance grows and the
    /// notice waits in the feed for the console's next poll.
    pub fn bank_credit(&self, number: &str, notice: crate::gateway::CreditNotice) {
        let mut accounts = self.bank_accounts.lock();
        let account = accounts.entry(number.to_owned()).or_default();
        account.balance_minor += notice.amount_minor;
        account.feed.push(notice);
    }

    /// The simulated bank's balance of a physical account, if it keeps it.
    pub fn bank_balance_of(&self, number: &str) -> Option<i64> {
        self.bank_accounts.lock().get(number).map(|a| a.balance_minor)
    }

    /// From now on every *new* return is refused with `reason` (`None`: back to
    /// the rules). A resend of an instruction already answered keeps its answer.
    pub fn reject_returns(&self, reason: Option<ReturnRejection>) {
        self.returns.lock().forced = reason;
    }

    /// `POST /bank/v1/returns` requests that reached the bank, resends included.
    pub fn return_requests(&self) -> u32 {
        self.return_requests.load(Ordering::SeqCst)
    }

    /// Returns the bank booked (money paid out), each instruction once.
    pub fn returns_booked(&self) -> u64 {
        self.returns.lock().booked
    }

    /// A return: answered once per instruction id (a resend gets the first
    /// answer); refused by the test rules; otherwise paid out of the balance.
    fn return_payment(&self, req: &ReturnRequest) -> Envelope<ReturnAnswer> {
        let refuse = |message: &str| Envelope {
            code: codes::INVALID.into(),
            message: Some(message.into()),
            data: None,
        };
        if req.amount_minor <= 0
            || req.original_bank_ref.trim().is_empty()
            || req.account_number.trim().is_empty()
            || req.reason_code.trim().is_empty()
        {
            return refuse("amount_minor, original_bank_ref, account_number and reason_code are required");
        }
        let ok =
            |answer: ReturnAnswer| Envelope { code: codes::OK.into(), message: None, data: Some(answer) };
        // Lock order: returns, then accounts (the only place holding both).
        let mut returns = self.returns.lock();
        if let Some((first, answer)) = returns.answers.get(&req.instruction_id) {
            return if first == req {
                ok(answer.clone())
            } else {
                refuse("instruction_id reused with another body")
            };
        }
        let mut accounts = self.bank_accounts.lock();
        let Some(account) = accounts.get_mut(&req.account_number) else { return unknown_account() };
        let payer = req.payer_account.as_deref().unwrap_or_default();
        let key = (req.account_number.clone(), req.original_bank_ref.clone());
        let rejected = |reason: ReturnRejection, message: &str| ReturnAnswer::Rejected {
            reason,
            message: message.to_owned(),
        };
        let answer = if let Some(reason) = returns.forced.clone() {
            rejected(reason, "refused (simulator told to)")
        } else if payer.ends_with("0004") {
            rejected(ReturnRejection::AccountClosed, "payer account closed")
        } else if payer.ends_with("0006") {
            rejected(ReturnRejection::AccountBlocked, "payer account blocked")
        } else if returns.returned.contains_key(&key) {
            rejected(ReturnRejection::AlreadyReturned, "that credit was returned already")
        } else if account.balance_minor < req.amount_minor {
            rejected(ReturnRejection::InsufficientFunds, "balance too low")
        } else {
            account.balance_minor -= req.amount_minor;
            returns.booked += 1;
            returns.returned.insert(key, req.instruction_id);
            ReturnAnswer::Accepted { bank_ref: format!("RT{:08}", returns.booked) }
        };
        returns.answers.insert(req.instruction_id, (req.clone(), answer.clone()));
        ok(answer)
    }

    fn credits(&self, req: &crate::gateway::CreditsRequest) -> Envelope<crate::gateway::CreditPage> {
        let accounts = self.bank_accounts.lock();
        let Some(account) = accounts.get(&req.account_number) else { return unknown_account() };
        let from =
            req.cursor.as_deref().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(account.feed.len());
        let to = (from + req.limit.clamp(1, 500) as usize).min(account.feed.len());
        let page = crate::gateway::CreditPage {
            notices: account.feed[from..to].to_vec(),
            next_cursor: Some(to.to_string()),
        };
        Envelope { code: codes::OK.into(), message: None, data: Some(page) }
    }

    fn bank_balance(&self, req: &crate::gateway::BalanceRequest) -> Envelope<crate::gateway::BankBalance> {
        match self.bank_accounts.lock().get(&req.account_number) {
            Some(a) => Envelope {
                code: codes::OK.into(),
                message: None,
                data: Some(crate::gateway::BankBalance { balance_minor: a.balance_minor }),
            },
            None => unknown_account(),
        }
    }

    async fn twice_tel(&self, phone: &str, since: DateTime<Utc>) -> Result<Envelope<TwiceTelData>, String> {
        let ok = |verify_result| Envelope {
            code: codes::OK.into(),
            message: None,
            data: Some(TwiceTelData { verify_result }),
        };
        let err = |code: &str, message: &str| Envelope {
            code: code.into(),
            message: Some(message.into()),
            data: None,
        };
        // Virtual-operator segments: the carrier cannot tell.
        if phone.starts_with("170") || phone.starts_with("171") {
            return Ok(ok(0));
        }
        let Some(r) = self.store.carrier_record(phone).await.map_err(|e| e.to_string())? else {
            return Ok(err(codes::UNSUPPORTED, "number not served by this carrier"));
        };
        Ok(match r.status.as_str() {
            "ported" => err(codes::PORTED, "ported numbers are not supported"),
            "cancelled" if r.updated_at > since => ok(3),
            "cancelled" => ok(2),
            _ if r.entry_at > since => ok(1),
            _ => ok(2),
        })
    }

    async fn tenure(&self, phone: &str) -> Result<Envelope<Tenure>, String> {
        Ok(match self.store.carrier_record(phone).await.map_err(|e| e.to_string())? {
            Some(r) => Envelope {
                code: codes::OK.into(),
                message: None,
                data: Some(Tenure { entry_at: r.entry_at, status: r.status }),
            },
            None => Envelope {
                code: codes::UNSUPPORTED.into(),
                message: Some("unknown number".into()),
                data: None,
            },
        })
    }

    async fn three_elements(
        &self,
        name: &str,
        id_number: &str,
        phone: &str,
    ) -> Result<ThreeElementAnswer, String> {
        let no_record = ThreeElementAnswer {
            name: FieldMatch::NoRecord,
            id_number: FieldMatch::NoRecord,
            phone: FieldMatch::NoRecord,
        };
        let Some(r) = self.store.carrier_record(phone).await.map_err(|e| e.to_string())? else {
            return Ok(no_record);
        };
        match r.status.as_str() {
            "cancelled" => Ok(no_record),
            "reissued" => {
                let holder = new_holder(phone);
                Ok(ThreeElementAnswer {
                    name: field(holder.name == name),
                    id_number: field(holder.id_number.eq_ignore_ascii_case(id_number)),
                    phone: FieldMatch::Match,
                })
            }
            _ => {
                // The subscriber of an active number: the customer who last had it bound.
                let holder = self.store.phone_holder(phone).await.map_err(|e| e.to_string())?;
                let customer = match holder {
                    Some(id) => self.store.customer(id).await.map_err(|e| e.to_string())?,
                    None => None,
                };
                Ok(match customer {
                    Some(c) => ThreeElementAnswer {
                        name: field(c.name == name),
                        id_number: match c.id_number_hash {
                            Some(h) => field(h == self.vault.keyed_hash(&id_number.to_uppercase())),
                            None => FieldMatch::NoRecord,
                        },
                        phone: FieldMatch::Match,
                    },
                    None => ThreeElementAnswer { phone: FieldMatch::Match, ..no_record },
                })
            }
        }
    }

    async fn four_elements(&self, req: &FourElementRequest) -> Result<FourElementAnswer, String> {
        let card = req.card_number.as_str();
        let bank = card.get(..6).and_then(bank_name).map(str::to_owned);
        let answer = |result| Ok(FourElementAnswer { result, bank_name: bank.clone() });
        if !(16..=19).contains(&card.len()) || !card.bytes().all(|b| b.is_ascii_digit()) || !luhn_valid(card)
        {
            return answer(BankAnswer::InvalidCard);
        }
        if card.ends_with("0001") {
            return answer(BankAnswer::AbnormalStatus);
        }
        if card.ends_with("0002") {
            return answer(BankAnswer::RestrictedCard);
        }
        let holder = new_holder(&req.phone);
        if holder.card_number == card {
            let all = holder.name == req.name && holder.id_number.eq_ignore_ascii_case(&req.id_number);
            return answer(if all { BankAnswer::Match } else { BankAnswer::Mismatch });
        }
        match self.store.card_by_hash(&self.vault.keyed_hash(card)).await.map_err(|e| e.to_string())? {
            Some((row, _, _)) if row.status != "active" && row.status != "resign_required" => {
                answer(BankAnswer::AbnormalStatus)
            }
            Some((row, name, id_hash)) => {
                let all = row.reserved_phone == req.phone
                    && name == req.name
                    && id_hash == Some(self.vault.keyed_hash(&req.id_number.to_uppercase()));
                answer(if all { BankAnswer::Match } else { BankAnswer::Mismatch })
            }
            None => answer(BankAnswer::Mismatch),
        }
    }

    async fn route(&self, method: &Method, path: &str, body: &[u8]) -> Result<Vec<u8>, (StatusCode, String)> {
        if method != Method::POST {
            return Err((StatusCode::METHOD_NOT_ALLOWED, "POST only".into()));
        }
        let bad = |e: serde_json::Error| (StatusCode::OK, invalid(&e.to_string()));
        let internal = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
        match path {
            "/carrier/v1/twice-tel-verify" => {
                let req: TwiceTelRequest = serde_json::from_slice(body).map_err(bad)?;
                json(&self.twice_tel(&req.phone, req.since).await.map_err(internal)?)
            }
            "/carrier/v1/tenure" => {
                let req: PhoneRequest = serde_json::from_slice(body).map_err(bad)?;
                json(&self.tenure(&req.phone).await.map_err(internal)?)
            }
            "/carrier/v1/three-elements" => {
                let req: PhoneRequest = serde_json::from_slice(body).map_err(bad)?;
                let (Some(name), Some(id)) = (req.name.as_deref(), req.id_number.as_deref()) else {
                    return Ok(invalid("name and id_number are required").into_bytes());
                };
                let data = self.three_elements(name, id, &req.phone).await.map_err(internal)?;
                json(&Envelope { code: codes::OK.into(), message: None, data: Some(data) })
            }
            "/bank/v1/four-elements" => {
                let req: FourElementRequest = serde_json::from_slice(body).map_err(bad)?;
                let data = self.four_elements(&req).await.map_err(internal)?;
                json(&Envelope { code: codes::OK.into(), message: None, data: Some(data) })
            }
            "/bank/v1/credits" => {
                let req: crate::gateway::CreditsRequest = serde_json::from_slice(body).map_err(bad)?;
                json(&self.credits(&req))
            }
            "/bank/v1/balance" => {
                let req: crate::gateway::BalanceRequest = serde_json::from_slice(body).map_err(bad)?;
                json(&self.bank_balance(&req))
            }
            "/bank/v1/returns" => {
                self.return_requests.fetch_add(1, Ordering::SeqCst);
                let req: ReturnRequest = serde_json::from_slice(body).map_err(bad)?;
                json(&self.return_payment(&req))
            }
            _ => Err((StatusCode::NOT_FOUND, format!("no such endpoint {path}"))),
        }
    }

    async fn serve_one(
        self: Arc<Self>,
        req: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, hyper::Error> {
        self.faults.served.fetch_add(1, Ordering::SeqCst);
        let delay = self.faults.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
        let failing =
            self.faults.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        let (method, path) = (req.method().clone(), req.uri().path().to_owned());
        let sent_key = req.headers().get(crate::gateway::API_KEY_HEADER).and_then(|v| v.to_str().ok());
        let authorized = self.api_key.as_deref().is_none_or(|key| sent_key == Some(key));
        let body = req.into_body().collect().await?.to_bytes();
        let (status, bytes) = if !authorized {
            (StatusCode::UNAUTHORIZED, b"missing or wrong API key".to_vec())
        } else if failing.is_ok() {
            (StatusCode::SERVICE_UNAVAILABLE, b"injected failure".to_vec())
        } else {
            match self.route(&method, &path, &body).await {
                Ok(bytes) => (StatusCode::OK, bytes),
                Err((status, message)) => (status, message.into_bytes()),
            }
        };
        let mut response = Response::new(Full::new(Bytes::from(bytes)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
        Ok(response)
    }

    /// Serves on `127.0.0.1:port` (0 = any free port) until the runtime stops;
    /// returns the address.
    pub async fn serve(self: Arc<Self>, port: u16) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let sim = self.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| sim.clone().serve_one(req));
                    let io = hyper_util::rt::TokioIo::new(stream);
                    if let Err(e) =
                        hyper::server::conn::http1::Builder::new().serve_connection(io, service).await
                    {
                        tracing::debug!(error = %e, "simulator connection ended");
                    }
                });
            }
        });
        Ok(addr)
    }
}

fn invalid(message: &str) -> String {
    serde_json::json!({ "code": codes::INVALID, "message": message }).to_string()
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, (StatusCode, String)> {
    serde_json::to_vec(value).map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// The bank does not keep that account.
fn unknown_account<T>() -> Envelope<T> {
    Envelope { code: "ACCOUNT_NOT_FOUND".into(), message: Some("no such account".into()), data: None }
}
