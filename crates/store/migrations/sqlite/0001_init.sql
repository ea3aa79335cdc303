-- Ops console schema v1 (SQLite). Times are UTC; money is integer fen.
CREATE TABLE operators (
    id              BLOB PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    last_login_at   TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE customers (
    id                 BLOB PRIMARY KEY,
    name               TEXT NOT NULL,
    id_number_enc      TEXT,            -- AES-256-GCM; never in clear
    id_number_hash     TEXT,            -- keyed HMAC for equality checks
    id_last4           TEXT,
    birth_date         TEXT,
    real_name_verified INTEGER NOT NULL,
    created_at         TEXT NOT NULL
);
CREATE INDEX customers_id_last4 ON customers (id_last4);
CREATE INDEX customers_id_number_hash ON customers (id_number_hash);

CREATE TABLE users (
    id                    BLOB PRIMARY KEY,
    customer_id           BLOB NOT NULL REFERENCES customers (id),
    phone                 TEXT,
    email                 TEXT,
    nickname              TEXT,
    status                TEXT NOT NULL,
    registered_at         TEXT NOT NULL,
    last_login_at         TEXT,
    sms_reset_blocked     INTEGER NOT NULL DEFAULT 0
);
-- A phone is the login of at most one user at a time.
CREATE UNIQUE INDEX users_phone ON users (phone) WHERE phone IS NOT NULL;
CREATE INDEX users_customer ON users (customer_id);
CREATE INDEX users_email ON users (email);
CREATE INDEX users_nickname ON users (nickname);

CREATE TABLE accounts (
    id              BLOB PRIMARY KEY,
    user_id         BLOB NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL,
    balance_minor   INTEGER NOT NULL,
    real_name_level INTEGER NOT NULL,
    status          TEXT NOT NULL
);
CREATE INDEX accounts_user ON accounts (user_id);

CREATE TABLE phone_bindings (
    id            BLOB PRIMARY KEY,
    user_id       BLOB NOT NULL REFERENCES users (id),
    phone         TEXT NOT NULL,
    bound_at      TEXT NOT NULL,
    unbound_at    TEXT,
    unbind_reason TEXT
);
CREATE INDEX phone_bindings_phone ON phone_bindings (phone);
CREATE INDEX phone_bindings_user ON phone_bindings (user_id);

CREATE TABLE bank_cards (
    id             BLOB PRIMARY KEY,
    user_id        BLOB NOT NULL REFERENCES users (id),
    card_hash      TEXT NOT NULL,       -- keyed HMAC of the full number
    bin            TEXT NOT NULL,
    last4          TEXT NOT NULL,
    card_len       INTEGER NOT NULL,
    bank_name      TEXT NOT NULL,
    reserved_phone TEXT NOT NULL,
    agreement_no   TEXT NOT NULL,
    bound_at       TEXT NOT NULL,
    status         TEXT NOT NULL
);
CREATE INDEX bank_cards_user ON bank_cards (user_id);
CREATE INDEX bank_cards_reserved_phone ON bank_cards (reserved_phone);

-- What the carriers told us about a number (入网时间 = entry_at).
CREATE TABLE carrier_records (
    id         BLOB PRIMARY KEY,
    phone      TEXT NOT NULL,
    carrier    TEXT NOT NULL,
    province   TEXT NOT NULL,
    entry_at   TEXT NOT NULL,
    status     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX carrier_records_phone ON carrier_records (phone);

CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    id        BLOB NOT NULL UNIQUE,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- One row: the chain head. Appends lock it, so rows are gap-free and ordered.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
