#pragma once
// Port: the idempotency records of charges and payments as a whole (each use case reads and writes
// its own record inside its own transaction; this is what is left: their upkeep). Implemented by
// infra/postgres/pg_idempotency_records on purge_expired_idempotency_records() of migrations/V025.
#include <boost/asio/awaitable.hpp>

namespace ec::app {

class IdempotencyRecords {
public:
    virtual ~IdempotencyRecords() = default;
    // Deletes up to `limit` expired records that are no longer PROCESSING, the oldest first, in one
    // transaction; returns how many it deleted.
    virtual boost::asio::awaitable<int> purge_expired(int limit) = 0;
};

}  // namespace ec::app
