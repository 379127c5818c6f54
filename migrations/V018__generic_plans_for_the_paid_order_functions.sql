-- The functions of a paid order plan each of their statements once per session, not once per call.
--
-- A statement inside a plpgsql function is planned with its parameters' values for its first five
-- calls; from then on PostgreSQL keeps a generic plan as long as that plan's estimated cost is below
-- the average cost of those five custom plans (plus an allowance for planning). The average is never
-- reset. In the order + pay bench, autovacuum's first ANALYZE of order_items (≈ 40,000 lines, two
-- minutes into the load) made the generic plans of the two statements that read an order's lines
-- (payment_reserve's loop, payment_complete's outbox payload) compare badly with custom plans made
-- when the table held a few dozen rows: every later call planned them again (pg_stat_statements:
-- plans = calls, 20,000 of each in the last run), 7–11 % of the database's CPU, and paid orders per
-- second fell by a fifth in the runs after it (docs/performance.md, "Planned once per session").
--
-- No statement here has a plan that depends on its parameters' values: each finds its rows by a
-- key or id given as a parameter, so the generic plan is the right one from the first call. It is
-- remade when a table's statistics or definition change (an ANALYZE invalidates it), and the
-- functions' `enable_seqscan = off` keeps a plan made while a table is small on its indexes.
ALTER FUNCTION create_order(BIGINT, VARCHAR, TEXT, BIGINT[], INT[], BIGINT) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION payment_reserve(BIGINT, BIGINT, VARCHAR) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION payment_reserve_checked(BIGINT, BIGINT, VARCHAR) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION payment_complete(BIGINT, BIGINT, VARCHAR, TEXT) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION payment_compensate(BIGINT, VARCHAR, TEXT) SET plan_cache_mode = force_generic_plan;
