-- payment_complete in three statements instead of five: the idempotency record is completed by one
-- guarded UPDATE (WHERE it is still PROCESSING) that also builds the receipt, instead of a
-- SELECT ... FOR UPDATE first and an UPDATE last. The lock order (record, then order) and the rows
-- written are those of V010. The receipt reads the order's total before the order's UPDATE (a
-- total never changes after creation) and the user's balance without a lock, as V010 did.
-- 1.4 % fewer database instructions per paid order (docs/performance.md, "Instructions per paid
-- order"). Outcomes: COMPLETED (response) | NOT_PROCESSING (compensated meanwhile, e.g. by the
-- stale-payment sweep).
CREATE OR REPLACE FUNCTION payment_complete(p_order BIGINT, p_user BIGINT, p_key VARCHAR, p_transmission TEXT)
RETURNS TABLE (outcome TEXT, response JSONB)
LANGUAGE plpgsql AS $$
DECLARE
    v_now TIMESTAMPTZ := now();
    v_total BIGINT;
    v_response JSONB;
BEGIN
    UPDATE idempotency_records r
       SET status = 'COMPLETED', http_status = 200, updated_at = v_now,
           response = jsonb_build_object(
               'orderId', p_order, 'paidAmount', (SELECT o.total_amount FROM orders o WHERE o.id = p_order),
               'remainingBalance', (SELECT u.balance FROM users u WHERE u.id = p_user),
               'status', 'SUCCESS', 'dataTransmission', p_transmission, 'paidAtUs', epoch_us(v_now))
     WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key
       AND r.status = 'PROCESSING'
    RETURNING r.response INTO v_response;
    IF NOT FOUND THEN
        outcome := 'NOT_PROCESSING';
        RETURN NEXT;
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
    outcome := 'COMPLETED'; response := v_response;
    RETURN NEXT;
END;
$$;

ALTER FUNCTION payment_complete(BIGINT, BIGINT, VARCHAR, TEXT) SET enable_seqscan = off;
