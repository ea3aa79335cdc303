//! Operations sent with a request id (`VamRequest::DoOnce`) run once per operator
//! and id on this desktop: a second click or a resend while the first is still
//! running waits for its answer, and one after it gets the same answer. Transfers
//! and proposals are idempotent in the database as well (their keys come from the
//! request id), so a resend after a restart finds them too; holds, releases, opens
//! and closes rely on this memo.

use super::VamService;
use crate::error::{Result, conflict};
use chrono::{DateTime, Utc};
use domain::Conflict;
use domain::api::VamOperation;
use domain::auth::OperatorInfo;
use domain::vam::VamOutcome;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

/// Requests remembered per desktop (the oldest are forgotten first).
const REMEMBERED: usize = 4096;

type Slot = Arc<OnceCell<VamOutcome>>;

/// Answers of requests by (operator, request id).
#[derive(Default)]
pub(crate) struct RequestMemo {
    inner: parking_lot::Mutex<Memo>,
}

#[derive(Default)]
struct Memo {
    slots: HashMap<(String, Uuid), (VamOperation, Slot)>,
    order: VecDeque<(String, Uuid)>,
}

impl RequestMemo {
    /// The slot of this request; the id with another operation is refused.
    fn slot(&self, actor: &str, id: Uuid, operation: &VamOperation) -> Result<Slot> {
        let mut memo = self.inner.lock();
        let key = (actor.to_owned(), id);
        if let Some((first, slot)) = memo.slots.get(&key) {
            return if first == operation { Ok(slot.clone()) } else { Err(conflict(Conflict::KeyReused)) };
        }
        if memo.order.len() >= REMEMBERED
            && let Some(oldest) = memo.order.pop_front()
        {
            memo.slots.remove(&oldest);
        }
        let slot = Slot::default();
        memo.slots.insert(key.clone(), (operation.clone(), slot.clone()));
        memo.order.push_back(key);
        Ok(slot)
    }
}

impl VamService {
    /// Does `operation` once for (`op`, `request_id`); an error leaves it to be tried again.
    pub(crate) async fn operate_once(
        &self,
        op: &OperatorInfo,
        request_id: Uuid,
        operation: VamOperation,
        now: DateTime<Utc>,
    ) -> Result<VamOutcome> {
        let slot = self.requests.slot(&op.username, request_id, &operation)?;
        slot.get_or_try_init(|| self.operate(op, operation, Some(request_id), now)).await.cloned()
    }
}
