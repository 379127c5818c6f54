// The RESP writer of the Redis client must produce exactly what hiredis' own formatter produces.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "infra/redis/redis_connection.hpp"

namespace ec::infra::redis {
namespace {

std::string hiredis_format(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    char* raw = nullptr;
    const int len = redisFormatCommandArgv(&raw, static_cast<int>(args.size()), argv.data(), lens.data());
    std::string out(raw, static_cast<std::size_t>(len));
    redisFreeCommand(raw);
    return out;
}

TEST(RedisFormat, MatchesHiredis) {
    std::string binary = "a\r\nb";
    binary += '\0';
    binary += "c";
    const std::vector<std::vector<std::string>> commands = {
        {"PING"},
        {"EVALSHA", std::string(40, 'f'), "3", "coupon:{7}:remaining", "coupon:{7}:users",
         "coupon:{7}:issue-requests", "1234567", "1795667599764000"},
        {"SET", "", binary},
        {"XADD", "s", "*", std::string(100000, 'x')},
    };
    for (const auto& c : commands) EXPECT_EQ(detail::format_command(c), hiredis_format(c)) << c.front();
    EXPECT_EQ(detail::format_command({"GET", "k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    EXPECT_THROW(detail::format_command({}), std::invalid_argument);
}

}  // namespace
}  // namespace ec::infra::redis
