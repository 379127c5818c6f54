-- The relay's claim walks idx_outbox_unpublished in order, so it skips the events already published.
--
-- Marking an event published moves it out of the partial index's predicate, but its old index entry
-- stays until VACUUM, pointing at the dead version. Planned per execution, the claim was a bitmap
-- index scan plus a sort: a bitmap scan visits the heap row of every entry it collects and never
-- marks an entry dead, so each claim read every event published since the table's last vacuum (in
-- one order + pay bench run, 1,016 claims of ≈ 22 events took 1.6 ms each, 7 % of the database's
-- time; in a table of millions, autovacuum waits for 20 % of it to be dead). A plain index scan in
-- next_attempt_at order stops after `p_limit` due events and marks the entries of versions dead to
-- every transaction as it passes them (the index's LP_DEAD hint), so later claims step over them
-- without reading the heap. The function plans it so whatever the table's statistics say.
CREATE FUNCTION outbox_claim(p_limit INT, p_round_lock BIGINT)
RETURNS TABLE (id BIGINT, event_type VARCHAR, aggregate_id BIGINT, payload TEXT, attempts INT)
LANGUAGE plpgsql AS $$
BEGIN
    -- Relay rounds hold the advisory lock shared, a ranking rebuild holds it exclusive; the scalar
    -- subquery makes the try-lock a one-time filter, evaluated once before any row is read.
    RETURN QUERY
    SELECT e.id, e.event_type, e.aggregate_id, e.payload::TEXT, e.attempts FROM outbox_events e
     WHERE e.published_at IS NULL AND NOT e.parked AND e.next_attempt_at <= now()
       AND (SELECT pg_try_advisory_xact_lock_shared(p_round_lock))
     ORDER BY e.next_attempt_at LIMIT p_limit FOR UPDATE OF e SKIP LOCKED;
END;
$$;
ALTER FUNCTION outbox_claim(INT, BIGINT) SET enable_bitmapscan = off;
ALTER FUNCTION outbox_claim(INT, BIGINT) SET enable_seqscan = off;

-- The entries the claim steps over are removed by VACUUM. The default trigger (20 % of the table
-- dead) lets them pile up as the outbox grows; a fixed threshold keeps the walk short (a few dozen
-- index pages) however many events the table holds.
ALTER TABLE outbox_events SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
