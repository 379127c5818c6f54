#include "infra/postgres/pg_result.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <stdexcept>

namespace ec::infra::pg {

Result::Result(pg_result* res) : res_(res, &PQclear) {}

int Result::rows() const {
    return res_ ? PQntuples(res_.get()) : 0;
}
int Result::columns() const {
    return res_ ? PQnfields(res_.get()) : 0;
}
bool Result::is_null(int row, int col) const {
    return PQgetisnull(res_.get(), row, col) != 0;
}

std::string_view Result::text(int row, int col) const {
    return {PQgetvalue(res_.get(), row, col), static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

std::int64_t Result::int64(int row, int col) const {
    const auto t = text(row, col);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
        throw std::runtime_error("column " + std::to_string(col) + " is not an integer: " + std::string(t));
    }
    return v;
}

std::optional<std::int64_t> Result::opt_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return int64(row, col);
}

bool Result::boolean(int row, int col) const {
    return text(row, col) == "t";
}

std::int64_t Result::affected() const {
    const char* n = res_ ? PQcmdTuples(res_.get()) : "";
    return (n && *n) ? std::stoll(n) : 0;
}

}  // namespace ec::infra::pg
