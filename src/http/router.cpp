#include "http/router.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <stdexcept>

namespace ec::http {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const auto next = path.find('/', pos);
        const auto end = next == std::string_view::npos ? path.size() : next;
        if (end > pos) out.push_back(path.substr(pos, end - pos));
        if (next == std::string_view::npos) break;
        pos = next + 1;
    }
    return out;
}

void Router::add(bhttp::verb method, std::string_view pattern, Handler handler) {
    Route r;
    r.method = method;
    r.pattern = std::string(pattern);
    r.handler = std::move(handler);
    r.index = static_cast<int>(routes_.size());
    for (auto seg : split_path(pattern)) {
        Route::Segment s;
        if (seg.front() == '{') {
            if (seg.back() != '}' || seg.size() < 3)
                throw std::invalid_argument("bad route pattern: " + r.pattern);
            auto inner = seg.substr(1, seg.size() - 2);
            const auto colon = inner.find(':');
            s.param = std::string(inner.substr(0, colon));
            if (colon != std::string_view::npos) {
                const auto type = inner.substr(colon + 1);
                if (type == "string") {
                    s.is_int = false;
                } else if (type != "long") {
                    throw std::invalid_argument("unknown parameter type in route: " + r.pattern);
                }
            }
        } else {
            s.literal = std::string(seg);
        }
        r.segments.push_back(std::move(s));
    }
    for (const auto& existing : routes_) {
        if (existing.method == method && existing.pattern == r.pattern) {
            throw std::invalid_argument("duplicate route: " + r.pattern);
        }
    }
    routes_.push_back(std::move(r));
}

namespace {
// Higher is more specific: a literal in an earlier position outranks anything later.
std::uint64_t specificity(const Route& r) {
    std::uint64_t score = 0;
    for (const auto& s : r.segments) score = score * 2 + (s.literal.empty() ? 0 : 1);
    return score;
}

// Same literals at the same positions: "/things/{id}" and "/things/{thingId}" are one resource.
bool same_shape(const Route& a, const Route& b) {
    if (a.segments.size() != b.segments.size()) return false;
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
        if (a.segments[i].literal != b.segments[i].literal) return false;
    }
    return true;
}

bool structurally_matches(const Route& r, const std::vector<std::string_view>& segs) {
    if (r.segments.size() != segs.size()) return false;
    for (std::size_t i = 0; i < segs.size(); ++i) {
        if (!r.segments[i].literal.empty() && r.segments[i].literal != segs[i]) return false;
    }
    return true;
}
}  // namespace

RouteMatch Router::match(bhttp::verb method, std::string_view path) const {
    RouteMatch m;
    const auto segs = split_path(path);
    const Route* best = nullptr;
    std::uint64_t best_score = 0;
    for (const auto& r : routes_) {
        if (!structurally_matches(r, segs)) continue;
        const auto score = specificity(r);
        if (best == nullptr || score > best_score) {
            best = &r;
            best_score = score;
        }
    }
    if (best == nullptr) return m;

    const Route* chosen = nullptr;
    std::vector<std::string> allowed;
    for (const auto& r : routes_) {
        if (!same_shape(r, *best)) continue;
        allowed.emplace_back(bhttp::to_string(r.method));
        if (r.method == method) chosen = &r;
    }
    if (chosen == nullptr) {
        m.kind = RouteMatch::Kind::MethodNotAllowed;
        std::sort(allowed.begin(), allowed.end());
        for (const auto& a : allowed) m.allow += (m.allow.empty() ? "" : ", ") + a;
        m.route = best;
        return m;
    }
    m.route = chosen;
    for (std::size_t i = 0; i < segs.size(); ++i) {
        const auto& s = chosen->segments[i];
        if (s.literal.empty()) {
            if (s.is_int) {
                std::int64_t v = 0;
                const auto [p, ec] = std::from_chars(segs[i].data(), segs[i].data() + segs[i].size(), v);
                if (ec != std::errc() || p != segs[i].data() + segs[i].size()) {
                    m.kind = RouteMatch::Kind::BadParameter;
                    m.error = "Invalid path variable '" + s.param + "': '" + std::string(segs[i]) +
                              "' is not a valid integer";
                    return m;
                }
            }
            m.params.push_back(segs[i]);
        }
    }
    m.kind = RouteMatch::Kind::Found;
    return m;
}

}  // namespace ec::http
