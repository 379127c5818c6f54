#pragma once
// Owning wrapper of a libpq PGresult in text format.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct pg_result;

namespace ec::infra::pg {

class Result {
public:
    Result() = default;
    explicit Result(pg_result* res);

    int rows() const;
    int columns() const;
    bool is_null(int row, int col) const;
    std::string_view text(int row, int col) const;
    std::int64_t int64(int row, int col) const;
    std::optional<std::int64_t> opt_int64(int row, int col) const;
    bool boolean(int row, int col) const;
    std::string string(int row, int col) const { return std::string(text(row, col)); }
    // Rows affected by INSERT/UPDATE/DELETE.
    std::int64_t affected() const;

private:
    std::shared_ptr<pg_result> res_;
};

// One statement parameter in text format; std::nullopt is SQL NULL.
class Param {
public:
    Param(std::nullptr_t) {}
    Param(std::int64_t v) : value_(std::to_string(v)) {}
    Param(int v) : value_(std::to_string(v)) {}
    Param(bool v) : value_(v ? "true" : "false") {}
    Param(std::string_view v) : value_(std::string(v)) {}
    Param(const std::string& v) : value_(v) {}
    Param(const char* v) : value_(std::string(v)) {}
    template <typename T>
    Param(const std::optional<T>& v) {
        if (v) value_ = Param(*v).value_;
    }
    const std::optional<std::string>& value() const { return value_; }

private:
    std::optional<std::string> value_;
};

using Params = std::vector<Param>;

}  // namespace ec::infra::pg
