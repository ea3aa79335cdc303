-- Recycled numbers (二次号): carrier intake, cases, blocks, agreements, checks.

-- Settings shared by every desktop on this database (JSON values).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Carrier direct-debit of phone bills (话费代扣): bound 1:1 carrier subscriber ↔ user.
CREATE TABLE direct_debits (
    id         BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id),
    phone      TEXT NOT NULL,
    carrier    TEXT NOT NULL,
    signed_at  TEXT NOT NULL,
    ended_at   TEXT,
    end_reason TEXT
);
CREATE INDEX direct_debits_phone ON direct_debits (phone);
CREATE INDEX direct_debits_user ON direct_debits (user_id);

-- One carrier file per row; the file's SHA-256 makes a second import a no-op.
CREATE TABLE carrier_imports (
    id           BLOB PRIMARY KEY,
    file_name    TEXT NOT NULL,
    sha256       TEXT NOT NULL UNIQUE,
    encoding     TEXT NOT NULL,
    lines        INTEGER NOT NULL,
    matched      INTEGER NOT NULL,
    cases_opened INTEGER NOT NULL,
    cases_updated INTEGER NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);

-- Carrier facts about numbers we have bound (files and gateway answers).
-- The unique key makes the same event from two files one row.
CREATE TABLE carrier_events (
    id        BLOB PRIMARY KEY,
    phone     TEXT NOT NULL,
    carrier   TEXT NOT NULL,
    province  TEXT NOT NULL,
    event     TEXT NOT NULL,           -- cancel/transfer/reissue/port_in/port_out/entry/gateway:<answer>
    event_at  TEXT NOT NULL,
    entry_at  TEXT,
    source    TEXT NOT NULL,           -- import:<id> or gateway
    UNIQUE (phone, event, event_at)
);

CREATE TABLE recycle_cases (
    id               BLOB PRIMARY KEY,
    phone            TEXT NOT NULL,
    old_user_id      BLOB NOT NULL REFERENCES users (id),
    old_customer_id  BLOB NOT NULL REFERENCES customers (id),
    status           TEXT NOT NULL,
    source           TEXT NOT NULL,
    manual_only      INTEGER NOT NULL,
    risk_score       INTEGER NOT NULL,
    risk_inputs      TEXT NOT NULL,    -- JSON of domain::recycle::RiskInputs
    balance_minor    INTEGER NOT NULL,
    carrier          TEXT NOT NULL,
    province         TEXT NOT NULL,
    bound_at         TEXT NOT NULL,
    entry_at         TEXT,
    freeze_until     TEXT,
    detected_at      TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    evidence_count   INTEGER NOT NULL,
    claimed_by       TEXT,
    lease_until      TEXT,
    proposed         TEXT,             -- JSON of the maker's proposal awaiting a checker
    proposed_by      TEXT,
    decision         TEXT,
    decision_reason  TEXT,
    decided_by       TEXT,
    approved_by      TEXT,
    decided_at       TEXT,
    version          INTEGER NOT NULL
);
-- One active case per (phone, old user).
CREATE UNIQUE INDEX recycle_cases_active ON recycle_cases (phone, old_user_id)
    WHERE status IN ('open', 'pending_approval', 'escalated');
-- Queue orders: by risk, by age. The default view (every active status) walks the
-- partial indexes in order; a single-status view uses the status-first ones.
CREATE INDEX recycle_cases_active_risk ON recycle_cases (risk_score DESC, id)
    WHERE status IN ('open', 'pending_approval', 'escalated');
CREATE INDEX recycle_cases_active_detected ON recycle_cases (detected_at, id)
    WHERE status IN ('open', 'pending_approval', 'escalated');
CREATE INDEX recycle_cases_status_risk ON recycle_cases (status, risk_score DESC, id);
CREATE INDEX recycle_cases_status_detected ON recycle_cases (status, detected_at, id);
CREATE INDEX recycle_cases_phone ON recycle_cases (phone);

-- What happened to a case: evidence added, claims, proposals, decisions.
CREATE TABLE case_events (
    id      BLOB PRIMARY KEY,
    case_id BLOB NOT NULL REFERENCES recycle_cases (id),
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at);

-- Registration and SMS-reset checks from the app backends (service hooks).
CREATE TABLE hook_events (
    id       BLOB PRIMARY KEY,
    phone    TEXT NOT NULL,
    user_id  BLOB,
    kind     TEXT NOT NULL,            -- registration / sms_reset
    at       TEXT NOT NULL,
    allowed  INTEGER NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX hook_events_phone ON hook_events (phone, at);

-- SMS-code password reset blocks: a first-class state with reason and evidence.
CREATE TABLE sms_reset_blocks (
    id          BLOB PRIMARY KEY,
    user_id     BLOB NOT NULL REFERENCES users (id),
    case_id     BLOB REFERENCES recycle_cases (id),
    reason      TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    blocked_at  TEXT NOT NULL,
    blocked_by  TEXT NOT NULL,
    lifted_at   TEXT,
    lifted_by   TEXT,
    lift_detail TEXT
);
CREATE INDEX sms_reset_blocks_user ON sms_reset_blocks (user_id);

-- Identity and bank-card check attempts, for budgets and evidence. Never clear PII:
-- claimant = keyed hash of the ID number; card = keyed hash of the card number.
CREATE TABLE verification_attempts (
    id            BLOB PRIMARY KEY,
    kind          TEXT NOT NULL,       -- carrier3 / bank4
    claimant_hash TEXT NOT NULL,
    card_hash     TEXT,
    case_id       BLOB,
    at            TEXT NOT NULL,
    passed        INTEGER NOT NULL,
    answer        TEXT NOT NULL,
    actor         TEXT NOT NULL
);
CREATE INDEX verification_attempts_claimant ON verification_attempts (claimant_hash, at);
CREATE INDEX verification_attempts_card ON verification_attempts (card_hash, at);

-- Evidence packs as exported; the audit row carries the same SHA-256.
CREATE TABLE evidence_packs (
    id         BLOB PRIMARY KEY,
    case_id    BLOB NOT NULL REFERENCES recycle_cases (id),
    sha256     TEXT NOT NULL,
    json       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX evidence_packs_case ON evidence_packs (case_id);
