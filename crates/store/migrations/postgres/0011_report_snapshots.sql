-- A closed day's report as it was at the close: written in the close's
-- transaction, its SHA-256 also in the close's audit row. Never changed: a later
-- look compares the database with it. (The application role gets its rights from
-- `ops-console migrate --app-role`, which grants on every table; the trigger
-- keeps even those rights from changing a snapshot.)
CREATE TABLE recon_report_snapshots (
    day       INTEGER PRIMARY KEY,   -- days from CE
    closed_by TEXT NOT NULL,
    closed_at TIMESTAMPTZ NOT NULL,
    snapshot  TEXT NOT NULL,         -- JSON ReportSnapshot
    sha256    TEXT NOT NULL          -- hex of the snapshot's bytes
);

CREATE FUNCTION recon_snapshot_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;
CREATE TRIGGER recon_report_snapshots_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON recon_report_snapshots
FOR EACH STATEMENT EXECUTE FUNCTION recon_snapshot_append_only();

-- The statement proof finds the reconciliation record behind an asset entry.
CREATE INDEX bank_credits_transfer ON bank_credits (transfer_id);
CREATE INDEX suspense_items_booking ON suspense_items (booking_id);
CREATE INDEX suspense_items_resolution ON suspense_items (resolution_id) WHERE resolution_id IS NOT NULL;
CREATE INDEX suspense_items_line ON suspense_items (line_id) WHERE line_id IS NOT NULL;
CREATE INDEX recon_matches_transfer ON recon_matches (transfer_id) WHERE transfer_id IS NOT NULL;
CREATE INDEX recon_runs_day ON recon_runs (day);
