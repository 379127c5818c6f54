#include <boost/json/object.hpp>

#include "domain/error.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/routes.hpp"
#include "ops/health.hpp"
#include "ops/metrics.hpp"

namespace ec::http {

using boost::asio::awaitable;

void register_actuator_routes(Router& router, ops::MetricsRegistry& metrics, ops::Health& health) {
    auto health_response = [](const boost::json::object& body) {
        const bool up = body.at("status") == "UP";
        return json_response(up ? bhttp::status::ok : bhttp::status::service_unavailable, body);
    };
    router.add(bhttp::verb::get, "/actuator/health",
               [&health, health_response](RequestContext&) -> awaitable<Response> {
                   co_return health_response(co_await health.check(false));
               });
    router.add(bhttp::verb::get, "/actuator/health/liveness", [](RequestContext&) -> awaitable<Response> {
        // Alive means the loop answers; dependencies do not decide liveness (a restart won't fix them).
        co_return json_response(bhttp::status::ok, boost::json::object{{"status", "UP"}});
    });
    router.add(bhttp::verb::get, "/actuator/health/readiness",
               [&health, health_response](RequestContext&) -> awaitable<Response> {
                   co_return health_response(co_await health.check(true));
               });
    router.add(bhttp::verb::get, "/actuator/metrics", [&metrics](RequestContext&) -> awaitable<Response> {
        co_return json_response(bhttp::status::ok, metrics.actuator_names());
    });
    router.add(
        bhttp::verb::get, "/actuator/metrics/{name:string}",
        [&metrics](RequestContext& ctx) -> awaitable<Response> {
            std::vector<std::pair<std::string, std::string>> filters;
            // ?tag=k:v may repeat; RequestContext::query returns the first, so walk the raw query.
            std::string_view q = ctx.request().target();
            if (auto p = q.find('?'); p != std::string_view::npos) {
                q.remove_prefix(p + 1);
                while (!q.empty()) {
                    const auto amp = q.find('&');
                    const auto pair = q.substr(0, amp);
                    if (pair.starts_with("tag=")) {
                        const auto kv = pair.substr(4);
                        const auto colon = kv.find(':');
                        if (colon == std::string_view::npos) {
                            throw domain::DomainError(domain::ErrorCode::InvalidInput,
                                                      "Query parameter 'tag' must look like name:value");
                        }
                        filters.emplace_back(std::string(kv.substr(0, colon)),
                                             std::string(kv.substr(colon + 1)));
                    }
                    if (amp == std::string_view::npos) break;
                    q.remove_prefix(amp + 1);
                }
            }
            const auto name = std::string(ctx.path_string("name"));
            auto body = metrics.actuator_metric(name, filters);
            if (!body) {
                co_return error_response(domain::ErrorCode::RouteNotFound, "No metric named '" + name + "'");
            }
            co_return json_response(bhttp::status::ok, *body);
        });
    router.add(bhttp::verb::get, "/actuator/prometheus", [&metrics](RequestContext&) -> awaitable<Response> {
        Response res{bhttp::status::ok, 11};
        res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = metrics.render_prometheus();
        res.prepare_payload();
        co_return res;
    });
}

}  // namespace ec::http
