-- What one operator moved today without a checker (four-eyes cannot be dodged by
-- splitting an amount below the threshold).
-- A transfer's size (Σ of its debits) on its own row, so that sum never reads
-- the lines (an interest allocation has a million).
ALTER TABLE transfers ADD COLUMN amount_minor BIGINT NOT NULL DEFAULT 0;
CREATE INDEX transfers_posted_by ON transfers (posted_by, posted_at);
-- Lines by account with their day and amount: the replay of every account's
-- totals, day-weighted balances for interest and the balance chart read the index
-- alone (an account's entry page sorts its few lines by time).
DROP INDEX transfer_lines_account;
CREATE INDEX transfer_lines_account ON transfer_lines (account_id, business_day, amount_minor);
