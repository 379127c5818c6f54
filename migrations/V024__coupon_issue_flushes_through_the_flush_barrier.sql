-- The coupon issuer now makes its batch of issues durable through the application's WAL flush barrier
-- (infra/postgres/wal_flush_barrier.hpp): one synchronously committed pg_logical_emit_message() on the
-- barrier's own connection, shared with the order and payment commits waiting at the same time. The
-- one-row table V007 kept for the same purpose (a synchronous UPDATE of it per batch) has no writer
-- left. An instance of an older version still running during a rolling upgrade fails its flush: its
-- unconfirmed issues stay pending in their stream and are issued again (idempotently) by the new
-- instances, as after a crash.
DROP TABLE coupon_issue_flushes;
