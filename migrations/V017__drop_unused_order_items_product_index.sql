-- No statement reads order lines by product: every query reaches them through their order
-- (uk_order_items_order_product, which leads with order_id). idx_order_items_product only cost each
-- order line an index entry, its WAL and one more relation for each transaction writing a line to
-- open and lock (bench/sql_instructions.sh: 0.25 % of the database's instructions per paid order).
DROP INDEX idx_order_items_product;
