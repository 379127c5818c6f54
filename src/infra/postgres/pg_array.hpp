#pragma once
// PostgreSQL array literals for text-format parameters ($1::bigint[], $2::text[]): one statement
// takes a whole batch instead of one round trip per row.
#include <cstdint>
#include <string>
#include <vector>

namespace ec::infra::pg {

// {1,2,3}
inline std::string array_literal(const std::vector<std::int64_t>& values) {
    std::string out = "{";
    for (const auto v : values) {
        if (out.size() > 1) out += ',';
        out += std::to_string(v);
    }
    return out + "}";
}

// {"a","b \"quoted\""}: every element double-quoted, with " and \ escaped.
inline std::string array_literal(const std::vector<std::string>& values) {
    std::string out = "{";
    for (const auto& v : values) {
        if (out.size() > 1) out += ',';
        out += '"';
        for (const char c : v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

}  // namespace ec::infra::pg
