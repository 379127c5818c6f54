-- The invariants of orders and order lines are kept by triggers that fire only when a statement
-- writes a column they involve, instead of CHECK constraints (docs/performance.md, "Order + pay":
-- "Invariants checked where they can break").
--
-- PostgreSQL evaluates every CHECK constraint of a table on every INSERT and every UPDATE of it,
-- and each statement first rebuilds them from their stored form (parse, plan, compile): every
-- plpgsql statement is a new executor. A paid order writes its orders row three times (created;
-- payment_key set by the reservation; COMPLETED) and its lines once, so it rebuilt the 8
-- constraints of the two tables 18 times. That was most of the ≈ 8 % of the database's CPU per paid
-- order spent in ExecConstraints (perf; the DB-only bench without these constraints used 7–10 %
-- less CPU). The trigger functions below are compiled once per session, and the reservation's
-- UPDATE, which sets only payment_key, fires none: it writes no column an invariant involves, so
-- it cannot break one. Same rules, same SQLSTATE as before (23514 check_violation) on INSERT and on
-- any UPDATE that writes one of the columns. (5 alternating DB-only pairs: 4 faster, median CPU
-- per paid order −5 %.)
ALTER TABLE orders
    DROP CONSTRAINT orders_subtotal_amount_check,
    DROP CONSTRAINT orders_discount_amount_check,
    DROP CONSTRAINT orders_status_check,
    DROP CONSTRAINT ck_orders_amounts,
    DROP CONSTRAINT ck_orders_paid;
ALTER TABLE order_items
    DROP CONSTRAINT order_items_quantity_check,
    DROP CONSTRAINT order_items_unit_price_check,
    DROP CONSTRAINT ck_order_items_subtotal;

CREATE FUNCTION orders_invariants() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (NEW.subtotal_amount > 0 AND NEW.discount_amount >= 0
            AND NEW.discount_amount <= NEW.subtotal_amount
            AND NEW.total_amount = NEW.subtotal_amount - NEW.discount_amount
            AND NEW.status IN ('PENDING', 'COMPLETED', 'CANCELLED')
            AND (NEW.status = 'COMPLETED') = (NEW.paid_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'new row of orders (id %) violates its invariants', NEW.id
            USING ERRCODE = 'check_violation',
                  DETAIL = 'Amounts: subtotal > 0, 0 <= discount <= subtotal, total = subtotal - discount; '
                           'status PENDING, COMPLETED or CANCELLED; paid_at set exactly when COMPLETED.';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER orders_invariants
    BEFORE INSERT OR UPDATE OF subtotal_amount, discount_amount, total_amount, status, paid_at ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_invariants();

CREATE FUNCTION order_items_invariants() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (NEW.quantity >= 1 AND NEW.unit_price > 0 AND NEW.subtotal = NEW.unit_price * NEW.quantity) THEN
        RAISE EXCEPTION 'new row of order_items (id %) violates its invariants', NEW.id
            USING ERRCODE = 'check_violation',
                  DETAIL = 'quantity >= 1, unit_price > 0, subtotal = unit_price * quantity.';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER order_items_invariants
    BEFORE INSERT OR UPDATE OF quantity, unit_price, subtotal ON order_items
    FOR EACH ROW EXECUTE FUNCTION order_items_invariants();
