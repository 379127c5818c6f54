-- epoch_us() as an expression PostgreSQL can inline. V002's body, extract(epoch FROM timestamptz),
-- is only STABLE, so the planner refused to inline the IMMUTABLE wrapper and every call went
-- through the SQL-function executor, which parses and plans the body again per query
-- (`fmgr_sql`: ≈ 6 % of the database's CPU under order + pay, see docs/performance.md).
-- timestamptz − timestamptz and extract(epoch FROM interval) are IMMUTABLE, and the difference is
-- exact (whole days of 24 h, no months), so the result is the same to the microsecond.
CREATE OR REPLACE FUNCTION epoch_us(t TIMESTAMPTZ) RETURNS BIGINT
LANGUAGE sql IMMUTABLE AS $$ SELECT (extract(epoch FROM (t - TIMESTAMPTZ 'epoch')) * 1000000)::BIGINT $$;
