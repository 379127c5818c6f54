-- An order creation's idempotency key (and its request's fingerprint) is kept on the order itself,
-- under a unique index, instead of in a separate idempotency record.
--
-- create_order wrote an idempotency record first (INSERT ... ON CONFLICT DO NOTHING: a heap row
-- with a JSONB response, an entry in its primary key and one in idx_idempotency_expires_at) and the
-- order after it. The order row now carries the key, and its INSERT is the one that meets a
-- concurrent or earlier request with the same key (ON CONFLICT on uk_orders_user_key): one
-- statement, one heap row and one index entry fewer per order; −2.5 % of the database's
-- instructions per paid order (bench/sql_instructions.sh; docs/performance.md).
--
-- What a client sees is unchanged:
--   - the same key with the same request answers the order as it is now (REPLAYED), with a
--     different request KEY_REUSED, including when the checks would refuse the request today
--     (stock sold out since): a refusal first looks for an order with the key;
--   - two concurrent requests with one key: the second's INSERT waits for the first's commit, then
--     answers REPLAYED (or creates the order if the first was refused, as before). One difference:
--     the checks now run before that wait, so if they refuse the second request (a payment took
--     the last units in between) while the first is still uncommitted, the second answers its
--     refusal instead of waiting for the replay. Nothing is written for it either way;
--   - a refused request writes nothing, so its key can be used again.
-- Keys of existing orders move from their records to the orders; the records are deleted.
-- The checks are V020's; the rest of the body changes only where the record was written or read.

ALTER TABLE orders ADD COLUMN idempotency_key VARCHAR(100), ADD COLUMN request_fingerprint TEXT;

UPDATE orders o SET idempotency_key = r.idempotency_key, request_fingerprint = r.request_fingerprint
  FROM idempotency_records r
 WHERE r.operation = 'ORDER' AND r.user_id = o.user_id AND (r.response->>'orderId')::BIGINT = o.id;
DELETE FROM idempotency_records WHERE operation = 'ORDER';

CREATE UNIQUE INDEX uk_orders_user_key ON orders (user_id, idempotency_key);

-- The answer to a request whose key `p_user` already used for an order: REPLAYED with the order's
-- rows, or KEY_REUSED for a different request; no row when the key is unused.
CREATE FUNCTION order_replay(p_user BIGINT, p_key VARCHAR, p_fingerprint TEXT)
RETURNS SETOF order_creation
LANGUAGE plpgsql AS $$
DECLARE
    v_row order_creation;  -- KEY_REUSED: only the outcome is set
    v_order BIGINT;
    v_fingerprint TEXT;
BEGIN
    SELECT o.id, o.request_fingerprint INTO v_order, v_fingerprint
      FROM orders o WHERE o.user_id = p_user AND o.idempotency_key = p_key;
    IF NOT FOUND THEN RETURN; END IF;
    IF v_fingerprint IS DISTINCT FROM p_fingerprint THEN
        v_row.outcome := 'KEY_REUSED';
        RETURN NEXT v_row;
        RETURN;
    END IF;
    RETURN QUERY SELECT 'REPLAYED', o.* FROM order_rows(v_order) o;
END;
$$;

CREATE OR REPLACE FUNCTION create_order(p_user BIGINT, p_key VARCHAR, p_fingerprint TEXT, p_products BIGINT[],
                                        p_quantities INT[], p_coupon BIGINT)
RETURNS SETOF order_creation
LANGUAGE plpgsql AS $$
DECLARE
    v_row order_creation;  -- the row returned: the outcome, the refusal's details or the order's lines
    v_inserted BOOLEAN;
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
        -- Refused today, but the key may be that of an order created earlier: that is a replay.
        RETURN QUERY SELECT * FROM order_replay(p_user, p_key, p_fingerprint);
        IF NOT FOUND THEN RETURN NEXT v_row; END IF;  -- the other columns are NULL
        RETURN;
    END IF;

    -- "ORDER-" + 8 hex digits like the original, from a bijection of the id (unique, not sequential).
    v_order := nextval('orders_id_seq'::REGCLASS);
    v_number := 'ORDER-' || CASE WHEN v_order < 4294967296
        THEN upper(lpad(to_hex(((v_order::NUMERIC * 2654435761) % 4294967296)::BIGINT), 8, '0'))
        ELSE upper(to_hex(v_order)) END;
    INSERT INTO orders (id, order_number, user_id, coupon_id, subtotal_amount, discount_amount, total_amount,
                        status, idempotency_key, request_fingerprint)
    VALUES (v_order, v_number, p_user, p_coupon, v_subtotal, v_discount, v_subtotal - v_discount, 'PENDING',
            p_key, p_fingerprint)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING TRUE INTO v_inserted;
    IF v_inserted IS NULL THEN
        -- The key's order exists (committed before this INSERT, or by a concurrent request it waited for).
        RETURN QUERY SELECT * FROM order_replay(p_user, p_key, p_fingerprint);
        RETURN;
    END IF;
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
-- CREATE OR REPLACE resets the function's settings (V018's reasons).
ALTER FUNCTION create_order(BIGINT, VARCHAR, TEXT, BIGINT[], INT[], BIGINT) SET enable_seqscan = off;
ALTER FUNCTION create_order(BIGINT, VARCHAR, TEXT, BIGINT[], INT[], BIGINT)
    SET plan_cache_mode = force_generic_plan;
