-- A declined or abandoned payment gives its coupon back through the coupon's key.
--
-- payment_compensate found the coupon to restore by `used_order_id`, which no index covers: every
-- compensation, with a coupon or without, read all of user_coupons (a table that grows by one row
-- per coupon issued). The coupon a payment used is the order's `coupon_id` held by the order's
-- user (payment_reserve marks exactly that row), so it is now looked up by
-- uk_user_coupons_user_coupon, and not at all for an order without a coupon. The rest is V010's
-- body.
CREATE OR REPLACE FUNCTION payment_compensate(p_user BIGINT, p_key VARCHAR, p_message TEXT)
RETURNS TABLE (outcome TEXT, order_id BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_record idempotency_records%ROWTYPE;
    v_order orders%ROWTYPE;
    v_line RECORD;
BEGIN
    SELECT * INTO v_record FROM idempotency_records r
     WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key FOR UPDATE;
    IF v_record.status IS DISTINCT FROM 'PROCESSING' THEN
        RETURN QUERY SELECT 'NOT_PROCESSING', NULL::BIGINT; RETURN;
    END IF;
    SELECT * INTO v_order FROM orders o WHERE o.id = v_record.request_fingerprint::BIGINT FOR NO KEY UPDATE;
    IF v_order.payment_key IS NOT DISTINCT FROM p_key AND v_order.status = 'PENDING' THEN
        UPDATE users u SET balance = u.balance + v_order.total_amount, updated_at = now()
         WHERE u.id = v_order.user_id;
        FOR v_line IN
            SELECT i.product_id, i.quantity FROM order_items i WHERE i.order_id = v_order.id ORDER BY i.product_id
        LOOP
            UPDATE products p SET stock = p.stock + v_line.quantity, updated_at = now()
             WHERE p.id = v_line.product_id;
        END LOOP;
        IF v_order.coupon_id IS NOT NULL THEN
            UPDATE user_coupons uc SET status = 'AVAILABLE', used_at = NULL, used_order_id = NULL
             WHERE uc.user_id = v_order.user_id AND uc.coupon_id = v_order.coupon_id
               AND uc.used_order_id = v_order.id AND uc.status = 'USED';
        END IF;
        UPDATE orders o SET payment_key = NULL WHERE o.id = v_order.id;
    END IF;
    UPDATE idempotency_records r
       SET status = 'FAILED', http_status = 402, response = jsonb_build_object('message', p_message),
           updated_at = now()
     WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key;
    RETURN QUERY SELECT 'COMPENSATED', v_order.id;
END;
$$;
-- CREATE OR REPLACE resets a function's settings: V010's and V018's again.
ALTER FUNCTION payment_compensate(BIGINT, VARCHAR, TEXT) SET enable_seqscan = off;
ALTER FUNCTION payment_compensate(BIGINT, VARCHAR, TEXT) SET plan_cache_mode = force_generic_plan;
