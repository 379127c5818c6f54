-- Payment step 3 takes the receipt's amount and balance from step 1 instead of reading them again.
--
-- payment_reserve returns the order's total and the balance it left; the service passes both on. The
-- receipt's `remainingBalance` is thus the balance right after this payment's deduction, as in the
-- original service (which deducted and answered in one transaction), not whatever concurrent charges
-- made of it by step 3; the event keeps the order's total as stored. Without the receipt's two
-- lookups (each a subquery with its own index scan) a paid order costs the database 2.3 % fewer
-- instructions (bench/sql_instructions.sh).
--
-- The function returns a declared row type: for a `RETURNS TABLE` function PostgreSQL rebuilds the
-- result's row descriptor from the argument lists on every call; a row type's is cached.
--
-- The four-argument payment_complete stays for instances still running the previous release during a
-- rolling upgrade; a later migration drops it.
CREATE TYPE payment_completion AS (outcome TEXT, response JSONB);

CREATE FUNCTION payment_complete(p_order BIGINT, p_user BIGINT, p_key VARCHAR, p_transmission TEXT,
                                 p_amount BIGINT, p_balance BIGINT)
RETURNS SETOF payment_completion
LANGUAGE plpgsql AS $$
DECLARE
    v_now TIMESTAMPTZ := now();
    v_total BIGINT;
    v_response JSONB;
BEGIN
    UPDATE idempotency_records r
       SET status = 'COMPLETED', http_status = 200, updated_at = v_now,
           response = jsonb_build_object(
               'orderId', p_order, 'paidAmount', p_amount, 'remainingBalance', p_balance,
               'status', 'SUCCESS', 'dataTransmission', p_transmission, 'paidAtUs', epoch_us(v_now))
     WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key
       AND r.status = 'PROCESSING'
    RETURNING r.response INTO v_response;
    IF NOT FOUND THEN
        RETURN NEXT ROW('NOT_PROCESSING', NULL)::payment_completion;
        RETURN;
    END IF;
    UPDATE orders o SET status = 'COMPLETED', paid_at = v_now, payment_key = NULL
     WHERE o.id = p_order RETURNING o.total_amount INTO v_total;
    INSERT INTO outbox_events (event_type, aggregate_id, payload)
    VALUES ('OrderCompleted', p_order, jsonb_build_object(
        'orderId', p_order, 'userId', p_user, 'totalAmount', v_total, 'paidAtUs', epoch_us(v_now),
        'items', (SELECT jsonb_agg(jsonb_build_object('productId', i.product_id, 'quantity', i.quantity)
                                   ORDER BY i.product_id)
                    FROM order_items i WHERE i.order_id = p_order)));
    RETURN NEXT ROW('COMPLETED', v_response)::payment_completion;
END;
$$;
ALTER FUNCTION payment_complete(BIGINT, BIGINT, VARCHAR, TEXT, BIGINT, BIGINT) SET enable_seqscan = off;
ALTER FUNCTION payment_complete(BIGINT, BIGINT, VARCHAR, TEXT, BIGINT, BIGINT)
    SET plan_cache_mode = force_generic_plan;
