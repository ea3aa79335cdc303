-- Desktops connect as an application role, not as the owner of the tables: it
-- cannot disable a trigger, truncate or edit the audit log, or move its head.
-- Appends go through these two functions, which run with the owner's rights and
-- keep the chain in order. (`ops-console migrate --app-role NAME` grants the rest.)
--
-- Both run with `search_path = pg_catalog, pg_temp` and name every table in full:
-- the application role may create temporary tables (screening uses one), and a
-- temporary `audit_head` must never stand in for the real one.
CREATE FUNCTION public.audit_next() RETURNS TABLE (seq BIGINT, hash TEXT)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    UPDATE public.audit_head SET seq = public.audit_head.seq + 1 WHERE id = 1
    RETURNING public.audit_head.seq, public.audit_head.hash
$$;

CREATE FUNCTION public.audit_write(
    p_seq BIGINT, p_id UUID, p_at TIMESTAMPTZ, p_actor TEXT, p_action TEXT, p_target TEXT,
    p_detail TEXT, p_prev_hash TEXT, p_hash TEXT
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- Only the row the head has just numbered, chained to the head's hash. The
    -- check is the UPDATE itself, so it takes the head's row lock and is re-checked
    -- after any concurrent append commits: a write that was in order when it
    -- started but no longer is fails instead of overwriting the head.
    UPDATE public.audit_head SET hash = p_hash WHERE id = 1 AND seq = p_seq AND hash = p_prev_hash;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit append out of order';
    END IF;
    INSERT INTO public.audit_log (seq, id, at, actor, action, target, detail, prev_hash, hash)
    VALUES (p_seq, p_id, p_at, p_actor, p_action, p_target, p_detail, p_prev_hash, p_hash);
END $$;

REVOKE ALL ON FUNCTION public.audit_next() FROM PUBLIC;
REVOKE ALL ON FUNCTION public.audit_write(BIGINT, UUID, TIMESTAMPTZ, TEXT, TEXT, TEXT, TEXT, TEXT, TEXT) FROM PUBLIC;
-- Before PostgreSQL 15 every role may create objects in `public`.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
