-- Expired idempotency records are deleted. A record's expires_at is a day after it was written; the
-- original service set it the same way and planned a job to delete expired records, which it never
-- ran (reference §10, "Expired idempotency cleanup job"), so the table grew with every charge and
-- every payment. After its record is gone a request with that key is a new request (a charge is
-- applied again; a payment of an order already paid is refused, 400 O003).
--
-- Deleted: expired records that are COMPLETED or FAILED, the oldest first, at most p_limit per call
-- (a bounded transaction), read through idx_idempotency_expires_at. Left alone: records still
-- PROCESSING (the stale-payment sweep settles their payment and needs them) and rows another session
-- holds (SKIP LOCKED: instances purging at once, or a request using the key, are never waited for).
CREATE FUNCTION purge_expired_idempotency_records(p_limit INT) RETURNS INT
LANGUAGE plpgsql SET enable_seqscan = off AS $$
DECLARE
    v_deleted INT;
BEGIN
    WITH expired AS (
        SELECT r.user_id, r.operation, r.idempotency_key
          FROM idempotency_records r
         WHERE r.expires_at < now() AND r.status <> 'PROCESSING'
         ORDER BY r.expires_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED)
    DELETE FROM idempotency_records r
     USING expired e
     WHERE r.user_id = e.user_id AND r.operation = e.operation AND r.idempotency_key = e.idempotency_key;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END;
$$;
