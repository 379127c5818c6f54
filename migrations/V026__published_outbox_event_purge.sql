-- Published outbox events are deleted once they are older than outbox.retention (30 days by default).
-- Every paid order writes one event and nothing deleted them, so outbox_events and its three indexes
-- grew with every order ever paid. What reads published events, and how far back:
--   - the top products: the paid orders of the last 3 business days (V022);
--   - `ranking rebuild --date`: the paid orders of one day (V022). It refuses a day older than the
--     retention, whose events may be gone;
--   - nothing else: the relay reads unpublished events only, and an order's own rows are kept.
-- The configuration refuses a retention shorter than 4 days or than ranking.key-ttl + 1 day.
--
-- Deleted: events published and created before p_before, the oldest first, at most p_limit per call
-- (a bounded transaction), read through idx_outbox_created. Left alone: unpublished and parked events
-- (the relay and an operator still need them) and rows another session holds (SKIP LOCKED: instances
-- purging at once, a relay round or a rebuild are never waited for).
CREATE FUNCTION purge_published_outbox_events(p_before TIMESTAMPTZ, p_limit INT) RETURNS INT
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_deleted INT;
BEGIN
    WITH old AS (
        SELECT e.id
          FROM outbox_events e
         WHERE e.created_at < p_before AND e.published_at IS NOT NULL
         ORDER BY e.created_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED)
    DELETE FROM outbox_events e
     USING old
     WHERE e.id = old.id;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$$;
