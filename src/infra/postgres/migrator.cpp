#include "infra/postgres/migrator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>

#include "infra/postgres/pg_pool.hpp"

namespace ec::infra::pg {

namespace {
// Arbitrary but fixed: every instance must use the same key for the lock to mean anything.
constexpr const char* kLockKey = "7204151190";
}  // namespace

std::vector<Migration> parse_migrations(const std::vector<EmbeddedFile>& files) {
    static const std::regex name_re(R"(V(\d+)__([A-Za-z0-9_]+)\.sql)");
    std::vector<Migration> out;
    for (const auto& f : files) {
        std::smatch m;
        if (!std::regex_match(f.name, m, name_re)) {
            throw MigrationError("migration file name '" + f.name +
                                 "' does not match V<version>__<description>.sql");
        }
        int version = 0;
        try {
            version = std::stoi(m[1]);
        } catch (const std::out_of_range&) {
            throw MigrationError("migration file name '" + f.name + "' has a version out of range");
        }
        out.push_back(Migration{version, m[2], f.contents});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
    for (std::size_t i = 1; i < out.size(); ++i) {
        if (out[i].version == out[i - 1].version) {
            throw MigrationError("two migrations have version " + std::to_string(out[i].version));
        }
    }
    return out;
}

boost::asio::awaitable<MigrationReport> migrate(PgPool& pool, const std::vector<Migration>& migrations) {
    MigrationReport report;
    auto lease = co_await pool.acquire();
    // Session-level lock: waits (server-side, without blocking our loop) while another instance migrates.
    co_await lease->execute(std::string("SELECT pg_advisory_lock(") + kLockKey + ")");
    std::exception_ptr failure;
    try {
        co_await lease->execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INT PRIMARY KEY, description TEXT NOT NULL, checksum TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), execution_ms INT NOT NULL)");
        std::map<int, std::string> applied;
        auto rows = co_await lease->query("SELECT version, checksum FROM schema_migrations ORDER BY version");
        for (int r = 0; r < rows.rows(); ++r) applied[static_cast<int>(rows.int64(r, 0))] = rows.string(r, 1);

        for (const auto& [version, checksum] : applied) {
            const bool known = std::any_of(migrations.begin(), migrations.end(),
                                           [v = version](const Migration& m) { return m.version == v; });
            if (!known) {
                throw MigrationError("migration V" + std::to_string(version) +
                                     " is applied in the database but missing from this build");
            }
        }
        for (const auto& m : migrations) {
            auto sum = co_await lease->query("SELECT md5($1)", m.sql);
            const std::string checksum = sum.string(0, 0);
            if (auto it = applied.find(m.version); it != applied.end()) {
                if (it->second != checksum) {
                    throw MigrationError("migration V" + std::to_string(m.version) + " (" + m.description +
                                         ") was applied with checksum " + it->second +
                                         " but the file now has checksum " + checksum +
                                         "; restore the file or add a new migration");
                }
                ++report.already_applied;
                continue;
            }
            const auto started = std::chrono::steady_clock::now();
            spdlog::info("applying migration V{} ({})", m.version, m.description);
            co_await lease->execute("BEGIN");
            co_await lease->execute(m.sql);
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started);
            co_await lease->query(
                "INSERT INTO schema_migrations (version, description, checksum, execution_ms) VALUES ($1, "
                "$2, $3, $4)",
                m.version, m.description, checksum, static_cast<std::int64_t>(ms.count()));
            co_await lease->execute("COMMIT");
            ++report.applied;
        }
    } catch (...) {
        failure = std::current_exception();
    }
    if (!lease->broken()) {
        try {
            if (lease->in_transaction()) co_await lease->execute("ROLLBACK");
            co_await lease->execute(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
        } catch (...) {
        }
    }
    if (failure) std::rethrow_exception(failure);
    co_return report;
}

}  // namespace ec::infra::pg
