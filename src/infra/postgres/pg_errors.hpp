#pragma once
#include <stdexcept>

#include <string>
#include "app/errors.hpp"

namespace ec::infra::pg {

// The database could not be reached in time: connection refused or lost, pool timeout, client-side
// I/O timeout. Mapped to 503 COMMON007.
class PgUnavailable : public app::DependencyUnavailable {
public:
    using app::DependencyUnavailable::DependencyUnavailable;
};

// The server answered a statement with an error. `sqlstate` lets callers recognise unique
// violations (23505), serialization failures (40001), deadlocks (40P01) and the like.
class PgError : public std::runtime_error {
public:
    PgError(std::string sqlstate, const std::string& message)
        : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    bool is_unique_violation() const noexcept { return sqlstate_ == "23505"; }
    // 57014 query_canceled (statement_timeout), 57P01..03 admin shutdown / cannot connect now:
    // the database is not usable right now rather than the statement being wrong.
    bool is_unavailable() const noexcept {
        return sqlstate_ == "57014" || sqlstate_.starts_with("57P") || sqlstate_.starts_with("08");
    }

private:
    std::string sqlstate_;
};

}  // namespace ec::infra::pg
