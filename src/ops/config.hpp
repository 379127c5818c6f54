#pragma once
// Application configuration (SPEC §3): config/application.yml, overlaid by
// config/application-{profile}.yml, by environment variables (relaxed binding:
// datasource.pool.maximum-pool-size <-> DATASOURCE_POOL_MAXIMUM_POOL_SIZE) and by --set key=value.
// Every key is declared in one schema (config.cpp); an unknown key or an invalid value throws
// ConfigError whose message names the key and where it came from.
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ec::ops {

using Millis = std::chrono::milliseconds;

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ServerConfig {
    std::string address = "0.0.0.0";
    std::uint16_t port = 8080;
    int threads = 0;  // 0 = one per core
    std::size_t max_body_size = 1024 * 1024;
    std::size_t max_header_size = 16 * 1024;
    Millis request_timeout{30'000};
    Millis idle_timeout{60'000};
    int max_connections = 10'000;
    Millis shutdown_timeout{30'000};
};

struct PoolConfig {
    int maximum_pool_size = 10;
    int minimum_idle = 10;
    Millis connection_timeout{3'000};
    Millis idle_timeout{600'000};
    Millis max_lifetime{1'800'000};
    Millis leak_detection_threshold{0};  // 0 = off
    Millis stats_log_interval{30'000};
};

struct DatasourceConfig {
    std::string url = "postgresql://postgres@127.0.0.1:5432/ecommerce";
    Millis statement_timeout{10'000};
    PoolConfig pool;
    // Order creations and payment completions commit without a flush wait of their own and are
    // answered after one WAL flush shared by all commits before it (infra/postgres/wal_flush_barrier.hpp).
    bool flush_barrier = true;
};

struct RedisConfig {
    std::string url = "redis://127.0.0.1:6379/0";
    Millis timeout{1'000};
    int pool_size = 2;  // connections; each pipelines many in-flight commands
};

struct BreakerConfig {
    int failure_threshold = 5;    // consecutive failures that open the breaker
    Millis wait_in_open{2'000};   // open -> half-open after this long
    int half_open_max_calls = 1;  // trial calls let through while half-open
    int success_threshold = 1;    // successes in half-open that close it again
};

struct BusinessConfig {
    std::string time_zone = "Asia/Seoul";
};

struct RankingBackupConfig {
    Millis interval{600'000};
    int size = 100;
};

struct RankingConfig {
    Millis key_ttl{3LL * 24 * 3600 * 1000};
    Millis cache_ttl{50};  // top-N answers are reused this long unless this instance's relay changed them
    RankingBackupConfig backup;
};

struct OutboxConfig {
    Millis poll_interval{1'000};        // the relay looks for events nobody signalled this often
    Millis linger{0};                   // after a wake-up, wait this long so a round takes more events
    int batch_size = 200;               // events per relay round (one transaction)
    int max_attempts = 10;              // failures before an event is parked for an operator
    Millis retry_backoff{1'000};        // first retry delay; doubles per failure, at most 5 minutes
    int stream_max_length = 1'000'000;  // order-completed is trimmed to about this many entries
    Millis retention{30LL * 24 * 3600 * 1000};  // published events older than this are deleted
    Millis purge_interval{300'000};             // how often they are looked for
    int purge_batch_size = 1'000;               // events per delete (one short transaction each)
};

struct CouponIssuerConfig {
    int batch_size = 100;
    std::string consumer_name;  // empty = hostname-pid
    int max_retries = 5;
    Millis claim_idle{5'000};
    Millis block{1'000};
};

struct CouponConfig {
    Millis reservation_ttl{24LL * 3600 * 1000};
    CouponIssuerConfig issuer;
};

struct ProductsConfig {
    Millis cache_ttl{1'000};        // longest a product change made outside this instance stays unseen
    Millis top_cache_ttl{300'000};  // GET /api/products/top; 0 = computed on every request
};

struct PaymentConfig {
    Millis in_progress_wait{5'000};    // a same-key retry waits this long for the first to finish
    Millis stale_after{120'000};       // a reservation this old was abandoned by a crash: compensate it
    Millis recovery_interval{30'000};  // how often abandoned reservations are looked for
    Millis full_recovery_interval{3'600'000};  // how often that look reads every payment record
};

struct IdempotencyConfig {
    Millis purge_interval{300'000};  // how often expired charge and payment records are deleted
    int purge_batch_size = 1'000;    // records per delete (one short transaction each)
};

struct SeedConfig {
    bool demo_data = false;
    bool load_test_users = false;
};

struct LoggingConfig {
    std::string level = "info";  // trace, debug, info, warn, error, off
    bool json = false;
};

struct MigrationConfig {
    bool on_start = true;  // `serve` applies pending migrations unless false
};

struct AppConfig {
    std::string profile;  // "", "local", "test" or "prod"
    ServerConfig server;
    DatasourceConfig datasource;
    RedisConfig redis;
    BreakerConfig redis_breaker;  // circuit-breaker.redis.*
    BusinessConfig business;
    RankingConfig ranking;
    OutboxConfig outbox;
    CouponConfig coupon;
    ProductsConfig products;
    PaymentConfig payment;
    IdempotencyConfig idempotency;
    SeedConfig seed;
    LoggingConfig logging;
    MigrationConfig migration;
};

struct ConfigSources {
    std::string config_dir = "config";
    std::string profile;                     // may be empty
    std::map<std::string, std::string> env;  // usually the process environment
    std::vector<std::string> sets;           // "key=value" from --set
};

AppConfig load_config(const ConfigSources& sources);

// "500ms", "2s", "10m", "1h", "1d" (a bare integer is milliseconds, as in Spring).
Millis parse_duration(const std::string& text);
// "512KiB", "1MiB", "2GiB", "100B" or a bare integer (bytes); KB/MB also accepted as 1000-based.
std::size_t parse_size(const std::string& text);

// Environment snapshot of the current process, for ConfigSources::env.
std::map<std::string, std::string> process_environment();

}  // namespace ec::ops
