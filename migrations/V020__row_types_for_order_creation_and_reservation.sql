-- create_order and payment_reserve return declared row types, and create_order writes an order's
-- lines with one plain INSERT each.
--
-- A `RETURNS TABLE` function's result is a record type that PostgreSQL rebuilds from the function's
-- argument lists (types, modes, names: 18 columns for create_order) each time a call is set up,
-- with a catalog lookup per column; a declared row type's descriptor comes from the type cache.
-- The columns, their names, types and order are the same as before, so callers are unchanged.
-- The lines were inserted from unnest() over four arrays, a four-function scan set up per order;
-- orders have one or a few lines. Together −3.0 % of the database's instructions per paid order
-- (bench/sql_instructions.sh). The bodies are otherwise V015's payment_reserve and V010's
-- create_order, with the OUT parameters now fields of `v_row`.

CREATE TYPE order_creation AS (
    outcome TEXT, order_id BIGINT, product_id BIGINT, name TEXT, requested BIGINT, stock INT,
    o_user_id BIGINT, o_number TEXT, o_subtotal BIGINT, o_discount BIGINT, o_total BIGINT, o_status TEXT,
    o_created_us BIGINT, i_product_id BIGINT, i_name TEXT, i_quantity INT, i_unit_price BIGINT,
    i_subtotal BIGINT);

DROP FUNCTION create_order(BIGINT, VARCHAR, TEXT, BIGINT[], INT[], BIGINT);
CREATE FUNCTION create_order(p_user BIGINT, p_key VARCHAR, p_fingerprint TEXT, p_products BIGINT[],
                             p_quantities INT[], p_coupon BIGINT)
RETURNS SETOF order_creation
LANGUAGE plpgsql AS $$
DECLARE
    v_row order_creation;  -- the row returned: the outcome, the refusal's details or the order's lines
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
            v_row.outcome := 'KEY_REUSED';
            RETURN NEXT v_row;
        ELSE
            RETURN QUERY SELECT 'REPLAYED', o.* FROM order_rows((v_record.response->>'orderId')::BIGINT) o;
        END IF;
        RETURN;
    END IF;

    -- Checks first; a refusal sets `outcome` (and its details) and leaves the block.
    <<checks>>
    BEGIN
        PERFORM 1 FROM users u WHERE u.id = p_user;
        IF NOT FOUND THEN v_row.outcome := 'USER_NOT_FOUND'; EXIT checks; END IF;

        FOR v_i IN 1 .. cardinality(p_products) LOOP
            IF v_i > 1 AND p_products[v_i] <= p_products[v_i - 1] THEN
                RAISE EXCEPTION 'create_order: products must be distinct and in ascending order';
            END IF;
            v_pid := p_products[v_i];
            v_qty := p_quantities[v_i];
            SELECT p.name, p.price, p.stock INTO v_product FROM products p WHERE p.id = v_pid;
            IF NOT FOUND THEN
                v_row.outcome := 'PRODUCT_NOT_FOUND'; v_row.product_id := v_pid; EXIT checks;
            END IF;
            IF v_qty > v_product.stock THEN
                v_row.outcome := 'INSUFFICIENT_STOCK'; v_row.product_id := v_pid;
                v_row.name := v_product.name; v_row.requested := v_qty; v_row.stock := v_product.stock;
                EXIT checks;
            END IF;
            v_subtotal := v_subtotal + v_product.price * v_qty;
            v_ids := v_ids || v_pid;
            v_names := v_names || v_product.name::TEXT;
            v_qtys := v_qtys || v_qty;
            v_prices := v_prices || v_product.price;
        END LOOP;

        IF p_coupon IS NOT NULL THEN
            SELECT * INTO v_coupon FROM coupons c WHERE c.id = p_coupon;
            IF NOT FOUND THEN v_row.outcome := 'COUPON_NOT_FOUND'; EXIT checks; END IF;
            SELECT * INTO v_uc FROM user_coupons uc WHERE uc.user_id = p_user AND uc.coupon_id = p_coupon;
            IF NOT FOUND THEN v_row.outcome := 'COUPON_NOT_OWNED'; EXIT checks; END IF;
            IF v_uc.status <> 'AVAILABLE' THEN
                v_row.outcome := 'COUPON_NOT_USABLE'; v_row.name := v_uc.status; EXIT checks;
            END IF;
            IF now() < v_coupon.start_date OR now() > v_coupon.end_date OR now() > v_uc.expires_at THEN
                v_row.outcome := 'COUPON_EXPIRED'; EXIT checks;
            END IF;
            v_discount := v_subtotal * v_coupon.discount_rate / 100;  -- integer division: floor
        END IF;
    END checks;

    IF v_row.outcome IS NOT NULL THEN
        -- Refused: delete the record inserted above; nothing else has been written.
        DELETE FROM idempotency_records r
         WHERE r.user_id = p_user AND r.operation = 'ORDER' AND r.idempotency_key = p_key;
        RETURN NEXT v_row;  -- the other columns are NULL
        RETURN;
    END IF;

    -- "ORDER-" + 8 hex digits like the original, from a bijection of the id (unique, not sequential).
    v_number := 'ORDER-' || CASE WHEN v_order < 4294967296
        THEN upper(lpad(to_hex(((v_order::NUMERIC * 2654435761) % 4294967296)::BIGINT), 8, '0'))
        ELSE upper(to_hex(v_order)) END;
    INSERT INTO orders (id, order_number, user_id, coupon_id, subtotal_amount, discount_amount, total_amount,
                        status)
    VALUES (v_order, v_number, p_user, p_coupon, v_subtotal, v_discount, v_subtotal - v_discount, 'PENDING');
    FOR v_i IN 1 .. cardinality(v_ids) LOOP
        INSERT INTO order_items (order_id, product_id, product_name, quantity, unit_price, subtotal)
        VALUES (v_order, v_ids[v_i], v_names[v_i], v_qtys[v_i], v_prices[v_i], v_prices[v_i] * v_qtys[v_i]);
    END LOOP;

    -- The new order's rows as order_rows() would read them back, from what was just written.
    v_row.outcome := 'CREATED'; v_row.order_id := v_order; v_row.o_user_id := p_user;
    v_row.o_number := v_number; v_row.o_subtotal := v_subtotal; v_row.o_discount := v_discount;
    v_row.o_total := v_subtotal - v_discount; v_row.o_status := 'PENDING';
    v_row.o_created_us := epoch_us(now());
    FOR v_i IN 1 .. cardinality(v_ids) LOOP
        v_row.i_product_id := v_ids[v_i]; v_row.i_name := v_names[v_i]; v_row.i_quantity := v_qtys[v_i];
        v_row.i_unit_price := v_prices[v_i]; v_row.i_subtotal := v_prices[v_i] * v_qtys[v_i];
        RETURN NEXT v_row;
    END LOOP;
END;
$$;
ALTER FUNCTION create_order(BIGINT, VARCHAR, TEXT, BIGINT[], INT[], BIGINT) SET enable_seqscan = off;
ALTER FUNCTION create_order(BIGINT, VARCHAR, TEXT, BIGINT[], INT[], BIGINT)
    SET plan_cache_mode = force_generic_plan;

CREATE TYPE payment_reservation AS (outcome TEXT, response JSONB, amount BIGINT, balance BIGINT, detail TEXT);

DROP FUNCTION payment_reserve(BIGINT, BIGINT, VARCHAR);
CREATE FUNCTION payment_reserve(p_order BIGINT, p_user BIGINT, p_key VARCHAR)
RETURNS SETOF payment_reservation
LANGUAGE plpgsql AS $$
DECLARE
    v_row payment_reservation;  -- the row returned
    v_inserted BOOLEAN;
    v_record idempotency_records%ROWTYPE;
    v_total BIGINT;
    v_coupon BIGINT;
    v_balance BIGINT;
    v_line RECORD;
    -- The lines whose stock was taken, for putting it back.
    v_pids BIGINT[] := '{}';
    v_qtys INT[] := '{}';
    v_short BOOLEAN := FALSE;
BEGIN
    INSERT INTO idempotency_records (user_id, operation, idempotency_key, request_fingerprint, status)
    VALUES (p_user, 'PAYMENT', p_key, p_order::TEXT, 'PROCESSING')
    ON CONFLICT DO NOTHING
    RETURNING TRUE INTO v_inserted;
    IF v_inserted IS NULL THEN
        SELECT * INTO v_record FROM idempotency_records r
         WHERE r.user_id = p_user AND r.operation = 'PAYMENT' AND r.idempotency_key = p_key;
        IF v_record.request_fingerprint <> p_order::TEXT THEN
            v_row.outcome := 'KEY_REUSED';
        ELSIF v_record.status = 'COMPLETED' THEN
            v_row.outcome := 'REPLAYED'; v_row.response := v_record.response;
        ELSIF v_record.status = 'FAILED' THEN
            v_row.outcome := 'DECLINED'; v_row.response := v_record.response;
        ELSE
            v_row.outcome := 'IN_PROGRESS';
        END IF;
        RETURN NEXT v_row;
        RETURN;
    END IF;

    UPDATE orders o SET payment_key = p_key
     WHERE o.id = p_order AND o.user_id = p_user AND o.status = 'PENDING' AND o.payment_key IS NULL
    RETURNING o.total_amount, o.coupon_id INTO v_total, v_coupon;
    IF FOUND THEN
        UPDATE users u SET balance = u.balance - v_total, updated_at = now()
         WHERE u.id = p_user AND u.balance >= v_total
        RETURNING u.balance INTO v_balance;
        IF FOUND THEN
            FOR v_line IN
                SELECT i.product_id, i.quantity FROM order_items i WHERE i.order_id = p_order ORDER BY i.product_id
            LOOP
                UPDATE products p SET stock = p.stock - v_line.quantity, updated_at = now()
                 WHERE p.id = v_line.product_id AND p.stock >= v_line.quantity;
                IF NOT FOUND THEN v_short := TRUE; EXIT; END IF;
                v_pids := v_pids || v_line.product_id;
                v_qtys := v_qtys || v_line.quantity;
            END LOOP;
            IF NOT v_short AND v_coupon IS NOT NULL THEN
                UPDATE user_coupons uc SET status = 'USED', used_at = now(), used_order_id = p_order
                 WHERE uc.user_id = p_user AND uc.coupon_id = v_coupon AND uc.status = 'AVAILABLE';
                v_short := NOT FOUND;
            END IF;
            IF NOT v_short THEN
                v_row.outcome := 'RESERVED'; v_row.amount := v_total; v_row.balance := v_balance;
                RETURN NEXT v_row;
                RETURN;
            END IF;
            -- Put back what was taken; the checks below name the refusal.
            FOR v_i IN 1 .. cardinality(v_pids) LOOP
                UPDATE products p SET stock = p.stock + v_qtys[v_i] WHERE p.id = v_pids[v_i];
            END LOOP;
            UPDATE users u SET balance = u.balance + v_total WHERE u.id = p_user;
        END IF;
        UPDATE orders o SET payment_key = NULL WHERE o.id = p_order;
    END IF;
    RETURN QUERY SELECT * FROM payment_reserve_checked(p_order, p_user, p_key);
END;
$$;
ALTER FUNCTION payment_reserve(BIGINT, BIGINT, VARCHAR) SET enable_seqscan = off;
ALTER FUNCTION payment_reserve(BIGINT, BIGINT, VARCHAR) SET plan_cache_mode = force_generic_plan;
