#pragma once
// Seed data of SPEC §10. Idempotent (ON CONFLICT DO NOTHING), set-based, so 20,101 load-test users
// take well under a second.
#include <boost/asio/awaitable.hpp>

namespace ec::infra::pg {

class PgPool;

struct SeedReport {
    long long demo_users = 0;       // rows inserted now
    long long load_test_users = 0;  // rows inserted now
};

boost::asio::awaitable<SeedReport> seed(PgPool& pool, bool demo_data, bool load_test_users);

}  // namespace ec::infra::pg
