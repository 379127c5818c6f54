#pragma once
// Versioned SQL migrations (SPEC §5): migrations/V<nnn>__<description>.sql, embedded in the binary,
// applied in version order, each in its own transaction, under a PostgreSQL advisory lock so that
// several instances starting together apply each migration once. Applied migrations are recorded
// with an md5 checksum; a changed file stops start-up.
#include <boost/asio/awaitable.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "ops/embedded_file.hpp"

namespace ec::infra::pg {

class PgPool;

class MigrationError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Migration {
    int version;
    std::string description;
    std::string sql;
};

// Parses "V001__users_and_idempotency.sql"; throws MigrationError on a malformed name or a
// duplicated version. The result is sorted by version.
std::vector<Migration> parse_migrations(const std::vector<EmbeddedFile>& files);

struct MigrationReport {
    int applied = 0;          // newly applied now
    int already_applied = 0;  // found applied
};

boost::asio::awaitable<MigrationReport> migrate(PgPool& pool, const std::vector<Migration>& migrations);

}  // namespace ec::infra::pg
