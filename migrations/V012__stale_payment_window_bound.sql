-- A windowed stale-payment sweep also stops at the records too young to be stale. V009 bounded its
-- read of idx_idempotency_expires_at from below only, so every windowed sweep also read every record
-- of the last `p_older_than` (2 minutes by default): in the order + pay bench, where the test profile
-- sweeps every second, that was up to ≈ 100,000 records a second by the third run, and each run was
-- slower than the one before (docs/performance.md, "The stale-payment sweep reads its window only").
-- For a PROCESSING payment record, updated_at and expires_at - 1 day are both the inserting
-- transaction's now() (column defaults; the record is not updated before its payment ends), so
-- `updated_at < now() - p_older_than` is `expires_at < now() - p_older_than + 1 day`: the same rows,
-- with a bound the index can use. Full sweeps (p_lookback NULL) read everything, as before.
CREATE OR REPLACE FUNCTION payment_recover_stale(p_older_than INTERVAL, p_limit INT, p_lookback INTERVAL DEFAULT NULL)
RETURNS TABLE (user_id BIGINT, idempotency_key VARCHAR, order_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_record RECORD;
    v_order BIGINT;
BEGIN
    FOR v_record IN EXECUTE
        'SELECT r.user_id, r.idempotency_key FROM idempotency_records r'
        || ' WHERE r.operation = ''PAYMENT'' AND r.status = ''PROCESSING'' AND r.updated_at < now() - $1'
        || CASE WHEN p_lookback IS NULL THEN ''
                ELSE ' AND r.expires_at >= now() - $3 + INTERVAL ''1 day'''
                  || ' AND r.expires_at < now() - $1 + INTERVAL ''1 day''' END
        || ' ORDER BY r.updated_at LIMIT $2 FOR UPDATE SKIP LOCKED'
        USING p_older_than, p_limit, p_lookback
    LOOP
        SELECT c.order_id INTO v_order
          FROM payment_compensate(v_record.user_id, v_record.idempotency_key,
                                  'Payment was interrupted and has been rolled back; pay again with a new key') c;
        RETURN QUERY SELECT v_record.user_id, v_record.idempotency_key, v_order;
    END LOOP;
END;
$$;
