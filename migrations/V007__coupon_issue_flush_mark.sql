-- The coupon issuers' flush barrier (PgCouponRepository::flush_issues): an issuer commits each issue
-- without waiting for its WAL flush, and before it confirms a batch in Redis it commits one write of
-- this row synchronously, which flushes the WAL up to itself and so every issue committed before it.
-- It has to be a real write: a transaction that writes nothing (one that only takes an xid, say)
-- commits without waiting for any flush.
CREATE TABLE coupon_issue_flushes (
    id         INT         PRIMARY KEY CHECK (id = 1),
    flushed_at TIMESTAMPTZ NOT NULL
);
INSERT INTO coupon_issue_flushes (id, flushed_at) VALUES (1, now());
