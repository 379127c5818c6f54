-- The value rules of the columns every payment writes move from table CHECKs to domains: same rules,
-- same constraint names, same SQLSTATE (23514, check_violation) for a value that breaks one.
--
-- PostgreSQL evaluates a table's CHECKs in every statement that inserts or updates a row of it, and
-- rebuilds each from its stored text first (stringToNode, then the expression planner): for the
-- status CHECK of idempotency_records, a 1,249-character node tree three times per paid order, and
-- with users.balance and products.price/stock six rebuilds per paid order, 9 % of the database's
-- instructions for one (valgrind --tool=callgrind, docs/performance.md, "Instructions per paid
-- order"). A domain's CHECK is prepared once per session (the type cache) and evaluated only for the
-- columns a statement writes. orders and order_items already moved theirs to triggers (V011).
CREATE DOMAIN account_balance AS BIGINT
    CONSTRAINT ck_users_balance CHECK (VALUE >= 0 AND VALUE <= 1000000000000000);
ALTER TABLE users DROP CONSTRAINT ck_users_balance, ALTER COLUMN balance TYPE account_balance;

CREATE DOMAIN product_price AS BIGINT CONSTRAINT ck_products_price CHECK (VALUE > 0);
CREATE DOMAIN stock_quantity AS INT CONSTRAINT ck_products_stock CHECK (VALUE >= 0);
ALTER TABLE products DROP CONSTRAINT ck_products_price, DROP CONSTRAINT ck_products_stock,
    ALTER COLUMN price TYPE product_price, ALTER COLUMN stock TYPE stock_quantity;

CREATE DOMAIN idempotency_status AS VARCHAR(16)
    CONSTRAINT idempotency_records_status_check CHECK (VALUE IN ('PROCESSING', 'COMPLETED', 'FAILED'));
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_status_check,
    ALTER COLUMN status TYPE idempotency_status;
