-- Suspense (挂账) and reconciliation (对账). Money is integer fen, signed from the
-- bank's side (credit positive); days are days from CE (`day_number`).

-- A file as received: imported once (by digest); a resent file is a new row.
CREATE TABLE statement_files (
    id          UUID PRIMARY KEY,
    digest      TEXT NOT NULL UNIQUE,
    file_name   TEXT NOT NULL,
    format      TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE statements (
    id              UUID PRIMARY KEY,
    file_id         UUID NOT NULL REFERENCES statement_files (id),
    physical_id     UUID NOT NULL REFERENCES physical_accounts (id),
    statement_ref   TEXT NOT NULL,       -- the bank's statement id
    format          TEXT NOT NULL,
    version         TEXT,
    currency        TEXT NOT NULL,
    sequence        BIGINT,
    opening_minor   BIGINT,
    closing_minor   BIGINT,
    from_day        INTEGER NOT NULL,
    to_day          INTEGER NOT NULL,
    entries         INTEGER NOT NULL,
    difference_minor BIGINT,             -- non-zero: did not add up (acknowledged)
    acknowledged_by TEXT,
    findings        TEXT NOT NULL,       -- JSON list of StatementFinding
    replaced_by     UUID,                -- a resent statement with the same id
    imported_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX statements_account ON statements (physical_id, to_day);

-- Lines of live statements. state: open (not reconciled), matched, booked (a bank
-- notice booked it), suspense (parked), duplicate (seen in an earlier file),
-- replaced (its statement was resent).
CREATE TABLE statement_lines (
    id                  UUID PRIMARY KEY,
    statement_id        UUID NOT NULL REFERENCES statements (id),
    physical_id         UUID NOT NULL,
    seq                 INTEGER NOT NULL,
    at                  TEXT NOT NULL,    -- JSON Location
    amount_minor        BIGINT NOT NULL,
    booking_day         INTEGER NOT NULL,
    bank_ref            TEXT NOT NULL,
    end_to_end          TEXT,
    counterparty_name   TEXT,
    counterparty_account TEXT,
    addressed_account   TEXT,
    remittance          TEXT,
    bank_code           TEXT,
    reversal            BOOLEAN NOT NULL,
    return_reason       TEXT,
    fee_minor           BIGINT NOT NULL,
    our_ref             TEXT,
    state               TEXT NOT NULL
);
CREATE INDEX statement_lines_day ON statement_lines (physical_id, state, booking_day);
CREATE INDEX statement_lines_ref ON statement_lines (physical_id, bank_ref);
CREATE INDEX statement_lines_statement ON statement_lines (statement_id);

-- Our side: expected payments, orders paid through a channel, refunds sent.
CREATE TABLE our_items (
    id                 UUID PRIMARY KEY,
    physical_id        UUID NOT NULL REFERENCES physical_accounts (id),
    kind               TEXT NOT NULL,    -- expected_in, order_paid, refund_out
    amount_minor       BIGINT NOT NULL,  -- signed effect on the bank account
    open_minor         BIGINT NOT NULL,
    date_from          INTEGER NOT NULL,
    date_to            INTEGER NOT NULL,
    reference          TEXT NOT NULL,
    counterparty_name  TEXT,
    virtual_number     TEXT,
    account_id         UUID,             -- the sub-account an expected payment credits
    expected_fee_minor BIGINT NOT NULL,
    state              TEXT NOT NULL,    -- open, matched, short (booked to suspense)
    created_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX our_items_open ON our_items (physical_id, state, date_to);
CREATE UNIQUE INDEX our_items_reference ON our_items (physical_id, kind, reference);

CREATE TABLE recon_runs (
    id          UUID PRIMARY KEY,
    day         INTEGER NOT NULL,
    physical_id UUID NOT NULL,
    run_by      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    report      TEXT NOT NULL             -- JSON ReconRunReport
);

-- status: suggested, confirmed, reversed. A confirmed match has its posting.
CREATE TABLE recon_matches (
    id               UUID PRIMARY KEY,
    physical_id      UUID NOT NULL,
    day              INTEGER NOT NULL,
    run_id           UUID,               -- NULL: made by a person
    rule             TEXT NOT NULL,
    status           TEXT NOT NULL,
    difference_minor BIGINT NOT NULL,
    score            INTEGER NOT NULL,
    transfer_id      UUID,
    made_by          TEXT NOT NULL,
    made_at          TIMESTAMPTZ NOT NULL,
    reversed_by      TEXT,
    reversed_at      TIMESTAMPTZ,
    reversal_reason  TEXT
);
CREATE INDEX recon_matches_day ON recon_matches (physical_id, day, status);

CREATE TABLE recon_match_parts (
    match_id     UUID NOT NULL REFERENCES recon_matches (id),
    line_id      UUID,
    item_id      UUID,
    amount_minor BIGINT NOT NULL
);
CREATE INDEX recon_match_parts_match ON recon_match_parts (match_id);
CREATE INDEX recon_match_parts_line ON recon_match_parts (line_id);

CREATE TABLE suspense_items (
    id              UUID PRIMARY KEY,
    physical_id     UUID NOT NULL REFERENCES physical_accounts (id),
    kind            TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL,     -- signed, bank side
    status          TEXT NOT NULL,
    found_day       INTEGER NOT NULL,    -- its period (today when found late)
    found_at        TIMESTAMPTZ NOT NULL,
    line_id         UUID,                -- the statement line behind it
    item_id         UUID,                -- our item behind it (shortage)
    credit_id       UUID,                -- the bank notice behind it (待识别)
    booking_id      UUID NOT NULL,       -- the transfer that parked it
    resolution_id   UUID,                -- the transfer that wrote it off
    resolved_by     TEXT,
    resolved_at     TIMESTAMPTZ,
    action          TEXT,
    channel         TEXT NOT NULL,
    counterparty    TEXT NOT NULL,
    claimed_by      TEXT,
    claim_until     TIMESTAMPTZ,
    explained_until INTEGER,
    recovery_ref    TEXT,
    updated_at      TIMESTAMPTZ NOT NULL
);
-- The queue: open items oldest first, all kinds or one.
CREATE INDEX suspense_queue ON suspense_items (found_day, id) WHERE status <> 'resolved';
CREATE INDEX suspense_queue_kind ON suspense_items (kind, found_day, id) WHERE status <> 'resolved';
CREATE INDEX suspense_physical ON suspense_items (physical_id, status, kind);
CREATE UNIQUE INDEX suspense_line ON suspense_items (line_id) WHERE line_id IS NOT NULL AND status <> 'resolved';
CREATE UNIQUE INDEX suspense_credit ON suspense_items (credit_id) WHERE credit_id IS NOT NULL;

CREATE TABLE suspense_events (
    id       UUID PRIMARY KEY,
    item_id  UUID NOT NULL REFERENCES suspense_items (id),
    at       TIMESTAMPTZ NOT NULL,
    actor    TEXT NOT NULL,
    event    TEXT NOT NULL               -- JSON SuspenseEvent
);
CREATE INDEX suspense_events_item ON suspense_events (item_id, at);

-- Resolutions waiting for approvals; the action is the stored request.
CREATE TABLE suspense_proposals (
    id            UUID PRIMARY KEY,
    item_id       UUID NOT NULL REFERENCES suspense_items (id),
    action        TEXT NOT NULL,         -- JSON SuspenseAction
    maker         TEXT NOT NULL,
    proposed_at   TIMESTAMPTZ NOT NULL,
    finance_by    TEXT,
    supervisor_by TEXT,
    status        TEXT NOT NULL,         -- pending, approved, rejected
    decided_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX suspense_proposals_pending ON suspense_proposals (item_id) WHERE status = 'pending';

-- A request id runs once: the answer is kept.
CREATE TABLE suspense_requests (
    actor      TEXT NOT NULL,
    request_id UUID NOT NULL,
    item_id    UUID NOT NULL,
    answer     TEXT NOT NULL,            -- JSON SuspenseOutcome
    PRIMARY KEY (actor, request_id)
);

-- Closed days: nothing booked to them may change.
CREATE TABLE recon_closed_days (
    physical_id UUID NOT NULL,
    day         INTEGER NOT NULL,
    closed_by   TEXT NOT NULL,
    closed_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (physical_id, day)
);
