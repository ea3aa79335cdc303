-- Desktops connect as an application role, not as the owner of the tables: it
-- cannot disable a trigger, truncate or edit the audit log, or move its head.
-- Appends go through these two functions, which run with the owner's rights and
-- keep the chain in order. (`ops-console migrate --app-role NAME` grants the rest.)
CREATE FUNCTION audit_next() RETURNS TABLE (seq BIGINT, hash TEXT)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    UPDATE audit_head SET seq = audit_head.seq + 1 WHERE id = 1 RETURNING audit_head.seq, audit_head.hash
$$;

CREATE FUNCTION audit_write(
    p_seq BIGINT, p_id UUID, p_at TIMESTAMPTZ, p_actor TEXT, p_action TEXT, p_target TEXT,
    p_detail TEXT, p_prev_hash TEXT, p_hash TEXT
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    -- Only the row the head has just numbered, chained to the head's hash.
    IF NOT EXISTS (SELECT 1 FROM audit_head WHERE id = 1 AND seq = p_seq AND hash = p_prev_hash) THEN
        RAISE EXCEPTION 'audit append out of order';
    END IF;
    INSERT INTO audit_log (seq, id, at, actor, action, target, detail, prev_hash, hash)
    VALUES (p_seq, p_id, p_at, p_actor, p_action, p_target, p_detail, p_prev_hash, p_hash);
    UPDATE audit_head SET hash = p_hash WHERE id = 1;
END $$;

REVOKE ALL ON FUNCTION audit_next() FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_write(BIGINT, UUID, TIMESTAMPTZ, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT) FROM PUBLIC;
