-- The periodic stale-payment sweep reads recent records only. V003's payment_recover_stale read all
-- of idempotency_records on every call (every record ever written: payments, charges and orders),
-- so its cost grew with the table without bound (72 sequential scans, 2.45 M rows in one 3-run order
-- + pay bench, where it runs every second). With `p_lookback` it reads only the records written in
-- that interval before now, through idx_idempotency_expires_at: a record's expires_at is its
-- insertion time + 1 day (the column's default, never updated), and a PROCESSING payment record is
-- not updated before its payment ends. NULL reads everything, as before: the application does that
-- at start-up and every payment.full-recovery-interval (RecoverStalePayments), which also catches
-- a record a windowed sweep skipped (SKIP LOCKED) while another session held it and then rolled
-- back. The query is planned at each call (EXECUTE) so that the window's bounds choose the index.
DROP FUNCTION payment_recover_stale(INTERVAL, INT);
CREATE FUNCTION payment_recover_stale(p_older_than INTERVAL, p_limit INT, p_lookback INTERVAL DEFAULT NULL)
RETURNS TABLE (user_id BIGINT, idempotency_key VARCHAR, order_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_record RECORD;
    v_order BIGINT;
BEGIN
    FOR v_record IN EXECUTE
        'SELECT r.user_id, r.idempotency_key FROM idempotency_records r'
        || ' WHERE r.operation = ''PAYMENT'' AND r.status = ''PROCESSING'' AND r.updated_at < now() - $1'
        || CASE WHEN p_lookback IS NULL THEN '' ELSE ' AND r.expires_at >= now() - $3 + INTERVAL ''1 day''' END
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
