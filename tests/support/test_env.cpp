#include "support/test_env.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace ec::test {
namespace {
std::string require(const char* name) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') {
        throw std::runtime_error(std::string(name) + " is not set: run the tests through ./scripts/test.sh");
    }
    return v;
}
}  // namespace

const TestEnv& test_env() {
    static const TestEnv env = [] {
        TestEnv e;
        e.pg_url = require("EC_TEST_PG_URL");
        e.redis_url = require("EC_TEST_REDIS_URL");
        e.services_ctl = require("EC_TEST_SERVICES_CTL");
        e.source_dir = EC_SOURCE_DIR;
        return e;
    }();
    return env;
}

void services_ctl(const std::string& service, const std::string& action) {
    const std::string cmd = test_env().services_ctl + " " + service + " " + action;
    const int rc = std::system(cmd.c_str());
    ASSERT_EQ(rc, 0) << "command failed: " << cmd;
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

}  // namespace ec::test
