#pragma once
// Metrics registry with Micrometer naming (SPEC §9). A metric is registered under its dotted
// Micrometer name ("hikaricp.connections.active", "http.server.requests") and a kind; the
// Prometheus name is derived in one place: dots -> underscores, plus "_total" for counters and
// "_seconds" (+ _count/_sum/_bucket/_max) for timers. Every method is thread-safe; the returned
// references stay valid for the registry's lifetime, so hot paths look a metric up once.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

namespace ec::ops {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    void increment(double amount = 1.0) noexcept;
    double value() const noexcept;

private:
    std::atomic<double> value_{0.0};
};

class Gauge {
public:
    void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
    void add(double d) noexcept;
    double value() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<double> value_{0.0};
};

// A Micrometer Timer published as a Prometheus histogram in seconds.
class Timer {
public:
    explicit Timer(std::vector<double> bucket_bounds_seconds);
    void record(double seconds) noexcept;
    std::uint64_t count() const noexcept;
    double sum() const noexcept;
    double max() const noexcept;
    const std::vector<double>& bounds() const noexcept { return bounds_; }
    std::vector<std::uint64_t> cumulative_buckets() const;  // one per bound, then +Inf

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // non-cumulative, size bounds+1
    std::atomic<std::uint64_t> count_{0};
    std::atomic<double> sum_{0.0};
    std::atomic<double> max_{0.0};
};

// Default latency buckets (seconds): 0.5 ms .. 30 s.
const std::vector<double>& default_timer_buckets();

class MetricsRegistry {
public:
    // Out of line because Family is incomplete here.
    MetricsRegistry();
    ~MetricsRegistry();
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
    // A gauge whose value is read when scraped (pool sizes, stream lengths, breaker state).
    void gauge_fn(std::string_view name, std::string_view help, const Labels& labels,
                  std::function<double()> read);
    Timer& timer(std::string_view name, std::string_view help, const Labels& labels = {},
                 const std::vector<double>& buckets = default_timer_buckets());

    // Prometheus text exposition format 0.0.4, every metric with # HELP and # TYPE.
    std::string render_prometheus() const;
    // /actuator/metrics: {"names":[dotted names, sorted]}
    boost::json::object actuator_names() const;
    // /actuator/metrics/{name}?tag=k:v: Spring Actuator shape
    // {"name","description","baseUnit","measurements":[{"statistic","value"}],"availableTags":[{"tag","values"}]}
    // aggregated over the series that match every tag filter; nullopt when the name is unknown.
    std::optional<boost::json::object> actuator_metric(
        std::string_view name, const std::vector<std::pair<std::string, std::string>>& tag_filters) const;

private:
    struct Family;
    Family& family(std::string_view name, std::string_view help, int kind);  // requires mutex_
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
    // Prometheus sample names already claimed, so two dotted names that sanitise to the same
    // exposition name (e.g. counter "a" and gauge "a.total") are rejected at registration.
    std::map<std::string, std::string, std::less<>> claimed_;
};

}  // namespace ec::ops
