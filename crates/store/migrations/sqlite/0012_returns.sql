-- Returns to the payer (退回付款人) through the bank gateway. The instruction is
-- the `bank.return_payment` outbox row the resolution wrote with its posting; its
-- id (UUIDv7) is the bank's idempotency key. This row is its delivery: created by
-- the first dispatcher that takes it, then one outcome. (The application role gets
-- its rights from `ops-console migrate --app-role`, which grants on every table.)
CREATE TABLE bank_returns (
    id               BLOB PRIMARY KEY REFERENCES outbox (id),
    item_id          BLOB NOT NULL REFERENCES suspense_items (id),
    status           TEXT NOT NULL,       -- pending, sent, rejected, refused_tampered, refused_duplicate, needs_review, stuck
    attempts         INTEGER NOT NULL,    -- sends whose outcome was recorded
    lease_until      TEXT,                -- a dispatcher is sending it until then
    retry_at         TEXT,                -- after a failure: not before
    bank_ref         TEXT,                -- sent: the bank's reference of the return
    reject_reason    TEXT,                -- rejected: the bank's reason code
    last_error       TEXT,                -- the last failure (a code, no payload)
    returned_item_id BLOB REFERENCES suspense_items (id), -- rejected: the item the money came back to
    updated_at       TEXT NOT NULL
);
-- At most one instruction per item: each new instruction id would be a new
-- payout at the bank. A refused duplicate keeps its own row (its audit names it).
CREATE UNIQUE INDEX bank_returns_one_per_item ON bank_returns (item_id) WHERE status <> 'refused_duplicate';
CREATE INDEX bank_returns_item ON bank_returns (item_id);
-- The dispatcher's scan: undelivered return instructions.
CREATE INDEX outbox_undelivered ON outbox (topic, id) WHERE sent_at IS NULL;
