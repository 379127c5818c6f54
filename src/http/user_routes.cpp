#include <boost/json/object.hpp>

#include "app/charge_balance.hpp"
#include "app/get_user.hpp"
#include "http/json_codec.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/routes.hpp"

namespace ec::http {

namespace bj = boost::json;
using boost::asio::awaitable;

void register_user_routes(Router& router, app::GetUser& get_user, app::ChargeBalance& charge_balance) {
    router.add(bhttp::verb::get, "/api/users/{userId}",
               [&get_user](RequestContext& ctx) -> awaitable<Response> {
                   const auto user = co_await get_user.execute(ctx.path_id("userId"));
                   co_return json_response(bhttp::status::ok, bj::object{{"userId", user.id},
                                                                         {"username", user.username},
                                                                         {"email", user.email},
                                                                         {"balance", user.balance}});
               });

    router.add(bhttp::verb::get, "/api/users/{userId}/balance",
               [&get_user](RequestContext& ctx) -> awaitable<Response> {
                   const auto user = co_await get_user.execute(ctx.path_id("userId"));
                   co_return json_response(bhttp::status::ok,
                                           bj::object{{"userId", user.id}, {"balance", user.balance}});
               });

    router.add(bhttp::verb::post, "/api/users/{userId}/balance/charge",
               [&charge_balance](RequestContext& ctx) -> awaitable<Response> {
                   const auto user_id = ctx.path_id("userId");
                   const auto& body = ctx.json_body();
                   const auto amount = json::required_int64(body, "amount");
                   const auto key = json::required_string(body, "idempotencyKey");
                   const auto receipt = co_await charge_balance.execute(user_id, amount, key);
                   co_return json_response(
                       bhttp::status::ok,
                       bj::object{{"userId", receipt.user_id},
                                  {"balance", receipt.balance},
                                  {"chargedAmount", receipt.charged_amount},
                                  {"chargedAt", json::local_datetime(receipt.charged_at_us)}});
               });
}

}  // namespace ec::http
