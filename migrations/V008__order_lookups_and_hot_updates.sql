-- Less database work per paid order (docs/performance.md, "Order + pay": "Plans that stay on the
-- indexes").
--
-- 1. create_order looks each product up by its primary key and writes the order lines from what
--    that lookup read. V002 joined unnest(p_products) with products twice (checks, then the lines'
--    INSERT). The function's cached generic plan hash-joins such a join with a sequential scan of
--    products while that table has ~100 rows, so every order read every product (and every dead
--    version of every product) twice: 24,696 sequential scans in one 10 s order + pay bench run,
--    ≈ 3 % of the database's CPU in its profile. Outcomes, checks, lock order and written rows are
--    V002's. The answer is built from the values just written instead of reading the order and
--    its lines back (order_rows).
-- 2. users get room on each page (fillfactor 85) for the payment's balance update to stay on the
--    page (a HOT update, no new index entries). Packed pages turned most of those updates into
--    moves to another page with a new entry in each of the table's two indexes.
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
    v_line RECORD;
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

        FOR v_line IN
            SELECT req.pid, req.qty FROM unnest(p_products, p_quantities) AS req(pid, qty) ORDER BY req.pid
        LOOP
            SELECT p.name, p.price, p.stock INTO v_product FROM products p WHERE p.id = v_line.pid;
            IF NOT FOUND THEN
                outcome := 'PRODUCT_NOT_FOUND'; product_id := v_line.pid; EXIT checks;
            END IF;
            IF v_line.qty > v_product.stock THEN
                outcome := 'INSUFFICIENT_STOCK'; product_id := v_line.pid; name := v_product.name;
                requested := v_line.qty; stock := v_product.stock; EXIT checks;
            END IF;
            v_subtotal := v_subtotal + v_product.price * v_line.qty;
            v_ids := v_ids || v_line.pid;
            v_names := v_names || v_product.name::TEXT;
            v_qtys := v_qtys || v_line.qty;
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
      FROM unnest(v_ids, v_names, v_qtys, v_prices) AS l(pid, name, qty, price)
     ORDER BY l.pid;

    -- The new order's rows as order_rows() would read them back, from what was just written.
    RETURN QUERY
    SELECT 'CREATED', v_order, NULL::BIGINT, NULL::TEXT, NULL::BIGINT, NULL::INT, p_user, v_number, v_subtotal,
           v_discount, v_subtotal - v_discount, 'PENDING'::TEXT, epoch_us(now()), l.pid, l.name, l.qty, l.price,
           l.price * l.qty
      FROM unnest(v_ids, v_names, v_qtys, v_prices) AS l(pid, name, qty, price)
     ORDER BY l.pid;
END;
$$;

ALTER TABLE users SET (fillfactor = 85);
