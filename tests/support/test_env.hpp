#pragma once
// Where the throw-away PostgreSQL and Redis started by scripts/test.sh live, and how to stop,
// start or restart them (for failure tests). Every value comes from an EC_TEST_* variable; a
// missing one fails the test with a message saying to run ./scripts/test.sh.
#include <string>

namespace ec::test {

struct TestEnv {
    std::string pg_url;        // EC_TEST_PG_URL   postgresql://postgres@127.0.0.1:PORT/ecommerce_test
    std::string redis_url;     // EC_TEST_REDIS_URL redis://127.0.0.1:PORT/0
    std::string services_ctl;  // EC_TEST_SERVICES_CTL: script taking "pg|redis" "stop|start|restart"
    std::string source_dir;    // EC_SOURCE_DIR (compile-time), for config/ and migrations/
};

const TestEnv& test_env();

// Runs `services_ctl <service> <action>` and fails the test if it does not exit 0.
void services_ctl(const std::string& service, const std::string& action);

// A fresh database cloned for one test (CREATE DATABASE ... ) is overkill; tests share one
// database and use their own id ranges. This returns a free TCP port on 127.0.0.1.
int free_port();

}  // namespace ec::test
