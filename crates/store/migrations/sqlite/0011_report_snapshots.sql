-- A closed day's report as it was at the close: written in the close's
-- transaction, its SHA-256 also in the close's audit row. Never changed: a later
-- look compares the database with it.
CREATE TABLE recon_report_snapshots (
    day       INTEGER PRIMARY KEY,   -- days from CE
    closed_by TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    snapshot  TEXT NOT NULL,         -- JSON ReportSnapshot
    sha256    TEXT NOT NULL          -- hex of the snapshot's bytes
);
CREATE TRIGGER recon_report_snapshots_no_update BEFORE UPDATE ON recon_report_snapshots
BEGIN SELECT RAISE(ABORT, 'report snapshots are append-only'); END;
CREATE TRIGGER recon_report_snapshots_no_delete BEFORE DELETE ON recon_report_snapshots
BEGIN SELECT RAISE(ABORT, 'report snapshots are append-only'); END;

-- The statement proof finds the reconciliation record behind an asset entry.
CREATE INDEX bank_credits_transfer ON bank_credits (transfer_id);
CREATE INDEX suspense_items_booking ON suspense_items (booking_id);
CREATE INDEX suspense_items_resolution ON suspense_items (resolution_id) WHERE resolution_id IS NOT NULL;
CREATE INDEX suspense_items_line ON suspense_items (line_id) WHERE line_id IS NOT NULL;
CREATE INDEX recon_matches_transfer ON recon_matches (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX recon_runs_day ON recon_runs (day);
