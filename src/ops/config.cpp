#include "ops/config.hpp"

#include <unistd.h>  // environ

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include <yaml-cpp/yaml.h>

namespace ec::ops {

namespace {

constexpr std::string_view kZoneInfoDir = "/usr/share/zoneinfo";

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Strict decimal: an optional '-' and digits, nothing else. from_chars alone would accept "12abc".
std::optional<long long> parse_integer(std::string_view text) {
    text = trim(text);
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Splits "123unit" into the unsigned number and its suffix; signs and fractions are not numbers here.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
    text = trim(text);
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == 0) return std::nullopt;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + digits, value);
    if (ec != std::errc{}) return std::nullopt;  // out of range
    return std::pair{value, text.substr(digits)};
}

std::optional<std::uint64_t> checked_multiply(std::uint64_t value, std::uint64_t factor,
                                              std::uint64_t limit) {
    if (value > limit / factor) return std::nullopt;
    return value * factor;
}

std::optional<Millis> try_parse_duration(std::string_view text) {
    auto split = split_number(text);
    if (!split) return std::nullopt;
    auto [value, unit] = *split;
    // Lower case only: "M" would read as months to some people and minutes to others.
    static const std::pair<std::string_view, std::uint64_t> kUnits[] = {
        {"", 1}, {"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000},
    };
    for (const auto& [suffix, factor] : kUnits) {
        if (unit != suffix) continue;
        auto ms = checked_multiply(value, factor, std::numeric_limits<Millis::rep>::max());
        if (!ms) return std::nullopt;
        return Millis{static_cast<Millis::rep>(*ms)};
    }
    return std::nullopt;
}

std::optional<std::size_t> try_parse_size(std::string_view text) {
    auto split = split_number(text);
    if (!split) return std::nullopt;
    auto [value, unit] = *split;
    static const std::pair<std::string_view, std::uint64_t> kUnits[] = {
        {"", 1},       {"B", 1},          {"KiB", 1ULL << 10},   {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30},
        {"KB", 1'000}, {"MB", 1'000'000}, {"GB", 1'000'000'000},
    };
    for (const auto& [suffix, factor] : kUnits) {
        if (unit != suffix) continue;
        auto bytes = checked_multiply(value, factor, std::numeric_limits<std::size_t>::max());
        if (!bytes) return std::nullopt;
        return static_cast<std::size_t>(*bytes);
    }
    return std::nullopt;
}

std::string format_duration(Millis d) {
    auto ms = d.count();
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

// ---------------------------------------------------------------------------------------------------
// The schema: every key, its accepted values and the AppConfig field it writes. Adding a key means
// adding one line here (plus its documented default in config/application.yml).

struct Binding {
    std::string key;
    std::string expected;                                     // completes "expected ..." in errors
    std::function<bool(AppConfig&, std::string_view)> apply;  // false = value rejected
};

using IntField = int& (*)(AppConfig&);
using SizeField = std::size_t& (*)(AppConfig&);
using DurationField = Millis& (*)(AppConfig&);
using BoolField = bool& (*)(AppConfig&);
using StringField = std::string& (*)(AppConfig&);

Binding int_key(std::string key, int min, int max, IntField field) {
    std::string expected = "an integer " + std::to_string(min) + ".." + std::to_string(max);
    return {std::move(key), std::move(expected), [=](AppConfig& c, std::string_view text) {
                auto v = parse_integer(text);
                if (!v || *v < min || *v > max) return false;
                field(c) = static_cast<int>(*v);
                return true;
            }};
}

Binding size_key(std::string key, std::size_t min, SizeField field) {
    std::string expected = "a size such as 512KiB or 1MiB, at least " + std::to_string(min) + "B";
    return {std::move(key), std::move(expected), [=](AppConfig& c, std::string_view text) {
                auto v = try_parse_size(text);
                if (!v || *v < min) return false;
                field(c) = *v;
                return true;
            }};
}

Binding duration_key(std::string key, Millis min, DurationField field) {
    std::string expected = "a duration such as 500ms, 2s, 10m, 1h or 1d";
    expected += min.count() == 0 ? " (0 disables)" : ", at least " + format_duration(min);
    return {std::move(key), std::move(expected), [=](AppConfig& c, std::string_view text) {
                auto v = try_parse_duration(text);
                if (!v || *v < min) return false;
                field(c) = *v;
                return true;
            }};
}

Binding bool_key(std::string key, BoolField field) {
    return {std::move(key), "true or false", [=](AppConfig& c, std::string_view text) {
                auto v = lower(trim(text));
                if (v != "true" && v != "false") return false;
                field(c) = v == "true";
                return true;
            }};
}

Binding string_key(std::string key, std::string expected, std::function<bool(std::string_view)> valid,
                   StringField field) {
    return {std::move(key), std::move(expected), [=](AppConfig& c, std::string_view text) {
                if (!valid(text)) return false;
                field(c) = std::string(text);
                return true;
            }};
}

std::function<bool(std::string_view)> url_with_scheme(std::vector<std::string_view> schemes) {
    return [schemes = std::move(schemes)](std::string_view text) {
        return std::any_of(schemes.begin(), schemes.end(), [&](std::string_view scheme) {
            return text.size() > scheme.size() && text.substr(0, scheme.size()) == scheme;
        });
    };
}

bool valid_time_zone(std::string_view zone) {
    // The name becomes a path; refuse anything that could step outside the zoneinfo tree.
    if (zone.empty() || zone.front() == '/' || zone.find("..") != std::string_view::npos) return false;
    std::error_code ec;
    return std::filesystem::is_regular_file(std::filesystem::path(kZoneInfoDir) / zone, ec);
}

bool valid_log_level(std::string_view level) {
    static constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    return std::find(std::begin(kLevels), std::end(kLevels), level) != std::end(kLevels);
}

const std::vector<Binding>& schema() {
    static const std::vector<Binding> bindings = [] {
        constexpr int kIntMax = std::numeric_limits<int>::max();
        const Millis one_ms{1};
        const auto any_string = [](std::string_view) { return true; };
        const auto non_empty = [](std::string_view s) { return !trim(s).empty(); };
        std::vector<Binding> b;

        b.push_back(string_key("server.address", "a non-empty listen address", non_empty,
                               [](AppConfig& c) -> std::string& { return c.server.address; }));
        b.push_back({"server.port", "an integer 1..65535", [](AppConfig& c, std::string_view text) {
                         auto v = parse_integer(text);
                         if (!v || *v < 1 || *v > 65535) return false;
                         c.server.port = static_cast<std::uint16_t>(*v);
                         return true;
                     }});
        b.push_back(
            int_key("server.threads", 0, 1024, [](AppConfig& c) -> int& { return c.server.threads; }));
        b.push_back(size_key("server.max-body-size", 1,
                             [](AppConfig& c) -> std::size_t& { return c.server.max_body_size; }));
        b.push_back(size_key("server.max-header-size", 1,
                             [](AppConfig& c) -> std::size_t& { return c.server.max_header_size; }));
        b.push_back(duration_key("server.request-timeout", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.server.request_timeout; }));
        b.push_back(duration_key("server.idle-timeout", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.server.idle_timeout; }));
        b.push_back(int_key("server.max-connections", 1, kIntMax,
                            [](AppConfig& c) -> int& { return c.server.max_connections; }));
        b.push_back(duration_key("server.shutdown-timeout", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.server.shutdown_timeout; }));

        b.push_back(string_key("datasource.url", "a URL starting with postgresql:// or postgres://",
                               url_with_scheme({"postgresql://", "postgres://"}),
                               [](AppConfig& c) -> std::string& { return c.datasource.url; }));
        b.push_back(duration_key("datasource.statement-timeout", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.datasource.statement_timeout; }));
        b.push_back(bool_key("datasource.flush-barrier",
                             [](AppConfig& c) -> bool& { return c.datasource.flush_barrier; }));
        b.push_back(int_key("datasource.pool.maximum-pool-size", 1, 10'000,
                            [](AppConfig& c) -> int& { return c.datasource.pool.maximum_pool_size; }));
        b.push_back(int_key("datasource.pool.minimum-idle", 0, 10'000,
                            [](AppConfig& c) -> int& { return c.datasource.pool.minimum_idle; }));
        // HikariCP refuses connection timeouts below 250ms: shorter ones fail on any network hiccup.
        b.push_back(
            duration_key("datasource.pool.connection-timeout", Millis{250},
                         [](AppConfig& c) -> Millis& { return c.datasource.pool.connection_timeout; }));
        b.push_back(duration_key("datasource.pool.idle-timeout", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.datasource.pool.idle_timeout; }));
        b.push_back(duration_key("datasource.pool.max-lifetime", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.datasource.pool.max_lifetime; }));
        b.push_back(
            duration_key("datasource.pool.leak-detection-threshold", Millis{0},
                         [](AppConfig& c) -> Millis& { return c.datasource.pool.leak_detection_threshold; }));
        b.push_back(duration_key("datasource.pool.stats-log-interval", one_ms, [](AppConfig& c) -> Millis& {
            return c.datasource.pool.stats_log_interval;
        }));

        b.push_back(string_key("redis.url", "a URL starting with redis://", url_with_scheme({"redis://"}),
                               [](AppConfig& c) -> std::string& { return c.redis.url; }));
        b.push_back(
            duration_key("redis.timeout", one_ms, [](AppConfig& c) -> Millis& { return c.redis.timeout; }));
        b.push_back(
            int_key("redis.pool-size", 1, 1'000, [](AppConfig& c) -> int& { return c.redis.pool_size; }));

        b.push_back(int_key("circuit-breaker.redis.failure-threshold", 1, kIntMax,
                            [](AppConfig& c) -> int& { return c.redis_breaker.failure_threshold; }));
        b.push_back(duration_key("circuit-breaker.redis.wait-in-open", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.redis_breaker.wait_in_open; }));
        b.push_back(int_key("circuit-breaker.redis.half-open-max-calls", 1, kIntMax,
                            [](AppConfig& c) -> int& { return c.redis_breaker.half_open_max_calls; }));
        b.push_back(int_key("circuit-breaker.redis.success-threshold", 1, kIntMax,
                            [](AppConfig& c) -> int& { return c.redis_breaker.success_threshold; }));

        b.push_back(string_key("business.time-zone", "an IANA time zone such as Asia/Seoul or UTC",
                               valid_time_zone,
                               [](AppConfig& c) -> std::string& { return c.business.time_zone; }));

        b.push_back(duration_key("products.cache-ttl", Millis{0},
                                 [](AppConfig& c) -> Millis& { return c.products.cache_ttl; }));
        b.push_back(duration_key("products.top-cache-ttl", Millis{0},
                                 [](AppConfig& c) -> Millis& { return c.products.top_cache_ttl; }));
        b.push_back(duration_key("payment.in-progress-wait", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.payment.in_progress_wait; }));
        b.push_back(duration_key("payment.stale-after", Millis{1'000},
                                 [](AppConfig& c) -> Millis& { return c.payment.stale_after; }));
        b.push_back(duration_key("payment.recovery-interval", Millis{100},
                                 [](AppConfig& c) -> Millis& { return c.payment.recovery_interval; }));
        b.push_back(duration_key("payment.full-recovery-interval", Millis{1'000},
                                 [](AppConfig& c) -> Millis& { return c.payment.full_recovery_interval; }));
        b.push_back(duration_key("idempotency.purge-interval", Millis{100},
                                 [](AppConfig& c) -> Millis& { return c.idempotency.purge_interval; }));
        b.push_back(int_key("idempotency.purge-batch-size", 1, 100'000,
                            [](AppConfig& c) -> int& { return c.idempotency.purge_batch_size; }));

        b.push_back(duration_key("ranking.key-ttl", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.ranking.key_ttl; }));
        b.push_back(duration_key("ranking.cache-ttl", Millis{0},
                                 [](AppConfig& c) -> Millis& { return c.ranking.cache_ttl; }));
        b.push_back(duration_key("ranking.backup.interval", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.ranking.backup.interval; }));
        b.push_back(int_key("ranking.backup.size", 1, 10'000,
                            [](AppConfig& c) -> int& { return c.ranking.backup.size; }));

        b.push_back(duration_key("outbox.poll-interval", Millis{10},
                                 [](AppConfig& c) -> Millis& { return c.outbox.poll_interval; }));
        b.push_back(duration_key("outbox.linger", Millis{0},
                                 [](AppConfig& c) -> Millis& { return c.outbox.linger; }));
        b.push_back(int_key("outbox.batch-size", 1, 10'000,
                            [](AppConfig& c) -> int& { return c.outbox.batch_size; }));
        b.push_back(int_key("outbox.max-attempts", 1, 1'000,
                            [](AppConfig& c) -> int& { return c.outbox.max_attempts; }));
        b.push_back(duration_key("outbox.retry-backoff", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.outbox.retry_backoff; }));
        b.push_back(int_key("outbox.stream-max-length", 1, kIntMax,
                            [](AppConfig& c) -> int& { return c.outbox.stream_max_length; }));
        // Under 4 days the top products (the last 3 business days) would lose paid orders.
        b.push_back(duration_key("outbox.retention", Millis{4LL * 24 * 3600 * 1000},
                                 [](AppConfig& c) -> Millis& { return c.outbox.retention; }));
        b.push_back(duration_key("outbox.purge-interval", Millis{100},
                                 [](AppConfig& c) -> Millis& { return c.outbox.purge_interval; }));
        b.push_back(int_key("outbox.purge-batch-size", 1, 100'000,
                            [](AppConfig& c) -> int& { return c.outbox.purge_batch_size; }));

        b.push_back(duration_key("coupon.reservation-ttl", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.coupon.reservation_ttl; }));
        b.push_back(int_key("coupon.issuer.batch-size", 1, 10'000,
                            [](AppConfig& c) -> int& { return c.coupon.issuer.batch_size; }));
        b.push_back(string_key("coupon.issuer.consumer-name", "any string (empty = hostname-pid)", any_string,
                               [](AppConfig& c) -> std::string& { return c.coupon.issuer.consumer_name; }));
        b.push_back(int_key("coupon.issuer.max-retries", 0, 1'000,
                            [](AppConfig& c) -> int& { return c.coupon.issuer.max_retries; }));
        b.push_back(duration_key("coupon.issuer.claim-idle", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.coupon.issuer.claim_idle; }));
        // Redis reads BLOCK 0 as "forever", which would stall shutdown; hence at least 1ms.
        b.push_back(duration_key("coupon.issuer.block", one_ms,
                                 [](AppConfig& c) -> Millis& { return c.coupon.issuer.block; }));

        b.push_back(bool_key("seed.demo-data", [](AppConfig& c) -> bool& { return c.seed.demo_data; }));
        b.push_back(
            bool_key("seed.load-test-users", [](AppConfig& c) -> bool& { return c.seed.load_test_users; }));

        b.push_back({"logging.level", "one of trace, debug, info, warn, error, off",
                     [](AppConfig& c, std::string_view text) {
                         auto level = lower(trim(text));
                         if (!valid_log_level(level)) return false;
                         c.logging.level = level;
                         return true;
                     }});
        b.push_back(bool_key("logging.json", [](AppConfig& c) -> bool& { return c.logging.json; }));

        b.push_back(
            bool_key("migration.on-start", [](AppConfig& c) -> bool& { return c.migration.on_start; }));
        return b;
    }();
    return bindings;
}

const Binding* find_binding(std::string_view key) {
    for (const auto& b : schema())
        if (b.key == key) return &b;
    return nullptr;
}

// A key that only names a section ("server", "datasource.pool"), so an empty YAML map is harmless.
bool is_section(std::string_view key) {
    std::string prefix = std::string(key) + ".";
    return std::any_of(schema().begin(), schema().end(),
                       [&](const Binding& b) { return b.key.compare(0, prefix.size(), prefix) == 0; });
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

[[noreturn]] void throw_unknown_key(std::string_view key, std::string_view source) {
    std::string message = "unknown configuration key '" + std::string(key) + "' in " + std::string(source);
    const Binding* closest = nullptr;
    std::size_t best = 3;  // typos only; anything further is a different key altogether
    for (const auto& b : schema()) {
        std::size_t d = edit_distance(key, b.key);
        if (d < best) {
            best = d;
            closest = &b;
        }
    }
    if (closest) message += " (did you mean '" + closest->key + "'?)";
    throw ConfigError(message);
}

std::string env_name(std::string_view key) {
    std::string name;
    for (char c : key)
        name += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return name;
}

// Which layer set each key last, so that cross-key errors can say where to look.
using Origins = std::map<std::string, std::string>;

void apply(AppConfig& config, Origins& origins, const std::string& key, const std::string& value,
           const std::string& source) {
    const Binding* binding = find_binding(key);
    if (!binding) throw_unknown_key(key, source);
    if (!binding->apply(config, value)) {
        throw ConfigError("invalid value '" + value + "' for '" + key + "' (" + source + "): expected " +
                          binding->expected);
    }
    origins[key] = source;
}

void apply_yaml(AppConfig& config, Origins& origins, const YAML::Node& node, const std::string& prefix,
                const std::string& file) {
    for (const auto& entry : node) {
        const YAML::Node& key_node = entry.first;
        const YAML::Node& value = entry.second;
        std::string source = file + ":" + std::to_string(key_node.Mark().line + 1);
        if (!key_node.IsScalar() || key_node.Scalar().empty())
            throw ConfigError("configuration keys must be non-empty strings (" + source + ")");
        std::string key = prefix.empty() ? key_node.Scalar() : prefix + "." + key_node.Scalar();

        if (value.IsScalar()) {
            apply(config, origins, key, value.Scalar(), source);
        } else if (value.IsNull()) {
            // "consumer-name:" means empty; "seed:" with every child commented out means nothing.
            if (find_binding(key)) {
                apply(config, origins, key, "", source);
            } else if (!is_section(key)) {
                throw_unknown_key(key, source);
            }
        } else if (find_binding(key)) {
            throw ConfigError("invalid value for '" + key + "' (" + source +
                              "): expected a single value, not a " + (value.IsMap() ? "map" : "list"));
        } else if (value.IsMap() && (value.size() > 0 || is_section(key))) {
            apply_yaml(config, origins, value, key, file);  // unknown children are reported by the recursion
        } else {
            throw_unknown_key(key, source);
        }
    }
}

void apply_file(AppConfig& config, Origins& origins, const std::filesystem::path& path) {
    const std::string file = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw ConfigError("configuration file " + file + " not found");
    YAML::Node root;
    try {
        root = YAML::LoadFile(file);
    } catch (const YAML::ParserException& e) {
        throw ConfigError("cannot parse " + file + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    } catch (const YAML::Exception& e) {
        throw ConfigError("cannot read " + file + ": " + e.what());
    }
    if (root.IsNull()) return;  // empty file, or only comments
    if (!root.IsMap()) throw ConfigError(file + ": expected a map of configuration keys at the top level");
    apply_yaml(config, origins, root, "", file);
}

void check_cross_keys(const AppConfig& config, Origins& origins) {
    auto origin = [&](const std::string& key) {
        auto it = origins.find(key);
        return it == origins.end() ? std::string("built-in default") : it->second;
    };
    const auto& pool = config.datasource.pool;
    if (pool.minimum_idle > pool.maximum_pool_size) {
        throw ConfigError(
            "datasource.pool.minimum-idle=" + std::to_string(pool.minimum_idle) + " (" +
            origin("datasource.pool.minimum-idle") +
            ") exceeds datasource.pool.maximum-pool-size=" + std::to_string(pool.maximum_pool_size) + " (" +
            origin("datasource.pool.maximum-pool-size") + ")");
    }
    // A day still kept in Redis must stay rebuildable from its events (ranking rebuild --date).
    constexpr Millis kDay{24LL * 3600 * 1000};
    if (config.outbox.retention < config.ranking.key_ttl + kDay) {
        throw ConfigError("outbox.retention=" + format_duration(config.outbox.retention) + " (" +
                          origin("outbox.retention") + ") must be at least ranking.key-ttl + 1d = " +
                          format_duration(config.ranking.key_ttl + kDay) + " (ranking.key-ttl from " +
                          origin("ranking.key-ttl") + "): a day still in Redis must stay rebuildable");
    }
    // Seeded accounts have well-known passwords; in production they would be a back door.
    if (config.profile == "prod") {
        if (config.seed.load_test_users) {
            throw ConfigError(
                "seeding load-test users is refused in profile prod (seed.load-test-users=true from " +
                origin("seed.load-test-users") + ")");
        }
        if (config.seed.demo_data) {
            throw ConfigError("seeding demo data is refused in profile prod (seed.demo-data=true from " +
                              origin("seed.demo-data") + ")");
        }
    }
}

}  // namespace

AppConfig load_config(const ConfigSources& sources) {
    static constexpr std::string_view kProfiles[] = {"local", "test", "prod"};
    if (!sources.profile.empty() &&
        std::find(std::begin(kProfiles), std::end(kProfiles), sources.profile) == std::end(kProfiles)) {
        throw ConfigError("unknown profile '" + sources.profile + "': expected one of local, test, prod");
    }

    AppConfig config;
    config.profile = sources.profile;
    Origins origins;
    const std::filesystem::path dir(sources.config_dir);

    apply_file(config, origins, dir / "application.yml");
    if (!sources.profile.empty())
        apply_file(config, origins, dir / ("application-" + sources.profile + ".yml"));

    // Only known keys are looked up: the environment is full of variables that are none of our business.
    for (const auto& binding : schema()) {
        std::string name = env_name(binding.key);
        auto it = sources.env.find(name);
        if (it != sources.env.end())
            apply(config, origins, binding.key, it->second, "environment variable " + name);
    }

    for (const auto& entry : sources.sets) {
        auto eq = entry.find('=');
        std::string key(trim(std::string_view(entry).substr(0, eq)));
        if (eq == std::string::npos || key.empty())
            throw ConfigError("malformed --set '" + entry + "': expected key=value");
        apply(config, origins, key, entry.substr(eq + 1), "--set");
    }

    check_cross_keys(config, origins);
    return config;
}

Millis parse_duration(const std::string& text) {
    if (auto d = try_parse_duration(text)) return *d;
    throw ConfigError("invalid duration '" + text +
                      "': expected a number with ms, s, m, h or d (e.g. 500ms, 2s)");
}

std::size_t parse_size(const std::string& text) {
    if (auto s = try_parse_size(text)) return *s;
    throw ConfigError("invalid size '" + text + "': expected a number with B, KiB, MiB, GiB, KB, MB or GB");
}

std::map<std::string, std::string> process_environment() {
    std::map<std::string, std::string> env;
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string_view text(*entry);
        auto eq = text.find('=');
        if (eq == std::string_view::npos) continue;
        env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
    }
    return env;
}

}  // namespace ec::ops
