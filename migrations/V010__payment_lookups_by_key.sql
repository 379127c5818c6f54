-- The payment's reservation and compensation reach each product through its primary key.
-- V002's payment_reserve locked the products with a join of order_items and products, and took
-- the stock with an UPDATE ... FROM the same join; payment_compensate did the same to give it back.
-- The function's cached generic plan hash-joins such a join with a sequential scan of products
-- while that table is small or not yet analysed, so every payment read every product (and every
-- dead version of one) twice: 19,578 sequential scans, 1.96 M rows in one order + pay bench run
-- (docs/performance.md, "Plans that stay on the indexes"). Now each line's product is locked with
-- one key lookup in ascending id order (the lock order of V002: lines are read ordered by product),
-- and its stock is updated by key. Outcomes, checks and written rows are V002's.

CREATE OR REPLACE FUNCTION payment_reserve(p_order BIGINT, p_user BIGINT, p_key VARCHAR)
RETURNS TABLE (outcome TEXT, response JSONB, amount BIGINT, balance BIGINT, detail TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_inserted BOOLEAN;
    v_record idempotency_records%ROWTYPE;
    v_order orders%ROWTYPE;
    v_balance BIGINT;
    v_line RECORD;
    v_product RECORD;
    -- The lines' products and quantities as locked and checked, for the stock update.
    v_pids BIGINT[] := '{}';
    v_qtys INT[] := '{}';
    v_uc_status TEXT;
    v_fail TEXT;
    v_detail TEXT;
    v_n1 BIGINT;
    v_n2 BIGINT;
BEGIN
    INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, status)
    VALUES (p_user, 'PAYMENT', p_key, p_order::TEXT, 'PROCESSING')
    ON CONFLICT DO NOTHING
    RETURNING TRUE INTO v_inserted;
    IF v_inserted IS NULL THEN
        SELECT * INTO v_record FROM idempotency_records r
         WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key;
        IF v_record.request_fingerprint <> p_order::TEXT THEN
            RETURN QUERY SELECT 'KEY_REUSED', NULL::JSONB, NULL::BIGINT, NULL::BIGINT, NULL::TEXT;
        ELSIF v_record.status = 'COMPLETED' THEN
            RETURN QUERY SELECT 'REPLAYED', v_record.response, NULL::BIGINT, NULL::BIGINT, NULL::TEXT;
        ELSIF v_record.status = 'FAILED' THEN
            RETURN QUERY SELECT 'DECLINED', v_record.response, NULL::BIGINT, NULL::BIGINT, NULL::TEXT;
        ELSE
            RETURN QUERY SELECT 'IN_PROGRESS', NULL::JSONB, NULL::BIGINT, NULL::BIGINT, NULL::TEXT;
        END IF;
        RETURN;
    END IF;

    <<checks>>
    BEGIN
        SELECT * INTO v_order FROM orders o WHERE o.id = p_order FOR NO KEY UPDATE;
        IF NOT FOUND THEN v_fail := 'ORDER_NOT_FOUND'; EXIT checks; END IF;
        SELECT u.balance INTO v_balance FROM users u WHERE u.id = p_user FOR NO KEY UPDATE;
        IF NOT FOUND THEN v_fail := 'USER_NOT_FOUND'; EXIT checks; END IF;
        IF v_order.user_id <> p_user THEN v_fail := 'NOT_OWNER'; EXIT checks; END IF;
        IF v_order.status <> 'PENDING' THEN v_fail := 'BAD_STATUS'; v_detail := v_order.status; EXIT checks; END IF;
        IF v_order.payment_key IS NOT NULL THEN v_fail := 'OTHER_PAYMENT_IN_PROGRESS'; EXIT checks; END IF;
        IF v_balance < v_order.total_amount THEN
            v_fail := 'INSUFFICIENT_BALANCE'; v_n1 := v_order.total_amount; v_n2 := v_balance; EXIT checks;
        END IF;
        -- Lines are distinct per product (create_order merges them). Each product is locked
        -- through its key, in ascending id order.
        FOR v_line IN
            SELECT i.product_id, i.quantity FROM order_items i WHERE i.order_id = p_order ORDER BY i.product_id
        LOOP
            SELECT p.name, p.stock INTO v_product FROM products p WHERE p.id = v_line.product_id
               FOR NO KEY UPDATE;
            CONTINUE WHEN NOT FOUND;  -- as V002's join: a line without its product is not taken
            IF v_line.quantity > v_product.stock THEN
                v_fail := 'INSUFFICIENT_STOCK'; v_detail := v_product.name; v_n1 := v_line.quantity;
                v_n2 := v_product.stock; EXIT checks;
            END IF;
            v_pids := v_pids || v_line.product_id;
            v_qtys := v_qtys || v_line.quantity;
        END LOOP;
        IF v_order.coupon_id IS NOT NULL THEN
            SELECT uc.status INTO v_uc_status FROM user_coupons uc
             WHERE uc.user_id = p_user AND uc.coupon_id = v_order.coupon_id FOR NO KEY UPDATE;
            IF v_uc_status IS DISTINCT FROM 'AVAILABLE' THEN
                v_fail := 'COUPON_NOT_USABLE'; v_detail := coalesce(v_uc_status, 'MISSING'); EXIT checks;
            END IF;
        END IF;
    END checks;

    IF v_fail IS NOT NULL THEN
        DELETE FROM idempotency_records r
         WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key;
        RETURN QUERY SELECT v_fail, NULL::JSONB, v_n1, v_n2, v_detail;
        RETURN;
    END IF;

    UPDATE users u SET balance = u.balance - v_order.total_amount, updated_at = now()
     WHERE u.id = p_user RETURNING u.balance INTO v_balance;
    FOR v_i IN 1 .. cardinality(v_pids) LOOP
        UPDATE products p SET stock = p.stock - v_qtys[v_i], updated_at = now() WHERE p.id = v_pids[v_i];
    END LOOP;
    IF v_order.coupon_id IS NOT NULL THEN
        UPDATE user_coupons uc SET status = 'USED', used_at = now(), used_order_id = p_order
         WHERE uc.user_id = p_user AND uc.coupon_id = v_order.coupon_id;
    END IF;
    UPDATE orders o SET payment_key = p_key WHERE o.id = p_order;
    RETURN QUERY SELECT 'RESERVED', NULL::JSONB, v_order.total_amount, v_balance, NULL::TEXT;
END;
$$;

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
        UPDATE user_coupons uc SET status = 'AVAILABLE', used_at = NULL, used_order_id = NULL
         WHERE uc.used_order_id = v_order.id AND uc.status = 'USED';
        UPDATE orders o SET payment_key = NULL WHERE o.id = v_order.id;
    END IF;
    UPDATE idempotency_records r
       SET status = 'FAILED', http_status = 402, response = jsonb_build_object('message', p_message),
           updated_at = now()
     WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key;
    RETURN QUERY SELECT 'COMPENSATED', v_order.id;
END;
$$;
