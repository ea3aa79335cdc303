-- A one-to-one match (nearly all of a day's automatic matches) keeps its line and
-- its item on its own row: two part rows per match were most of a run's writes.
-- Matches of several lines or items keep using recon_match_parts. recon_parts is
-- every part of every match, whichever way it is stored.
ALTER TABLE recon_matches ADD COLUMN line_id UUID;
ALTER TABLE recon_matches ADD COLUMN line_amount_minor BIGINT;
ALTER TABLE recon_matches ADD COLUMN item_id UUID;
ALTER TABLE recon_matches ADD COLUMN item_amount_minor BIGINT;
CREATE INDEX recon_matches_line ON recon_matches (line_id) WHERE line_id IS NOT NULL;

CREATE VIEW recon_parts AS
    SELECT match_id, line_id, item_id, amount_minor FROM recon_match_parts
    UNION ALL
    SELECT id, line_id, NULL, line_amount_minor FROM recon_matches WHERE line_id IS NOT NULL
    UNION ALL
    SELECT id, NULL, item_id, item_amount_minor FROM recon_matches WHERE item_id IS NOT NULL;
