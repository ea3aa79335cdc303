-- The double-entry ledger under virtual sub-accounts (虚拟子账户). Money is integer
-- fen. Transfers and their lines are append-only (corrections are reversals).
CREATE TABLE physical_accounts (
    id               BLOB PRIMARY KEY,
    bank             TEXT NOT NULL,
    number           TEXT NOT NULL UNIQUE,
    purpose          TEXT NOT NULL,
    supervised       INTEGER NOT NULL,
    suffix_len       INTEGER NOT NULL,
    asset_account    BLOB NOT NULL,   -- mirrors the bank balance (asset)
    main_account     BLOB NOT NULL,   -- the platform's own money in it (internal)
    suspense_account BLOB NOT NULL,   -- 待识别入账 (unidentified credits)
    interest_account BLOB NOT NULL,   -- interest credited, not yet allocated
    next_suffix      INTEGER NOT NULL,
    credit_cursor    TEXT,            -- the bank's credit-notice cursor
    created_at       TEXT NOT NULL
);

CREATE TABLE ledger_accounts (
    id            BLOB PRIMARY KEY,
    physical_id   BLOB NOT NULL,
    kind          TEXT NOT NULL,      -- asset, liability, income, expense
    role          TEXT NOT NULL,      -- asset, main, suspense, interest, virtual
    flags         INTEGER NOT NULL,
    -- Hot accounts (the physical account's own) keep their totals in
    -- balance_shards; these stay zero for them.
    sharded       INTEGER NOT NULL,
    debits_minor  INTEGER NOT NULL DEFAULT 0,
    credits_minor INTEGER NOT NULL DEFAULT 0,
    held_minor    INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE INDEX ledger_accounts_physical ON ledger_accounts (physical_id, role);

-- Totals of hot accounts, split so concurrent postings rarely meet on one row.
CREATE TABLE balance_shards (
    account_id    BLOB NOT NULL,
    shard         INTEGER NOT NULL,
    debits_minor  INTEGER NOT NULL,
    credits_minor INTEGER NOT NULL,
    PRIMARY KEY (account_id, shard)
);

CREATE TABLE virtual_accounts (
    id            BLOB PRIMARY KEY REFERENCES ledger_accounts (id),
    physical_id   BLOB NOT NULL REFERENCES physical_accounts (id),
    parent_id     BLOB REFERENCES virtual_accounts (id),
    path          TEXT NOT NULL,      -- ancestors' ids (hex, root first), '/'-separated
    depth         INTEGER NOT NULL,
    number        TEXT NOT NULL,
    suffix        INTEGER NOT NULL,
    owner_kind    TEXT NOT NULL,
    owner_id      BLOB,
    owner_name    TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    status        TEXT NOT NULL,
    child_count   INTEGER NOT NULL DEFAULT 0,
    opened_at     TEXT NOT NULL,
    closed_at     TEXT,
    reusable_from TEXT
);
-- A number belongs to one live account; closed ones keep it as history.
CREATE UNIQUE INDEX virtual_accounts_live_number ON virtual_accounts (number)
    WHERE status NOT IN ('closed', 'quarantined');
CREATE INDEX virtual_accounts_number ON virtual_accounts (number);
CREATE INDEX virtual_accounts_children ON virtual_accounts (physical_id, parent_id, number);
CREATE INDEX virtual_accounts_owner ON virtual_accounts (owner_id);

-- What descendants add to a node's subtree balance (own balance is on the
-- ledger account), sharded like hot balances.
CREATE TABLE subtree_shards (
    account_id   BLOB NOT NULL,
    shard        INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    PRIMARY KEY (account_id, shard)
);

CREATE TABLE transfers (
    id              BLOB PRIMARY KEY,
    kind            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    body_hash       TEXT NOT NULL,
    reverses        BLOB REFERENCES transfers (id),
    physical_id     BLOB NOT NULL,
    memo            TEXT NOT NULL,
    posted_by       TEXT NOT NULL,
    posted_at       TEXT NOT NULL
);
-- A transfer is reversed at most once.
CREATE UNIQUE INDEX transfers_reverses ON transfers (reverses) WHERE reverses IS NOT NULL;

CREATE TABLE transfer_lines (
    transfer_id  BLOB NOT NULL REFERENCES transfers (id),
    line         INTEGER NOT NULL,
    account_id   BLOB NOT NULL,
    amount_minor INTEGER NOT NULL,    -- debit positive, credit negative
    business_day INTEGER NOT NULL,    -- Beijing date as days from CE (interest, series)
    posted_at    TEXT NOT NULL,
    PRIMARY KEY (transfer_id, line)
);
CREATE INDEX transfer_lines_account ON transfer_lines (account_id, posted_at);

CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are append-only'); END;
CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are append-only'); END;
CREATE TRIGGER transfer_lines_no_update BEFORE UPDATE ON transfer_lines
BEGIN SELECT RAISE(ABORT, 'transfer lines are append-only'); END;
CREATE TRIGGER transfer_lines_no_delete BEFORE DELETE ON transfer_lines
BEGIN SELECT RAISE(ABORT, 'transfer lines are append-only'); END;

CREATE TABLE holds (
    id              BLOB PRIMARY KEY,
    account_id      BLOB NOT NULL REFERENCES ledger_accounts (id),
    amount_minor    INTEGER NOT NULL,
    remaining_minor INTEGER NOT NULL,
    status          TEXT NOT NULL,
    reason          TEXT NOT NULL,
    expires_at      TEXT,
    placed_by       TEXT NOT NULL,
    placed_at       TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX holds_account ON holds (account_id, status);

-- Bank credit notices, kept raw; one row per bank reference.
CREATE TABLE bank_credits (
    id          BLOB PRIMARY KEY,
    physical_id BLOB NOT NULL REFERENCES physical_accounts (id),
    bank_ref    TEXT NOT NULL,
    number      TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    payer       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    raw         TEXT NOT NULL,
    outcome     TEXT NOT NULL,        -- credited, unidentified
    reason      TEXT,
    account_id  BLOB,
    transfer_id BLOB NOT NULL REFERENCES transfers (id),
    booked_at   TEXT NOT NULL,
    UNIQUE (physical_id, bank_ref)
);
CREATE INDEX bank_credits_outcome ON bank_credits (physical_id, outcome);

CREATE TABLE vam_proposals (
    id           BLOB PRIMARY KEY,
    operation    TEXT NOT NULL,       -- the VamOperation as JSON
    amount_minor INTEGER NOT NULL,
    proposed_by  TEXT NOT NULL,
    proposed_at  TEXT NOT NULL,
    status       TEXT NOT NULL,       -- pending, approved, rejected
    decided_by   TEXT,
    decided_at   TEXT
);
CREATE INDEX vam_proposals_status ON vam_proposals (status, proposed_at);

CREATE TABLE vam_proofs (
    id           BLOB PRIMARY KEY,
    physical_id  BLOB NOT NULL REFERENCES physical_accounts (id),
    at           TEXT NOT NULL,
    holds        INTEGER NOT NULL,
    detail       TEXT NOT NULL
);
CREATE INDEX vam_proofs_physical ON vam_proofs (physical_id, at);

-- Events for the platform (e.g. a sub-account closed), delivered by an outbox reader.
CREATE TABLE outbox (
    id      BLOB PRIMARY KEY,
    topic   TEXT NOT NULL,
    payload TEXT NOT NULL,
    at      TEXT NOT NULL,
    sent_at TEXT
);
