#include "ops/health.hpp"

namespace ec::ops {

void Health::add(std::string name, Check check, bool for_readiness) {
    entries_.push_back(Entry{std::move(name), std::move(check), for_readiness});
}

boost::asio::awaitable<boost::json::object> Health::check(bool readiness_only) const {
    boost::json::object components;
    bool up = true;
    for (const auto& e : entries_) {
        if (readiness_only && !e.readiness) continue;
        boost::json::object result;
        try {
            result = co_await e.check();
        } catch (const std::exception& ex) {
            result = {{"status", "DOWN"}, {"details", {{"error", ex.what()}}}};
        }
        if (result["status"] != "UP") up = false;
        components[e.name] = std::move(result);
    }
    co_return boost::json::object{{"status", up ? "UP" : "DOWN"}, {"components", std::move(components)}};
}

}  // namespace ec::ops
