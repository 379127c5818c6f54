#include "ops/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace ec::ops {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kRepoConfigDir = std::string(EC_SOURCE_DIR) + "/config";

// The contract (SPEC §3): these names are what operators write, so renaming one is a breaking change.
const std::vector<std::string> kAllKeys = {
    "server.address",
    "server.port",
    "server.threads",
    "server.max-body-size",
    "server.max-header-size",
    "server.request-timeout",
    "server.idle-timeout",
    "server.max-connections",
    "server.shutdown-timeout",
    "datasource.url",
    "datasource.statement-timeout",
    "datasource.flush-barrier",
    "datasource.pool.maximum-pool-size",
    "datasource.pool.minimum-idle",
    "datasource.pool.connection-timeout",
    "datasource.pool.idle-timeout",
    "datasource.pool.max-lifetime",
    "datasource.pool.leak-detection-threshold",
    "datasource.pool.stats-log-interval",
    "redis.url",
    "redis.timeout",
    "redis.pool-size",
    "circuit-breaker.redis.failure-threshold",
    "circuit-breaker.redis.wait-in-open",
    "circuit-breaker.redis.half-open-max-calls",
    "circuit-breaker.redis.success-threshold",
    "business.time-zone",
    "products.cache-ttl",
    "products.top-cache-ttl",
    "payment.in-progress-wait",
    "payment.stale-after",
    "payment.recovery-interval",
    "payment.full-recovery-interval",
    "idempotency.purge-interval",
    "idempotency.purge-batch-size",
    "ranking.key-ttl",
    "ranking.cache-ttl",
    "ranking.backup.interval",
    "ranking.backup.size",
    "outbox.poll-interval",
    "outbox.linger",
    "outbox.batch-size",
    "outbox.max-attempts",
    "outbox.retry-backoff",
    "outbox.stream-max-length",
    "outbox.retention",
    "outbox.purge-interval",
    "outbox.purge-batch-size",
    "coupon.reservation-ttl",
    "coupon.issuer.batch-size",
    "coupon.issuer.consumer-name",
    "coupon.issuer.max-retries",
    "coupon.issuer.claim-idle",
    "coupon.issuer.block",
    "seed.demo-data",
    "seed.load-test-users",
    "logging.level",
    "logging.json",
    "migration.on-start",
};

// A throw-away config directory; each test writes the files it needs.
class TempConfigDir {
public:
    TempConfigDir() {
        std::string pattern = (fs::temp_directory_path() / "ec-config-test-XXXXXX").string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempConfigDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempConfigDir(const TempConfigDir&) = delete;
    TempConfigDir& operator=(const TempConfigDir&) = delete;

    void write(const std::string& name, const std::string& text) const {
        std::ofstream(path_ / name) << text;
    }
    std::string path() const { return path_.string(); }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

std::string error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "<no ConfigError>";
}

// Flattens a YAML file the way operators read it: nested maps become dotted keys.
void flatten(const YAML::Node& node, const std::string& prefix, std::map<std::string, std::string>& out) {
    for (const auto& entry : node) {
        std::string key = prefix.empty() ? entry.first.Scalar() : prefix + "." + entry.first.Scalar();
        if (entry.second.IsMap()) {
            flatten(entry.second, key, out);
        } else {
            out[key] = entry.second.Scalar();
        }
    }
}

class ConfigTest : public ::testing::Test {
protected:
    ConfigTest() { dir.write("application.yml", ""); }

    AppConfig load(const std::string& profile = "", std::map<std::string, std::string> env = {},
                   std::vector<std::string> sets = {}) const {
        return load_config({dir.path(), profile, std::move(env), std::move(sets)});
    }
    std::string load_error(const std::string& profile = "", std::map<std::string, std::string> env = {},
                           std::vector<std::string> sets = {}) const {
        return error_of([&] { load(profile, env, sets); });
    }

    TempConfigDir dir;
};

// ---------------------------------------------------------------------------------------------------
// Layering

TEST_F(ConfigTest, EmptyBaseFileYieldsBuiltInDefaults) {
    AppConfig c = load();
    AppConfig defaults;
    EXPECT_EQ(c.server.port, defaults.server.port);
    EXPECT_EQ(c.server.max_body_size, defaults.server.max_body_size);
    EXPECT_EQ(c.datasource.url, defaults.datasource.url);
    EXPECT_EQ(c.ranking.key_ttl, defaults.ranking.key_ttl);
    EXPECT_EQ(c.profile, "");
}

TEST_F(ConfigTest, LaterLayersOverrideEarlierOnes) {
    dir.write("application.yml",
              "server:\n  port: 1001\n  threads: 1\n  idle-timeout: 1s\n  address: 10.0.0.1\n");
    dir.write("application-local.yml", "server:\n  port: 1002\n  threads: 2\n  idle-timeout: 2s\n");

    EXPECT_EQ(load().server.port, 1001);

    AppConfig profile = load("local");
    EXPECT_EQ(profile.profile, "local");
    EXPECT_EQ(profile.server.port, 1002);
    EXPECT_EQ(profile.server.address, "10.0.0.1");  // untouched by the profile file

    AppConfig env = load("local", {{"SERVER_PORT", "1003"}, {"SERVER_THREADS", "3"}});
    EXPECT_EQ(env.server.port, 1003);
    EXPECT_EQ(env.server.threads, 3);
    EXPECT_EQ(env.server.idle_timeout, 2s);

    AppConfig set = load("local", {{"SERVER_PORT", "1003"}, {"SERVER_THREADS", "3"}}, {"server.port=1004"});
    EXPECT_EQ(set.server.port, 1004);
    EXPECT_EQ(set.server.threads, 3);
    EXPECT_EQ(set.server.idle_timeout, 2s);
    EXPECT_EQ(set.server.address, "10.0.0.1");
}

TEST_F(ConfigTest, LaterSetEntriesWin) {
    EXPECT_EQ(load("", {}, {"server.port=2000", "server.port=3000"}).server.port, 3000);
}

TEST_F(ConfigTest, ProfileMustBeKnown) {
    EXPECT_NE(load_error("staging").find("unknown profile 'staging'"), std::string::npos);
}

TEST_F(ConfigTest, BaseFileIsRequired) {
    fs::remove(dir.file("application.yml"));
    EXPECT_NE(load_error().find("application.yml not found"), std::string::npos);
}

TEST_F(ConfigTest, ProfileFileIsRequiredWhenProfileIsSet) {
    EXPECT_NE(load_error("test").find("application-test.yml not found"), std::string::npos);
}

TEST_F(ConfigTest, MalformedYamlNamesFileAndLine) {
    dir.write("application.yml", "server:\n  port: [1, 2\n");
    std::string message = load_error();
    EXPECT_NE(message.find("cannot parse " + dir.file("application.yml")), std::string::npos) << message;
}

TEST_F(ConfigTest, TopLevelMustBeAMap) {
    dir.write("application.yml", "- server\n");
    EXPECT_NE(load_error().find("expected a map"), std::string::npos);
}

TEST_F(ConfigTest, DottedKeysInYamlAreAccepted) {
    dir.write("application.yml", "server.port: 9001\ndatasource:\n  pool.maximum-pool-size: 20\n");
    AppConfig c = load();
    EXPECT_EQ(c.server.port, 9001);
    EXPECT_EQ(c.datasource.pool.maximum_pool_size, 20);
}

TEST_F(ConfigTest, EmptySectionIsIgnored) {
    dir.write("application.yml", "seed:\n  # demo-data: true\nserver: {}\n");
    EXPECT_FALSE(load().seed.demo_data);
}

TEST_F(ConfigTest, NullStringValueMeansEmpty) {
    dir.write("application.yml", "coupon:\n  issuer:\n    consumer-name:\n");
    EXPECT_EQ(load().coupon.issuer.consumer_name, "");
}

// ---------------------------------------------------------------------------------------------------
// Every key reaches its own field

TEST_F(ConfigTest, EveryKeyMapsToItsField) {
    dir.write("application.yml", R"(
server:
  address: 127.0.0.2
  port: 8081
  threads: 3
  max-body-size: 2MiB
  max-header-size: 8KiB
  request-timeout: 31s
  idle-timeout: 61s
  max-connections: 123
  shutdown-timeout: 7s
datasource:
  url: postgres://u:p@db:5433/shop
  statement-timeout: 11s
  pool:
    maximum-pool-size: 21
    minimum-idle: 4
    connection-timeout: 251ms
    idle-timeout: 11m
    max-lifetime: 31m
    leak-detection-threshold: 12s
    stats-log-interval: 13s
redis:
  url: redis://cache:6380/2
  timeout: 1500ms
  pool-size: 3
circuit-breaker:
  redis:
    failure-threshold: 6
    wait-in-open: 3s
    half-open-max-calls: 2
    success-threshold: 4
business:
  time-zone: UTC
ranking:
  key-ttl: 2d
  backup:
    interval: 5m
    size: 50
coupon:
  reservation-ttl: 2h
  issuer:
    batch-size: 64
    consumer-name: worker-1
    max-retries: 0
    claim-idle: 6s
    block: 250ms
seed:
  demo-data: true
  load-test-users: true
logging:
  level: DEBUG
  json: true
migration:
  on-start: false
)");
    AppConfig c = load();
    EXPECT_EQ(c.server.address, "127.0.0.2");
    EXPECT_EQ(c.server.port, 8081);
    EXPECT_EQ(c.server.threads, 3);
    EXPECT_EQ(c.server.max_body_size, 2u * 1024 * 1024);
    EXPECT_EQ(c.server.max_header_size, 8u * 1024);
    EXPECT_EQ(c.server.request_timeout, 31s);
    EXPECT_EQ(c.server.idle_timeout, 61s);
    EXPECT_EQ(c.server.max_connections, 123);
    EXPECT_EQ(c.server.shutdown_timeout, 7s);
    EXPECT_EQ(c.datasource.url, "postgres://u:p@db:5433/shop");
    EXPECT_EQ(c.datasource.statement_timeout, 11s);
    EXPECT_EQ(c.datasource.pool.maximum_pool_size, 21);
    EXPECT_EQ(c.datasource.pool.minimum_idle, 4);
    EXPECT_EQ(c.datasource.pool.connection_timeout, 251ms);
    EXPECT_EQ(c.datasource.pool.idle_timeout, 11min);
    EXPECT_EQ(c.datasource.pool.max_lifetime, 31min);
    EXPECT_EQ(c.datasource.pool.leak_detection_threshold, 12s);
    EXPECT_EQ(c.datasource.pool.stats_log_interval, 13s);
    EXPECT_EQ(c.redis.url, "redis://cache:6380/2");
    EXPECT_EQ(c.redis.timeout, 1500ms);
    EXPECT_EQ(c.redis.pool_size, 3);
    EXPECT_EQ(c.redis_breaker.failure_threshold, 6);
    EXPECT_EQ(c.redis_breaker.wait_in_open, 3s);
    EXPECT_EQ(c.redis_breaker.half_open_max_calls, 2);
    EXPECT_EQ(c.redis_breaker.success_threshold, 4);
    EXPECT_EQ(c.business.time_zone, "UTC");
    EXPECT_EQ(c.ranking.key_ttl, 48h);
    EXPECT_EQ(c.ranking.backup.interval, 5min);
    EXPECT_EQ(c.ranking.backup.size, 50);
    EXPECT_EQ(c.coupon.reservation_ttl, 2h);
    EXPECT_EQ(c.coupon.issuer.batch_size, 64);
    EXPECT_EQ(c.coupon.issuer.consumer_name, "worker-1");
    EXPECT_EQ(c.coupon.issuer.max_retries, 0);
    EXPECT_EQ(c.coupon.issuer.claim_idle, 6s);
    EXPECT_EQ(c.coupon.issuer.block, 250ms);
    EXPECT_TRUE(c.seed.demo_data);
    EXPECT_TRUE(c.seed.load_test_users);
    EXPECT_EQ(c.logging.level, "debug");
    EXPECT_TRUE(c.logging.json);
    EXPECT_FALSE(c.migration.on_start);
}

// ---------------------------------------------------------------------------------------------------
// Environment variables

TEST_F(ConfigTest, EnvironmentUsesRelaxedBinding) {
    AppConfig c = load("", {
                               {"DATASOURCE_POOL_MAXIMUM_POOL_SIZE", "20"},
                               {"CIRCUIT_BREAKER_REDIS_WAIT_IN_OPEN", "5s"},
                               {"BUSINESS_TIME_ZONE", "UTC"},
                               {"SEED_DEMO_DATA", "true"},
                           });
    EXPECT_EQ(c.datasource.pool.maximum_pool_size, 20);
    EXPECT_EQ(c.redis_breaker.wait_in_open, 5s);
    EXPECT_EQ(c.business.time_zone, "UTC");
    EXPECT_TRUE(c.seed.demo_data);
}

TEST_F(ConfigTest, UnrelatedEnvironmentVariablesAreIgnored) {
    AppConfig c = load("", {
                               {"PATH", "/usr/bin"},
                               {"SERVER_PROT", "not a key"},  // a typo is indistinguishable from a stranger
                               {"server_port", "1"},          // binding is upper case only
                               {"server.port", "1"},
                               {"SERVER", "x"},
                           });
    EXPECT_EQ(c.server.port, 8080);
}

TEST_F(ConfigTest, InvalidEnvironmentValueNamesTheVariable) {
    EXPECT_EQ(load_error("", {{"SERVER_PORT", "abc"}}),
              "invalid value 'abc' for 'server.port' (environment variable SERVER_PORT): expected an integer "
              "1..65535");
}

TEST_F(ConfigTest, EveryKeyBindsFromItsEnvironmentName) {
    // The values come from the shipped application.yml, so each is valid for its key.
    std::map<std::string, std::string> values;
    flatten(YAML::LoadFile(kRepoConfigDir + "/application.yml"), "", values);
    for (const auto& key : kAllKeys) {
        std::string name = key;
        for (char& ch : name) ch = (ch == '.' || ch == '-') ? '_' : static_cast<char>(std::toupper(ch));
        EXPECT_NO_THROW(load("", {{name, values.at(key)}})) << name;
        // And the binding really reaches the key: a bad value must be reported against it.
        std::string message = load_error("", {{name, "[bad]"}});
        if (key != "coupon.issuer.consumer-name" && key != "server.address") {  // accept any text
            EXPECT_NE(message.find("for '" + key + "' (environment variable " + name + ")"),
                      std::string::npos)
                << message;
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// --set

TEST_F(ConfigTest, SetSplitsAtTheFirstEquals) {
    AppConfig c = load("", {}, {"datasource.url=postgresql://u@h/db?sslmode=require&application_name=x"});
    EXPECT_EQ(c.datasource.url, "postgresql://u@h/db?sslmode=require&application_name=x");
}

TEST_F(ConfigTest, SetAllowsEmptyValues) {
    EXPECT_EQ(load("", {}, {"coupon.issuer.consumer-name="}).coupon.issuer.consumer_name, "");
}

TEST_F(ConfigTest, MalformedSetIsRejected) {
    EXPECT_NE(load_error("", {}, {"server.port"}).find("malformed --set 'server.port'"), std::string::npos);
    EXPECT_NE(load_error("", {}, {"=8080"}).find("malformed --set"), std::string::npos);
}

TEST_F(ConfigTest, InvalidSetValueNamesKeyValueAndSource) {
    EXPECT_EQ(load_error("", {}, {"server.port=abc"}),
              "invalid value 'abc' for 'server.port' (--set): expected an integer 1..65535");
}

// ---------------------------------------------------------------------------------------------------
// Unknown keys

TEST_F(ConfigTest, UnknownYamlKeyNamesKeyAndFile) {
    dir.write("application-local.yml", "server:\n  prot: 8080\n");
    std::string message = load_error("local");
    EXPECT_NE(message.find("unknown configuration key 'server.prot' in " + dir.file("application-local.yml") +
                           ":2"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("did you mean 'server.port'?"), std::string::npos) << message;
}

TEST_F(ConfigTest, UnknownTopLevelSectionIsRejected) {
    dir.write("application.yml", "spring:\n  application:\n    name: shop\n");
    EXPECT_NE(load_error().find("unknown configuration key 'spring.application.name'"), std::string::npos);
}

TEST_F(ConfigTest, SectionUsedAsValueIsRejected) {
    dir.write("application.yml", "server: 8080\n");
    EXPECT_NE(load_error().find("unknown configuration key 'server'"), std::string::npos);
}

TEST_F(ConfigTest, MapOrListWhereValueBelongsIsRejected) {
    dir.write("application.yml", "server:\n  port:\n    value: 8080\n");
    EXPECT_NE(load_error().find("for 'server.port'"), std::string::npos);
    dir.write("application.yml", "server:\n  port: [8080]\n");
    EXPECT_NE(load_error().find("expected a single value, not a list"), std::string::npos);
}

TEST_F(ConfigTest, UnknownSetKeyIsRejected) {
    std::string message = load_error("", {}, {"logging.colour=true"});
    EXPECT_NE(message.find("unknown configuration key 'logging.colour' in --set"), std::string::npos)
        << message;
}

TEST_F(ConfigTest, FarOffUnknownKeyHasNoSuggestion) {
    std::string message = load_error("", {}, {"completely.different=1"});
    EXPECT_EQ(message.find("did you mean"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------------
// Invalid values, one table for every kind of key

struct BadValue {
    std::string key;
    std::string value;
    std::string expected;  // a fragment of the message after "expected "
};

class InvalidValueTest : public ConfigTest, public ::testing::WithParamInterface<BadValue> {};

TEST_P(InvalidValueTest, IsRejectedWithKeyValueAndSource) {
    const BadValue& bad = GetParam();
    std::string message = load_error("", {}, {bad.key + "=" + bad.value});
    EXPECT_NE(message.find("invalid value '" + bad.value + "' for '" + bad.key + "' (--set): expected"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(bad.expected), std::string::npos) << message;

    // The same value from a YAML file is reported against the file.
    dir.write("application.yml", bad.key + ": \"" + bad.value + "\"\n");
    message = load_error();
    EXPECT_NE(message.find("for '" + bad.key + "' (" + dir.file("application.yml") + ":1)"),
              std::string::npos)
        << message;
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, InvalidValueTest,
    ::testing::Values(
        BadValue{"server.port", "0", "1..65535"}, BadValue{"server.port", "65536", "1..65535"},
        BadValue{"server.port", "80a", "1..65535"}, BadValue{"server.port", "", "1..65535"},
        BadValue{"server.port", "8080.5", "1..65535"}, BadValue{"server.threads", "-1", "0..1024"},
        BadValue{"server.address", "", "listen address"}, BadValue{"server.max-body-size", "1XB", "size"},
        BadValue{"server.max-body-size", "-1MiB", "size"},
        BadValue{"server.max-body-size", "0", "at least 1B"},
        BadValue{"server.request-timeout", "-5s", "duration"},
        BadValue{"server.request-timeout", "soon", "duration"},
        BadValue{"server.request-timeout", "0", "at least 1ms"},
        BadValue{"server.max-connections", "0", "an integer 1.."},
        BadValue{"datasource.url", "mysql://localhost/db", "postgresql://"},
        BadValue{"datasource.url", "postgresql://", "postgresql://"},
        BadValue{"datasource.pool.maximum-pool-size", "0", "1..10000"},
        BadValue{"datasource.pool.minimum-idle", "-1", "0..10000"},
        BadValue{"datasource.pool.connection-timeout", "249ms", "at least 250ms"},
        BadValue{"datasource.pool.leak-detection-threshold", "-1s", "0 disables"},
        BadValue{"redis.url", "http://cache:6379", "redis://"}, BadValue{"redis.pool-size", "0", "1..1000"},
        BadValue{"circuit-breaker.redis.failure-threshold", "0", "an integer 1.."},
        BadValue{"circuit-breaker.redis.wait-in-open", "2 s", "duration"},
        BadValue{"business.time-zone", "Mars/Olympus_Mons", "time zone"},
        BadValue{"business.time-zone", "../../etc/passwd", "time zone"},
        BadValue{"business.time-zone", "/etc/passwd", "time zone"},
        BadValue{"business.time-zone", "Asia", "time zone"},  // a directory, not a zone
        BadValue{"business.time-zone", "", "time zone"}, BadValue{"ranking.backup.size", "0", "1..10000"},
        BadValue{"ranking.backup.size", "10001", "1..10000"},
        BadValue{"coupon.issuer.batch-size", "0", "1..10000"},
        BadValue{"coupon.issuer.max-retries", "-1", "0..1000"},
        BadValue{"coupon.issuer.block", "0", "at least 1ms"},
        BadValue{"seed.demo-data", "yes", "true or false"},
        BadValue{"seed.load-test-users", "1", "true or false"},
        BadValue{"logging.level", "verbose", "one of trace, debug, info, warn, error, off"},
        BadValue{"logging.json", "on", "true or false"}));

TEST_F(ConfigTest, BooleansAreCaseInsensitive) {
    AppConfig c = load("", {}, {"logging.json=TRUE", "migration.on-start=False"});
    EXPECT_TRUE(c.logging.json);
    EXPECT_FALSE(c.migration.on_start);
}

TEST_F(ConfigTest, LeakDetectionZeroMeansOff) {
    EXPECT_EQ(
        load("", {}, {"datasource.pool.leak-detection-threshold=0"}).datasource.pool.leak_detection_threshold,
        0ms);
}

TEST_F(ConfigTest, ConnectionTimeoutMinimumIsInclusive) {
    EXPECT_EQ(load("", {}, {"datasource.pool.connection-timeout=250ms"}).datasource.pool.connection_timeout,
              250ms);
}

TEST_F(ConfigTest, PortBoundsAreInclusive) {
    EXPECT_EQ(load("", {}, {"server.port=1"}).server.port, 1);
    EXPECT_EQ(load("", {}, {"server.port=65535"}).server.port, 65535);
}

// ---------------------------------------------------------------------------------------------------
// Checks across keys, after all layers

TEST_F(ConfigTest, MinimumIdleMayNotExceedMaximumPoolSize) {
    dir.write("application.yml", "datasource:\n  pool:\n    maximum-pool-size: 5\n    minimum-idle: 5\n");
    EXPECT_NO_THROW(load());
    std::string message = load_error("", {}, {"datasource.pool.minimum-idle=6"});
    EXPECT_NE(
        message.find("datasource.pool.minimum-idle=6 (--set) exceeds datasource.pool.maximum-pool-size=5 (" +
                     dir.file("application.yml") + ":3)"),
        std::string::npos)
        << message;
}

TEST_F(ConfigTest, MinimumIdleCheckSeesTheFinalValues) {
    // Lowering the maximum below the default minimum-idle is fine once minimum-idle follows.
    EXPECT_NO_THROW(
        load("", {{"DATASOURCE_POOL_MAXIMUM_POOL_SIZE", "2"}}, {"datasource.pool.minimum-idle=1"}));
    EXPECT_NE(load_error("", {{"DATASOURCE_POOL_MAXIMUM_POOL_SIZE", "2"}}).find("built-in default"),
              std::string::npos);
}

TEST_F(ConfigTest, OutboxRetentionCoversEveryDayKeptInRedis) {
    EXPECT_EQ(load().outbox.retention, std::chrono::hours(30 * 24));
    EXPECT_EQ(load().outbox.purge_interval, std::chrono::minutes(5));
    EXPECT_EQ(load().outbox.purge_batch_size, 1000);
    EXPECT_EQ(load("", {}, {"ranking.key-ttl=3d", "outbox.retention=4d"}).outbox.retention,
              std::chrono::hours(4 * 24));
    std::string message = load_error("", {}, {"ranking.key-ttl=5d", "outbox.retention=5d"});
    EXPECT_NE(
        message.find("outbox.retention=432000s (--set) must be at least ranking.key-ttl + 1d = 518400s"),
        std::string::npos)
        << message;
    message = load_error("", {}, {"outbox.retention=3d", "ranking.key-ttl=1d"});
    EXPECT_NE(message.find("outbox.retention"), std::string::npos) << message;
    EXPECT_NE(message.find("at least 345600s"), std::string::npos)
        << "the top products need 3 days: " << message;
}

TEST_F(ConfigTest, ProdRefusesLoadTestUsers) {
    dir.write("application-prod.yml", "");
    std::string message = load_error("prod", {{"SEED_LOAD_TEST_USERS", "true"}});
    EXPECT_NE(message.find("seeding load-test users is refused in profile prod"), std::string::npos)
        << message;
    EXPECT_NE(message.find("environment variable SEED_LOAD_TEST_USERS"), std::string::npos) << message;
}

TEST_F(ConfigTest, ProdRefusesDemoData) {
    dir.write("application.yml", "seed:\n  demo-data: true\n");
    dir.write("application-prod.yml", "");
    EXPECT_NE(load_error("prod").find("seeding demo data is refused in profile prod"), std::string::npos);
    // The same settings are fine outside prod.
    EXPECT_TRUE(load().seed.demo_data);
}

// ---------------------------------------------------------------------------------------------------
// Time zones

TEST_F(ConfigTest, KnownTimeZonesAreAccepted) {
    for (std::string zone : {"Asia/Seoul", "UTC", "America/New_York", "Europe/London"}) {
        EXPECT_EQ(load("", {}, {"business.time-zone=" + zone}).business.time_zone, zone);
    }
}

// ---------------------------------------------------------------------------------------------------
// parse_duration / parse_size

TEST(ParseDuration, AcceptsEveryUnit) {
    EXPECT_EQ(parse_duration("0"), 0ms);
    EXPECT_EQ(parse_duration("250"), 250ms);  // bare number = milliseconds, as in Spring
    EXPECT_EQ(parse_duration("500ms"), 500ms);
    EXPECT_EQ(parse_duration("2s"), 2s);
    EXPECT_EQ(parse_duration("10m"), 10min);
    EXPECT_EQ(parse_duration("1h"), 1h);
    EXPECT_EQ(parse_duration("1d"), 24h);
    EXPECT_EQ(parse_duration("3d"), 72h);
    EXPECT_EQ(parse_duration(" 5s "), 5s);
}

TEST(ParseDuration, RejectsGarbage) {
    for (std::string bad : {"", "-1s", "-5", "+5s", "1.5s", "s", "5 s", "5S", "5sec", "5us", "1w", "abc",
                            "99999999999999999999ms", "9999999999999999d"}) {
        EXPECT_THROW(parse_duration(bad), ConfigError) << "'" << bad << "'";
    }
}

TEST(ParseDuration, ErrorNamesTheText) {
    EXPECT_NE(error_of([] { parse_duration("soon"); }).find("'soon'"), std::string::npos);
}

TEST(ParseSize, AcceptsEveryUnit) {
    EXPECT_EQ(parse_size("0"), 0u);
    EXPECT_EQ(parse_size("100"), 100u);
    EXPECT_EQ(parse_size("100B"), 100u);
    EXPECT_EQ(parse_size("512KiB"), 512u * 1024);
    EXPECT_EQ(parse_size("1MiB"), 1024u * 1024);
    EXPECT_EQ(parse_size("2GiB"), 2ull * 1024 * 1024 * 1024);
    EXPECT_EQ(parse_size("16KB"), 16'000u);
    EXPECT_EQ(parse_size("1MB"), 1'000'000u);
    EXPECT_EQ(parse_size("3GB"), 3'000'000'000ull);
}

TEST(ParseSize, RejectsGarbage) {
    for (std::string bad : {"", "-1", "-1MiB", "1.5MiB", "MiB", "1 MiB", "1mib", "1XB", "1TB", "1KiBs",
                            "99999999999999999999", "99999999999GiB"}) {
        EXPECT_THROW(parse_size(bad), ConfigError) << "'" << bad << "'";
    }
}

// ---------------------------------------------------------------------------------------------------
// The shipped files

TEST(ShippedConfig, BaseFileDocumentsEveryKeyAndNothingElse) {
    std::map<std::string, std::string> values;
    flatten(YAML::LoadFile(kRepoConfigDir + "/application.yml"), "", values);
    std::vector<std::string> keys;
    for (const auto& [key, value] : values) keys.push_back(key);
    std::vector<std::string> expected = kAllKeys;
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(keys, expected);
}

TEST(ShippedConfig, BaseDefaultsMatchBuiltInDefaults) {
    // The struct defaults and application.yml document the same values; drift would confuse readers.
    AppConfig c = load_config({kRepoConfigDir, "", {}, {}});
    AppConfig d;
    EXPECT_EQ(c.server.address, d.server.address);
    EXPECT_EQ(c.server.port, d.server.port);
    EXPECT_EQ(c.server.threads, d.server.threads);
    EXPECT_EQ(c.server.max_body_size, d.server.max_body_size);
    EXPECT_EQ(c.server.max_header_size, d.server.max_header_size);
    EXPECT_EQ(c.server.request_timeout, d.server.request_timeout);
    EXPECT_EQ(c.server.idle_timeout, d.server.idle_timeout);
    EXPECT_EQ(c.server.max_connections, d.server.max_connections);
    EXPECT_EQ(c.server.shutdown_timeout, d.server.shutdown_timeout);
    EXPECT_EQ(c.datasource.url, d.datasource.url);
    EXPECT_EQ(c.datasource.statement_timeout, d.datasource.statement_timeout);
    EXPECT_EQ(c.datasource.pool.maximum_pool_size, d.datasource.pool.maximum_pool_size);
    EXPECT_EQ(c.datasource.pool.minimum_idle, d.datasource.pool.minimum_idle);
    EXPECT_EQ(c.datasource.pool.connection_timeout, d.datasource.pool.connection_timeout);
    EXPECT_EQ(c.datasource.pool.idle_timeout, d.datasource.pool.idle_timeout);
    EXPECT_EQ(c.datasource.pool.max_lifetime, d.datasource.pool.max_lifetime);
    EXPECT_EQ(c.datasource.pool.leak_detection_threshold, d.datasource.pool.leak_detection_threshold);
    EXPECT_EQ(c.datasource.pool.stats_log_interval, d.datasource.pool.stats_log_interval);
    EXPECT_EQ(c.redis.url, d.redis.url);
    EXPECT_EQ(c.redis.timeout, d.redis.timeout);
    EXPECT_EQ(c.redis.pool_size, d.redis.pool_size);
    EXPECT_EQ(c.redis_breaker.failure_threshold, d.redis_breaker.failure_threshold);
    EXPECT_EQ(c.redis_breaker.wait_in_open, d.redis_breaker.wait_in_open);
    EXPECT_EQ(c.redis_breaker.half_open_max_calls, d.redis_breaker.half_open_max_calls);
    EXPECT_EQ(c.redis_breaker.success_threshold, d.redis_breaker.success_threshold);
    EXPECT_EQ(c.business.time_zone, d.business.time_zone);
    EXPECT_EQ(c.ranking.key_ttl, d.ranking.key_ttl);
    EXPECT_EQ(c.ranking.backup.interval, d.ranking.backup.interval);
    EXPECT_EQ(c.ranking.backup.size, d.ranking.backup.size);
    EXPECT_EQ(c.coupon.reservation_ttl, d.coupon.reservation_ttl);
    EXPECT_EQ(c.coupon.issuer.batch_size, d.coupon.issuer.batch_size);
    EXPECT_EQ(c.coupon.issuer.consumer_name, d.coupon.issuer.consumer_name);
    EXPECT_EQ(c.coupon.issuer.max_retries, d.coupon.issuer.max_retries);
    EXPECT_EQ(c.coupon.issuer.claim_idle, d.coupon.issuer.claim_idle);
    EXPECT_EQ(c.coupon.issuer.block, d.coupon.issuer.block);
    EXPECT_EQ(c.seed.demo_data, d.seed.demo_data);
    EXPECT_EQ(c.seed.load_test_users, d.seed.load_test_users);
    EXPECT_EQ(c.logging.level, d.logging.level);
    EXPECT_EQ(c.logging.json, d.logging.json);
    EXPECT_EQ(c.migration.on_start, d.migration.on_start);
}

TEST(ShippedConfig, EveryProfileLoads) {
    for (std::string profile : {"", "local", "test", "prod"}) {
        EXPECT_NO_THROW(load_config({kRepoConfigDir, profile, {}, {}})) << "profile '" << profile << "'";
    }
}

TEST(ShippedConfig, LocalProfile) {
    AppConfig c = load_config({kRepoConfigDir, "local", {}, {}});
    EXPECT_TRUE(c.seed.demo_data);
    EXPECT_TRUE(c.seed.load_test_users);
    EXPECT_EQ(c.datasource.url, "postgresql://postgres@127.0.0.1:55432/ecommerce");
    EXPECT_EQ(c.redis.url, "redis://127.0.0.1:56379/0");
    EXPECT_EQ(c.datasource.pool.leak_detection_threshold, 30s);
}

TEST(ShippedConfig, TestProfile) {
    AppConfig c = load_config({kRepoConfigDir, "test", {}, {}});
    EXPECT_FALSE(c.seed.demo_data);
    EXPECT_TRUE(c.seed.load_test_users);
    EXPECT_EQ(c.datasource.pool.stats_log_interval, 5s);
    EXPECT_EQ(c.datasource.pool.leak_detection_threshold, 10s);
}

TEST(ShippedConfig, ProdProfile) {
    AppConfig c = load_config({kRepoConfigDir, "prod", {}, {}});
    EXPECT_FALSE(c.seed.demo_data);
    EXPECT_FALSE(c.seed.load_test_users);
    EXPECT_TRUE(c.logging.json);
    EXPECT_EQ(c.business.time_zone, "Asia/Seoul");
    std::string message = error_of([] {
        load_config({kRepoConfigDir, "prod", {}, {"seed.load-test-users=true"}});
    });
    EXPECT_NE(
        message.find(
            "seeding load-test users is refused in profile prod (seed.load-test-users=true from --set)"),
        std::string::npos)
        << message;
}

TEST(ShippedConfig, LoadsWithTheRealProcessEnvironment) {
    // Whatever the CI machine has in its environment must not break start-up by accident.
    std::map<std::string, std::string> env = process_environment();
    for (const auto& key : kAllKeys) {
        std::string name = key;
        for (char& ch : name) ch = (ch == '.' || ch == '-') ? '_' : static_cast<char>(std::toupper(ch));
        env.erase(name);
    }
    EXPECT_NO_THROW(load_config({kRepoConfigDir, "test", env, {}}));
}

// ---------------------------------------------------------------------------------------------------
// process_environment

TEST(ProcessEnvironment, SnapshotsEnviron) {
    ASSERT_EQ(setenv("EC_CONFIG_TEST_VAR", "a=b", 1), 0);
    auto env = process_environment();
    unsetenv("EC_CONFIG_TEST_VAR");
    ASSERT_TRUE(env.count("EC_CONFIG_TEST_VAR"));
    EXPECT_EQ(env.at("EC_CONFIG_TEST_VAR"), "a=b");  // split at the first '=' only
}

}  // namespace
}  // namespace ec::ops
