-- FCFS coupon reservation (SPEC §7): the database half. Reservations are decided in Redis; the
-- issuers turn each into a user coupon here, one transaction per request, and the gate is
-- (re)initialised from what this database says was issued.

-- The guarded increment plus the unique user coupon, shared by the synchronous issue and the
-- issuers. The insert comes first so a second coupon for the same user is refused without touching
-- the counter; when the counter is full the inserted row is removed again (same transaction).
-- Outcomes: ISSUED, ALREADY_ISSUED, SOLD_OUT.
CREATE FUNCTION grant_coupon(p_user BIGINT, p_coupon BIGINT, p_expires_at TIMESTAMPTZ,
                             OUT outcome TEXT, OUT user_coupon_id BIGINT, OUT issued_at_us BIGINT,
                             OUT remaining INT)
LANGUAGE plpgsql AS $$
DECLARE
    v_issued_at TIMESTAMPTZ;
BEGIN
    INSERT INTO user_coupons AS uc (user_id, coupon_id, status, expires_at)
    VALUES (p_user, p_coupon, 'AVAILABLE', p_expires_at)
    ON CONFLICT (user_id, coupon_id) DO NOTHING
    RETURNING uc.id, uc.issued_at INTO user_coupon_id, v_issued_at;
    IF user_coupon_id IS NULL THEN
        outcome := 'ALREADY_ISSUED';
        RETURN;
    END IF;
    UPDATE coupons c SET issued_quantity = c.issued_quantity + 1
     WHERE c.id = p_coupon AND c.issued_quantity < c.total_quantity
    RETURNING c.total_quantity - c.issued_quantity INTO remaining;
    IF remaining IS NULL THEN
        DELETE FROM user_coupons uc WHERE uc.id = user_coupon_id;
        outcome := 'SOLD_OUT';
        user_coupon_id := NULL;
        remaining := 0;
        RETURN;
    END IF;
    outcome := 'ISSUED';
    issued_at_us := epoch_us(v_issued_at);
END;
$$;

-- The synchronous issue (POST /api/coupons/{id}/issue) now grants through grant_coupon().
CREATE OR REPLACE FUNCTION issue_coupon(p_user BIGINT, p_coupon BIGINT)
RETURNS TABLE (outcome TEXT, user_coupon_id BIGINT, coupon_name TEXT, discount_rate INT,
               issued_at_us BIGINT, expires_at_us BIGINT, remaining INT)
LANGUAGE plpgsql AS $$
DECLARE
    v_coupon coupons%ROWTYPE;
    v_grant RECORD;
BEGIN
    PERFORM 1 FROM users u WHERE u.id = p_user;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'USER_NOT_FOUND', NULL::BIGINT, NULL::TEXT, NULL::INT, NULL::BIGINT, NULL::BIGINT, NULL::INT;
        RETURN;
    END IF;
    SELECT * INTO v_coupon FROM coupons c WHERE c.id = p_coupon;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'COUPON_NOT_FOUND', NULL::BIGINT, NULL::TEXT, NULL::INT, NULL::BIGINT, NULL::BIGINT, NULL::INT;
        RETURN;
    END IF;
    IF now() < v_coupon.start_date OR now() > v_coupon.end_date THEN
        RETURN QUERY SELECT 'NOT_IN_WINDOW', NULL::BIGINT, v_coupon.name::TEXT, v_coupon.discount_rate,
               epoch_us(v_coupon.start_date), epoch_us(v_coupon.end_date), NULL::INT;
        RETURN;
    END IF;
    SELECT * INTO v_grant FROM grant_coupon(p_user, p_coupon, v_coupon.end_date);
    RETURN QUERY SELECT v_grant.outcome, v_grant.user_coupon_id, v_coupon.name::TEXT, v_coupon.discount_rate,
           v_grant.issued_at_us, CASE WHEN v_grant.outcome = 'ISSUED' THEN epoch_us(v_coupon.end_date) END,
           v_grant.remaining;
END;
$$;

-- An issuer's transaction for one reserved request. No window check: the reservation was taken
-- inside the window and is honoured even if the request is processed after the end.
-- Outcomes: ISSUED, ALREADY_ISSUED (a retry, or the user got it another way), SOLD_OUT (the
-- synchronous path took the last units), COUPON_NOT_FOUND.
CREATE FUNCTION issue_reserved_coupon(p_user BIGINT, p_coupon BIGINT) RETURNS TEXT
LANGUAGE plpgsql AS $$
DECLARE
    v_end TIMESTAMPTZ;
BEGIN
    SELECT c.end_date INTO v_end FROM coupons c WHERE c.id = p_coupon;
    IF NOT FOUND THEN
        RETURN 'COUPON_NOT_FOUND';
    END IF;
    RETURN (SELECT g.outcome FROM grant_coupon(p_user, p_coupon, v_end) g);
END;
$$;

-- What the Redis gate starts from: total, issued and the users holding the coupon, consistent with
-- each other. FOR SHARE waits for grants in flight on this coupon (they update its row) and holds
-- new ones off until the statement ends; the second statement then takes a fresh snapshot (plpgsql,
-- READ COMMITTED), so the count and the holders agree. No row when the coupon does not exist.
CREATE FUNCTION coupon_gate_snapshot(p_coupon BIGINT)
RETURNS TABLE (total INT, issued INT, end_us BIGINT, holders TEXT)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM coupons c WHERE c.id = p_coupon FOR SHARE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    RETURN QUERY
    SELECT c.total_quantity, c.issued_quantity, epoch_us(c.end_date),
           (SELECT COALESCE(string_agg(uc.user_id::TEXT, ','), '') FROM user_coupons uc
             WHERE uc.coupon_id = p_coupon)
      FROM coupons c WHERE c.id = p_coupon;
END;
$$;
