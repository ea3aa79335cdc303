-- Operator administration: an administrator disables operators and makes them
-- choose a new password (the first administrator's, and every new operator's).
ALTER TABLE operators ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE operators ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
