-- Fewer and cheaper statements per paid order (docs/performance.md, "Order + pay": "Plans that stay
-- on the indexes" and "Fewer statements per paid order").
--
-- 1. The payment's reservation and compensation reach each product through its primary key.
--    V002's payment_reserve locked the products with a join of order_items and products, and took
--    the stock with an UPDATE ... FROM the same join; payment_compensate did the same to give it
--    back. The function's cached generic plan hash-joins such a join with a sequential scan of
--    products while order_items is not yet analysed, so every payment read every product (and every
--    dead version of one) twice: 19,578 sequential scans, 1.96 M rows in one order + pay bench run.
--    Now each line's product is locked with one key lookup in ascending id order (V002's lock
--    order: the lines are read ordered by product), and its stock is updated by key.
-- 2. create_order walks its arrays instead of sorting them in a query: the application passes the
--    lines distinct and ascending (domain::normalize_order_lines), which the loop checks, so the
--    SELECT ... ORDER BY over unnest() and the INSERT's sort were work without effect. The answer
--    rows, and the single answer row of payment_reserve and payment_complete, are returned with
--    RETURN NEXT rather than RETURN QUERY, which ran a query (executor start-up and all) for them.
--    Together ≈ 3 % of the database's CPU per paid order (bench/sql/paid_order.pgbench, 5 pairs).
-- 3. The four functions plan their statements with enable_seqscan = off. Each statement in them
--    reaches its rows through a key, yet plpgsql keeps a statement's plan for the session's life, and
--    a plan made while a table is small (one page of order lines after an ANALYZE of a young shop,
--    or a catalogue of 100 products) is a sequential scan, which then reads the whole table on every
--    call as it grows: in one order + pay bench run from a freshly analysed database, 18,924 scans
--    read 131 M order lines and 15,279 read the products (950 paid orders/s instead of ≈ 1,650).
--    The setting only steers the planner to the index paths these statements have.
-- Outcomes, checks, lock order and written rows are those of V002 and V008.

CREATE OR REPLACE FUNCTION create_order(p_user BIGINT, p_key VARCHAR, p_fingerprint TEXT, p_products BIGINT[],
                                        p_quantities INT[], p_coupon BIGINT)
RETURNS TABLE (outcome TEXT, order_id BIGINT, product_id BIGINT, name TEXT, requested BIGINT, stock INT,
               o_user_id BIGINT, o_number TEXT, o_subtotal BIGINT, o_discount BIGINT, o_total BIGINT,
               o_status TEXT, o_created_us BIGINT, i_product_id BIGINT, i_name TEXT, i_quantity INT,
               i_unit_price BIGINT, i_subtotal BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    v_inserted BOOLEAN;
    v_record idempotency_records%ROWTYPE;
    v_i INT;
    v_pid BIGINT;
    v_qty INT;
    v_product RECORD;
    v_coupon coupons%ROWTYPE;
    v_uc user_coupons%ROWTYPE;
    v_subtotal BIGINT := 0;
    v_discount BIGINT := 0;
    v_order BIGINT;
    v_number TEXT;
    -- The order's lines as read by the checks, ascending product id, for the INSERT below.
    v_ids BIGINT[] := '{}';
    v_names TEXT[] := '{}';
    v_qtys INT[] := '{}';
    v_prices BIGINT[] := '{}';
BEGIN
    -- The record is written complete (with the id the order will get) before anything else: it
    -- commits together with the order, or is deleted below when the request is refused.
    v_order := nextval('orders_id_seq'::REGCLASS);
    INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, status,
                                     http_status, response)
    VALUES (p_user, 'ORDER', p_key, p_fingerprint, 'COMPLETED', 201, jsonb_build_object('orderId', v_order))
    ON CONFLICT DO NOTHING
    RETURNING TRUE INTO v_inserted;
    IF v_inserted IS NULL THEN
        SELECT * INTO v_record FROM idempotency_records r
         WHERE r.user_id = p_user AND r.operation = 'ORDER' AND r.idempotency_key = p_key;
        IF v_record.request_fingerprint <> p_fingerprint THEN
            outcome := 'KEY_REUSED';
            RETURN NEXT;
        ELSE
            RETURN QUERY SELECT 'REPLAYED', o.* FROM order_rows((v_record.response->>'orderId')::BIGINT) o;
        END IF;
        RETURN;
    END IF;

    -- Checks first; a refusal sets `outcome` (and its details) and leaves the block.
    <<checks>>
    BEGIN
        PERFORM 1 FROM users u WHERE u.id = p_user;
        IF NOT FOUND THEN outcome := 'USER_NOT_FOUND'; EXIT checks; END IF;

        FOR v_i IN 1 .. cardinality(p_products) LOOP
            IF v_i > 1 AND p_products[v_i] <= p_products[v_i - 1] THEN
                RAISE EXCEPTION 'create_order: products must be distinct and in ascending order';
            END IF;
            v_pid := p_products[v_i];
            v_qty := p_quantities[v_i];
            SELECT p.name, p.price, p.stock INTO v_product FROM products p WHERE p.id = v_pid;
            IF NOT FOUND THEN
                outcome := 'PRODUCT_NOT_FOUND'; product_id := v_pid; EXIT checks;
            END IF;
            IF v_qty > v_product.stock THEN
                outcome := 'INSUFFICIENT_STOCK'; product_id := v_pid; name := v_product.name;
                requested := v_qty; stock := v_product.stock; EXIT checks;
            END IF;
            v_subtotal := v_subtotal + v_product.price * v_qty;
            v_ids := v_ids || v_pid;
            v_names := v_names || v_product.name::TEXT;
            v_qtys := v_qtys || v_qty;
            v_prices := v_prices || v_product.price;
        END LOOP;

        IF p_coupon IS NOT NULL THEN
            SELECT * INTO v_coupon FROM coupons c WHERE c.id = p_coupon;
            IF NOT FOUND THEN outcome := 'COUPON_NOT_FOUND'; EXIT checks; END IF;
            SELECT * INTO v_uc FROM user_coupons uc WHERE uc.user_id = p_user AND uc.coupon_id = p_coupon;
            IF NOT FOUND THEN outcome := 'COUPON_NOT_OWNED'; EXIT checks; END IF;
            IF v_uc.status <> 'AVAILABLE' THEN outcome := 'COUPON_NOT_USABLE'; name := v_uc.status; EXIT checks; END IF;
            IF now() < v_coupon.start_date OR now() > v_coupon.end_date OR now() > v_uc.expires_at THEN
                outcome := 'COUPON_EXPIRED'; EXIT checks;
            END IF;
            v_discount := v_subtotal * v_coupon.discount_rate / 100;  -- integer division: floor
        END IF;
    END checks;

    IF outcome IS NOT NULL THEN
        -- Refused: delete the record inserted above; nothing else has been written.
        DELETE FROM idempotency_records r
         WHERE r.user_id = p_user AND r.operation = 'ORDER' AND r.idempotency_key = p_key;
        RETURN NEXT;  -- the other columns are NULL
        RETURN;
    END IF;

    -- "ORDER-" + 8 hex digits like the original, from a bijection of the id (unique, not sequential).
    v_number := 'ORDER-' || CASE WHEN v_order < 4294967296
        THEN upper(lpad(to_hex(((v_order::NUMERIC * 2654435761) % 4294967296)::BIGINT), 8, '0'))
        ELSE upper(to_hex(v_order)) END;
    INSERT INTO orders (id, order_number, user_id, coupon_id, subtotal_amount, discount_amount, total_amount,
                        status)
    VALUES (v_order, v_number, p_user, p_coupon, v_subtotal, v_discount, v_subtotal - v_discount, 'PENDING');
    INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price, subtotal)
    SELECT v_order, l.pid, l.name, l.qty, l.price, l.price * l.qty
      FROM unnest(v_ids, v_names, v_qtys, v_prices) AS l(pid, name, qty, price);

    -- The new order's rows as order_rows() would read them back, from what was just written.
    outcome := 'CREATED'; order_id := v_order; o_user_id := p_user; o_number := v_number;
    o_subtotal := v_subtotal; o_discount := v_discount; o_total := v_subtotal - v_discount;
    o_status := 'PENDING'; o_created_us := epoch_us(now());
    FOR v_i IN 1 .. cardinality(v_ids) LOOP
        i_product_id := v_ids[v_i]; i_name := v_names[v_i]; i_quantity := v_qtys[v_i];
        i_unit_price := v_prices[v_i]; i_subtotal := v_prices[v_i] * v_qtys[v_i];
        RETURN NEXT;
    END LOOP;
END;
$$;

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
    outcome := 'RESERVED'; amount := v_order.total_amount; balance := v_balance;
    RETURN NEXT;
END;
$$;

CREATE OR REPLACE FUNCTION payment_complete(p_order BIGINT, p_user BIGINT, p_key VARCHAR, p_transmission TEXT)
RETURNS TABLE (outcome TEXT, response JSONB)
LANGUAGE plpgsql AS $$
DECLARE
    v_status TEXT;
    v_order orders%ROWTYPE;
    v_now TIMESTAMPTZ := now();
    v_response JSONB;
BEGIN
    SELECT r.status INTO v_status FROM idempotency_records r
     WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key FOR UPDATE;
    IF v_status IS DISTINCT FROM 'PROCESSING' THEN
        RETURN QUERY SELECT 'NOT_PROCESSING', NULL::JSONB; RETURN;
    END IF;
    UPDATE orders o SET status = 'COMPLETED', paid_at = v_now, payment_key = NULL
     WHERE o.id = p_order RETURNING * INTO v_order;
    v_response := jsonb_build_object(
        'orderId', p_order, 'paidAmount', v_order.total_amount,
        'remainingBalance', (SELECT u.balance FROM users u WHERE u.id = p_user),
        'status', 'SUCCESS', 'dataTransmission', p_transmission, 'paidAtUs', epoch_us(v_now));
    INSERT INTO outbox_events (event_type, aggregate_id, payload)
    VALUES ('OrderCompleted', p_order, jsonb_build_object(
        'orderId', p_order, 'userId', p_user, 'totalAmount', v_order.total_amount, 'paidAtUs', epoch_us(v_now),
        'items', (SELECT jsonb_agg(jsonb_build_object('productId', i.product_id, 'quantity', i.quantity)
                                   ORDER BY i.product_id)
                    FROM order_items i WHERE i.order_id = p_order)));
    UPDATE idempotency_records r SET status = 'COMPLETED', http_status = 200, response = v_response,
                                     updated_at = v_now
     WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key;
    outcome := 'COMPLETED'; response := v_response;
    RETURN NEXT;
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

ALTER FUNCTION create_order(BIGINT, VARCHAR, TEXT, BIGINT[], INT[], BIGINT) SET enable_seqscan = off;
ALTER FUNCTION payment_reserve(BIGINT, BIGINT, VARCHAR) SET enable_seqscan = off;
ALTER FUNCTION payment_complete(BIGINT, BIGINT, VARCHAR, TEXT) SET enable_seqscan = off;
ALTER FUNCTION payment_compensate(BIGINT, VARCHAR, TEXT) SET enable_seqscan = off;
