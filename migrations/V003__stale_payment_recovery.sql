-- Recovery of payments left between step 1 (reserve) and step 3 (complete/compensate) by a crash
-- of the instance running them (SPEC §11: no paid order or charge is lost or applied twice). Their
-- idempotency record stays PROCESSING with balance, stock and coupon taken; after `p_older_than`
-- they are compensated exactly like a decline, so the money and stock come back and the order can
-- be paid again. SKIP LOCKED lets several instances sweep at once without waiting on each other or
-- on a payment that is completing right now.
CREATE FUNCTION payment_recover_stale(p_older_than INTERVAL, p_limit INT)
RETURNS TABLE (user_id BIGINT, idempotency_key VARCHAR, order_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_record RECORD;
    v_order BIGINT;
BEGIN
    FOR v_record IN
        SELECT r.user_id, r.idempotency_key FROM idempotency_records r
         WHERE r.operation = 'PAYMENT' AND r.status = 'PROCESSING' AND r.updated_at < now() - p_older_than
         ORDER BY r.updated_at
         LIMIT p_limit
           FOR UPDATE SKIP LOCKED
    LOOP
        SELECT c.order_id INTO v_order
          FROM payment_compensate(v_record.user_id, v_record.idempotency_key,
                                  'Payment was interrupted and has been rolled back; pay again with a new key') c;
        RETURN QUERY SELECT v_record.user_id, v_record.idempotency_key, v_order;
    END LOOP;
END;
$$;
