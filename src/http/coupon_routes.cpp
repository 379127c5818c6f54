#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/get_coupons.hpp"
#include "app/get_reservation_status.hpp"
#include "app/issue_coupon.hpp"
#include "app/reserve_coupon.hpp"
#include "http/json_codec.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/routes.hpp"

namespace ec::http {

namespace bj = boost::json;
using boost::asio::awaitable;

void register_coupon_routes(Router& router, const CouponUseCases& coupons) {
    auto& issue = coupons.issue;
    auto& get = coupons.get;
    auto& reserve = coupons.reserve;
    auto& reservation_status = coupons.reservation_status;
    router.add(bhttp::verb::post, "/api/coupons/{couponId}/issue",
               [&issue](RequestContext& ctx) -> awaitable<Response> {
                   const auto coupon_id = ctx.path_id("couponId");
                   const auto user_id = json::required_int64(ctx.json_body(), "userId");
                   const auto issued = co_await issue.execute(coupon_id, user_id);
                   const auto& uc = issued.user_coupon;
                   co_return json_response(bhttp::status::ok,
                                           bj::object{{"userCouponId", uc.id},
                                                      {"couponId", uc.coupon_id},
                                                      {"couponName", uc.coupon_name},
                                                      {"discountRate", uc.discount_rate},
                                                      {"status", domain::to_string(uc.status)},
                                                      {"issuedAt", json::local_datetime(uc.issued_at_us)},
                                                      {"expiresAt", json::local_datetime(uc.expires_at_us)},
                                                      {"remainingQuantity", issued.remaining}});
               });

    router.add(bhttp::verb::post, "/api/coupons/{couponId}/reserve",
               [&reserve](RequestContext& ctx) -> awaitable<Response> {
                   const auto coupon_id = ctx.path_id("couponId");
                   const auto user_id = json::required_int64(ctx.json_body(), "userId");
                   const auto r = co_await reserve.execute(coupon_id, user_id);
                   co_return json_response(bhttp::status::ok,
                                           bj::object{{"couponId", r.coupon_id},
                                                      {"userId", r.user_id},
                                                      {"sequenceNumber", r.sequence},
                                                      {"status", "RESERVED"},
                                                      {"message", "Coupon reservation completed. (#" +
                                                                      std::to_string(r.sequence) + ")"}});
               });

    router.add(bhttp::verb::get, "/api/coupons/{couponId}/reservations/{userId}",
               [&reservation_status](RequestContext& ctx) -> awaitable<Response> {
                   const auto coupon_id = ctx.path_id("couponId");
                   const auto user_id = ctx.path_id("userId");
                   const auto status = co_await reservation_status.execute(coupon_id, user_id);
                   co_return json_response(bhttp::status::ok,
                                           bj::object{{"couponId", coupon_id},
                                                      {"userId", user_id},
                                                      {"status", domain::to_string(status)}});
               });

    router.add(bhttp::verb::get, "/api/coupons/{couponId}",
               [&get](RequestContext& ctx) -> awaitable<Response> {
                   const auto c = co_await get.one(ctx.path_id("couponId"));
                   co_return json_response(bhttp::status::ok,
                                           bj::object{{"couponId", c.id},
                                                      {"name", c.name},
                                                      {"discountRate", c.discount_rate},
                                                      {"totalQuantity", c.total_quantity},
                                                      {"issuedQuantity", c.issued_quantity},
                                                      {"remainingQuantity", c.remaining()},
                                                      {"startDate", json::local_datetime(c.start_at_us)},
                                                      {"endDate", json::local_datetime(c.end_at_us)}});
               });

    router.add(
        bhttp::verb::get, "/api/users/{userId}/coupons", [&get](RequestContext& ctx) -> awaitable<Response> {
            const auto user_id = ctx.path_id("userId");
            const auto coupons = co_await get.of_user(user_id, ctx.query("status").value_or(""));
            bj::array list;
            for (const auto& uc : coupons) {
                bj::object o{{"userCouponId", uc.id},
                             {"couponId", uc.coupon_id},
                             {"couponName", uc.coupon_name},
                             {"discountRate", uc.discount_rate},
                             {"status", domain::to_string(uc.status)},
                             {"issuedAt", json::local_datetime(uc.issued_at_us)}};
                o["usedAt"] =
                    uc.used_at_us ? bj::value(json::local_datetime(*uc.used_at_us)) : bj::value(nullptr);
                o["expiresAt"] = json::local_datetime(uc.expires_at_us);
                list.push_back(std::move(o));
            }
            const auto count = static_cast<std::int64_t>(list.size());
            co_return json_response(
                bhttp::status::ok,
                bj::object{{"userId", user_id}, {"coupons", std::move(list)}, {"totalCount", count}});
        });
}

}  // namespace ec::http
