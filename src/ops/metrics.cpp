#include "ops/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include <boost/json.hpp>

namespace ec::ops {

namespace {

enum class Kind { Counter = 0, Gauge = 1, Timer = 2 };

std::string_view kind_name(Kind k) {
    switch (k) {
        case Kind::Counter:
            return "counter";
        case Kind::Gauge:
            return "gauge";
        case Kind::Timer:
            return "timer";
    }
    return "?";
}

// libc++ still lacks atomic<double>::fetch_add, so keep the CAS loop explicit.
void atomic_add(std::atomic<double>& a, double d) noexcept {
    double cur = a.load(std::memory_order_relaxed);
    while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed)) {
    }
}

void atomic_max(std::atomic<double>& a, double v) noexcept {
    double cur = a.load(std::memory_order_relaxed);
    while (v > cur && !a.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
}

// Sorted, duplicate-free and finite: +Inf is always the implicit last bucket, and the Prometheus
// histogram format requires ascending `le`.
std::vector<double> normalize_bounds(std::vector<double> b) {
    std::erase_if(b, [](double v) { return !std::isfinite(v); });
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
    return b;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Micrometer's PrometheusNamingConvention: anything outside the Prometheus alphabet becomes '_'
// (dots being the common case), and a name may not start with a digit.
std::string sanitize(std::string_view name, bool allow_colon) {
    std::string out;
    out.reserve(name.size() + 1);
    if (!name.empty() && name.front() >= '0' && name.front() <= '9') out.push_back('_');
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  (allow_colon && c == ':');
        out.push_back(ok ? c : '_');
    }
    return out;
}

// Prometheus family name per kind; counters and timers get their unit suffix unless the dotted
// name already carries it ("x.total" must not become x_total_total).
std::string prometheus_name(std::string_view dotted, Kind kind) {
    std::string base = sanitize(dotted, true);
    switch (kind) {
        case Kind::Counter:
            return ends_with(base, "_total") ? base : base + "_total";
        case Kind::Timer:
            return ends_with(base, "_seconds") ? base : base + "_seconds";
        case Kind::Gauge:
            break;
    }
    return base;
}

std::vector<std::string> sample_names(const std::string& prom, Kind kind) {
    if (kind != Kind::Timer) return {prom};
    return {prom, prom + "_bucket", prom + "_count", prom + "_sum", prom + "_max"};
}

std::string format_number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Below 1e15 every integral double is exact, so the integer spelling loses nothing.
    if (v == std::trunc(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
}

void append_escaped_label(std::string& out, std::string_view v) {
    for (char c : v) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out.push_back(c);
        }
    }
}

// HELP text escapes only backslash and newline (quotes are literal there).
void append_escaped_help(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out.push_back(c);
    }
}

std::string label_block(const Labels& labels, std::string_view le = {}) {
    if (labels.empty() && le.empty()) return {};
    std::string out = "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
        if (!first) out.push_back(',');
        first = false;
        out += sanitize(k, false);
        out += "=\"";
        append_escaped_label(out, v);
        out.push_back('"');
    }
    if (!le.empty()) {
        if (!first) out.push_back(',');
        out += "le=\"";
        out += le;
        out.push_back('"');
    }
    out.push_back('}');
    return out;
}

void append_header(std::string& out, const std::string& prom, std::string_view help, std::string_view type) {
    out += "# HELP ";
    out += prom;
    out.push_back(' ');
    append_escaped_help(out, help);
    out += "\n# TYPE ";
    out += prom;
    out.push_back(' ');
    out += type;
    out.push_back('\n');
}

void append_sample(std::string& out, std::string_view name, const std::string& labels, double v) {
    out += name;
    out += labels;
    out.push_back(' ');
    out += format_number(v);
    out.push_back('\n');
}

// Identity is the label set, not the order the caller happened to list it in.
Labels identity_key(const Labels& labels, bool is_timer) {
    Labels key = labels;
    std::sort(key.begin(), key.end());
    for (std::size_t i = 0; i < key.size(); ++i) {
        if (key[i].first.empty()) throw std::invalid_argument("metrics: empty label name");
        if (i > 0 && key[i].first == key[i - 1].first)
            throw std::invalid_argument("metrics: duplicate label '" + key[i].first + "'");
        if (is_timer && key[i].first == "le")
            throw std::invalid_argument("metrics: label 'le' is reserved for histogram buckets");
    }
    return key;
}

// Copy of a series taken under the registry lock; values are read (and callbacks run) after it
// is released. The raw pointers stay valid because series are never removed.
struct SeriesView {
    Labels labels;
    const Counter* counter = nullptr;
    const Gauge* gauge = nullptr;
    const Timer* timer = nullptr;
    std::function<double()> read;

    double scalar() const {
        if (counter) return counter->value();
        if (gauge) return gauge->value();
        if (!read) return std::numeric_limits<double>::quiet_NaN();
        // One broken callback must not take down the whole scrape; NaN is what Micrometer
        // reports for a gauge whose source is gone.
        try {
            return read();
        } catch (...) {
            return std::numeric_limits<double>::quiet_NaN();
        }
    }
};

struct FamilyView {
    std::string name;
    std::string help;
    std::string prom;
    Kind kind = Kind::Gauge;
    std::vector<SeriesView> series;
};

bool matches(const Labels& labels, const std::vector<std::pair<std::string, std::string>>& filters) {
    return std::all_of(filters.begin(), filters.end(), [&](const auto& f) {
        return std::find(labels.begin(), labels.end(), f) != labels.end();
    });
}

// Integral values as JSON integers ("value":3, like the Actuator examples), non-finite as null
// because JSON has no spelling for NaN/Inf.
boost::json::value json_number(double v) {
    if (!std::isfinite(v)) return nullptr;
    if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) return static_cast<std::int64_t>(v);
    return v;
}

}  // namespace

// ---- Counter / Gauge / Timer ----

void Counter::increment(double amount) noexcept {
    // Counters are monotonic (Prometheus rate() assumes it); negative and NaN amounts are dropped.
    if (!(amount > 0)) return;
    atomic_add(value_, amount);
}

double Counter::value() const noexcept {
    return value_.load(std::memory_order_relaxed);
}

void Gauge::add(double d) noexcept {
    atomic_add(value_, d);
}

Timer::Timer(std::vector<double> bucket_bounds_seconds)
    : bounds_(normalize_bounds(std::move(bucket_bounds_seconds))),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Timer::record(double seconds) noexcept {
    if (std::isnan(seconds)) return;
    // A clock that stepped backwards yields a negative duration; count it as instantaneous.
    if (seconds < 0) seconds = 0;
    // `le` is inclusive, so the first bound >= seconds is the right bucket.
    auto idx =
        static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), seconds) - bounds_.begin());
    buckets_[idx].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    atomic_add(sum_, seconds);
    atomic_max(max_, seconds);
}

std::uint64_t Timer::count() const noexcept {
    return count_.load(std::memory_order_relaxed);
}
double Timer::sum() const noexcept {
    return sum_.load(std::memory_order_relaxed);
}
double Timer::max() const noexcept {
    return max_.load(std::memory_order_relaxed);
}

std::vector<std::uint64_t> Timer::cumulative_buckets() const {
    std::vector<std::uint64_t> out(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        out[i] = running;
    }
    return out;
}

const std::vector<double>& default_timer_buckets() {
    static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                             0.25,   0.5,   1,      2.5,   5,    10,    30};
    return buckets;
}

// ---- Registry ----

struct MetricsRegistry::Family {
    struct Series {
        Labels labels;  // as first registered: the exposition keeps the caller's order
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Timer> timer;
        std::function<double()> read;
    };

    std::string name;
    std::string help;
    std::string prom;
    Kind kind;
    std::vector<double> buckets;  // timers: fixed by the first registration
    std::map<Labels, Series> series;

    SeriesView view(const Series& s) const {
        return SeriesView{s.labels, s.counter.get(), s.gauge.get(), s.timer.get(), s.read};
    }
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, std::string_view help, int kind_int) {
    auto kind = static_cast<Kind>(kind_int);
    if (name.empty()) throw std::invalid_argument("metrics: empty metric name");
    if (auto it = families_.find(name); it != families_.end()) {
        if (it->second->kind != kind)
            throw std::logic_error("metric '" + std::string(name) + "' already registered as " +
                                   std::string(kind_name(it->second->kind)) + ", not " +
                                   std::string(kind_name(kind)));
        return *it->second;
    }
    std::string prom = prometheus_name(name, kind);
    auto claims = sample_names(prom, kind);
    for (const auto& c : claims) {
        if (auto it = claimed_.find(c); it != claimed_.end())
            throw std::logic_error("metric '" + std::string(name) + "' collides with '" + it->second +
                                   "' on Prometheus name " + c);
    }
    auto f = std::make_unique<Family>();
    f->name = std::string(name);
    f->help = std::string(help);
    f->prom = std::move(prom);
    f->kind = kind;
    for (auto& c : claims) claimed_.emplace(std::move(c), f->name);
    return *families_.emplace(f->name, std::move(f)).first->second;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, const Labels& labels) {
    auto key = identity_key(labels, false);
    std::lock_guard lock(mutex_);
    Family& f = family(name, help, static_cast<int>(Kind::Counter));
    auto [it, inserted] = f.series.try_emplace(std::move(key));
    if (inserted) {
        it->second.labels = labels;
        it->second.counter = std::make_unique<Counter>();
    }
    return *it->second.counter;
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
    auto key = identity_key(labels, false);
    std::lock_guard lock(mutex_);
    Family& f = family(name, help, static_cast<int>(Kind::Gauge));
    auto [it, inserted] = f.series.try_emplace(std::move(key));
    if (inserted) {
        it->second.labels = labels;
        it->second.gauge = std::make_unique<Gauge>();
    } else if (!it->second.gauge) {
        throw std::logic_error("metric '" + std::string(name) + "' series is a callback gauge (gauge_fn)");
    }
    return *it->second.gauge;
}

void MetricsRegistry::gauge_fn(std::string_view name, std::string_view help, const Labels& labels,
                               std::function<double()> read) {
    if (!read) throw std::invalid_argument("metrics: gauge_fn needs a callback");
    auto key = identity_key(labels, false);
    std::lock_guard lock(mutex_);
    Family& f = family(name, help, static_cast<int>(Kind::Gauge));
    auto [it, inserted] = f.series.try_emplace(std::move(key));
    if (inserted) {
        it->second.labels = labels;
    } else if (it->second.gauge) {
        throw std::logic_error("metric '" + std::string(name) + "' series is a settable gauge");
    }
    // Re-registering replaces the callback: a re-created pool must not leave a dangling reader.
    it->second.read = std::move(read);
}

Timer& MetricsRegistry::timer(std::string_view name, std::string_view help, const Labels& labels,
                              const std::vector<double>& buckets) {
    auto key = identity_key(labels, true);
    auto bounds = normalize_bounds(buckets);
    std::lock_guard lock(mutex_);
    Family& f = family(name, help, static_cast<int>(Kind::Timer));
    if (f.series.empty()) {
        f.buckets = bounds;
    } else if (f.buckets != bounds) {
        // histogram_quantile() aggregates across series by `le`; mixed bucket layouts would skew it.
        throw std::logic_error("timer '" + std::string(name) + "' already registered with other buckets");
    }
    auto [it, inserted] = f.series.try_emplace(std::move(key));
    if (inserted) {
        it->second.labels = labels;
        it->second.timer = std::make_unique<Timer>(f.buckets);
    }
    return *it->second.timer;
}

std::string MetricsRegistry::render_prometheus() const {
    std::vector<FamilyView> views;
    {
        std::lock_guard lock(mutex_);
        views.reserve(families_.size());
        for (const auto& [_, f] : families_) {
            FamilyView v{f->name, f->help, f->prom, f->kind, {}};
            v.series.reserve(f->series.size());
            for (const auto& [__, s] : f->series) v.series.push_back(f->view(s));
            views.push_back(std::move(v));
        }
    }

    // Keyed by exposition name so output is sorted the way a reader of /actuator/prometheus sees it.
    std::map<std::string, std::string> blocks;
    for (const auto& f : views) {
        if (f.kind != Kind::Timer) {
            std::string& out = blocks[f.prom];
            append_header(out, f.prom, f.help, f.kind == Kind::Counter ? "counter" : "gauge");
            for (const auto& s : f.series) append_sample(out, f.prom, label_block(s.labels), s.scalar());
            continue;
        }
        std::string& hist = blocks[f.prom];
        append_header(hist, f.prom, f.help, "histogram");
        const std::string bucket_name = f.prom + "_bucket";
        const std::string count_name = f.prom + "_count";
        const std::string sum_name = f.prom + "_sum";
        const std::string max_name = f.prom + "_max";
        std::string& maxes = blocks[max_name];
        append_header(maxes, max_name, f.help, "gauge");
        for (const auto& s : f.series) {
            const Timer& t = *s.timer;
            auto cumulative = t.cumulative_buckets();
            const auto& bounds = t.bounds();
            for (std::size_t i = 0; i < cumulative.size(); ++i) {
                std::string le = i < bounds.size() ? format_number(bounds[i]) : "+Inf";
                append_sample(hist, bucket_name, label_block(s.labels, le),
                              static_cast<double>(cumulative[i]));
            }
            std::string labels = label_block(s.labels);
            // _count comes from the same bucket snapshot so it always equals the +Inf bucket, as
            // the format requires, even while other threads are recording.
            append_sample(hist, count_name, labels, static_cast<double>(cumulative.back()));
            append_sample(hist, sum_name, labels, t.sum());
            append_sample(maxes, max_name, labels, t.max());
        }
    }

    std::string out;
    for (const auto& [_, text] : blocks) out += text;
    return out;
}

boost::json::object MetricsRegistry::actuator_names() const {
    boost::json::array names;
    {
        std::lock_guard lock(mutex_);
        names.reserve(families_.size());
        for (const auto& [name, _] : families_) names.emplace_back(name);
    }
    boost::json::object out;
    out["names"] = std::move(names);
    return out;
}

std::optional<boost::json::object> MetricsRegistry::actuator_metric(
    std::string_view name, const std::vector<std::pair<std::string, std::string>>& tag_filters) const {
    FamilyView f;
    {
        std::lock_guard lock(mutex_);
        auto it = families_.find(name);
        if (it == families_.end()) return std::nullopt;
        const Family& fam = *it->second;
        f = FamilyView{fam.name, fam.help, fam.prom, fam.kind, {}};
        for (const auto& [_, s] : fam.series)
            if (matches(s.labels, tag_filters)) f.series.push_back(fam.view(s));
    }
    if (f.series.empty()) return std::nullopt;

    boost::json::array measurements;
    auto measure = [&](std::string_view statistic, double v) {
        boost::json::object m;
        m["statistic"] = statistic;
        m["value"] = json_number(v);
        measurements.push_back(std::move(m));
    };
    switch (f.kind) {
        case Kind::Counter:
        case Kind::Gauge: {
            double total = 0;
            for (const auto& s : f.series) total += s.scalar();
            measure(f.kind == Kind::Counter ? "COUNT" : "VALUE", total);
            break;
        }
        case Kind::Timer: {
            double count = 0, total_time = 0, max = 0;
            for (const auto& s : f.series) {
                count += static_cast<double>(s.timer->count());
                total_time += s.timer->sum();
                max = std::max(max, s.timer->max());
            }
            measure("COUNT", count);
            measure("TOTAL_TIME", total_time);
            measure("MAX", max);
            break;
        }
    }

    std::map<std::string, std::set<std::string>> tags;
    for (const auto& s : f.series)
        for (const auto& [k, v] : s.labels) {
            bool filtered = std::any_of(tag_filters.begin(), tag_filters.end(),
                                        [&](const auto& flt) { return flt.first == k; });
            if (!filtered) tags[k].insert(v);
        }
    boost::json::array available;
    for (const auto& [tag, values] : tags) {
        boost::json::array vals;
        for (const auto& v : values) vals.emplace_back(v);
        boost::json::object t;
        t["tag"] = tag;
        t["values"] = std::move(vals);
        available.push_back(std::move(t));
    }

    boost::json::object out;
    out["name"] = f.name;
    out["description"] = f.help.empty() ? boost::json::value(nullptr) : boost::json::value(f.help);
    out["baseUnit"] = f.kind == Kind::Timer ? boost::json::value("seconds") : boost::json::value(nullptr);
    out["measurements"] = std::move(measurements);
    out["availableTags"] = std::move(available);
    return out;
}

}  // namespace ec::ops
