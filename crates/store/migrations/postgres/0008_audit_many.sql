-- Several audit rows in one call (a page of bank notices books many postings in
-- one transaction): the caller has numbered the first row with `audit_next()`;
-- each further row is numbered here, and every row goes through `audit_write`,
-- so the chain's checks are exactly those of single appends. One round trip for
-- the page instead of two per row, while the head is locked.
CREATE FUNCTION public.audit_write_many(
    p_seq BIGINT[], p_id UUID[], p_at TIMESTAMPTZ[], p_actor TEXT[], p_action TEXT[], p_target TEXT[],
    p_detail TEXT[], p_prev_hash TEXT[], p_hash TEXT[]
) RETURNS VOID
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    i INT;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_seq, 1), 0) LOOP
        IF i > 1 THEN
            PERFORM public.audit_next();
        END IF;
        PERFORM public.audit_write(p_seq[i], p_id[i], p_at[i], p_actor[i], p_action[i], p_target[i],
                                   p_detail[i], p_prev_hash[i], p_hash[i]);
    END LOOP;
END $$;

REVOKE ALL ON FUNCTION public.audit_write_many(BIGINT[], UUID[], TIMESTAMPTZ[], TEXT[], TEXT[], TEXT[], TEXT[], TEXT[], TEXT[]) FROM PUBLIC;
