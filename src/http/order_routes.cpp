#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/complete_order.hpp"
#include "app/create_order.hpp"
#include "app/get_orders.hpp"
#include "app/pay_order.hpp"
#include "http/json_codec.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/routes.hpp"

namespace ec::http {

namespace bj = boost::json;
using boost::asio::awaitable;

namespace {

bj::object order_json(const domain::Order& o) {
    bj::array items;
    for (const auto& i : o.items) {
        items.push_back(bj::object{{"productId", i.product_id},
                                   {"productName", i.product_name},
                                   {"quantity", i.quantity},
                                   {"unitPrice", i.unit_price},
                                   {"subtotal", i.subtotal}});
    }
    return bj::object{{"orderId", o.id},
                      {"userId", o.user_id},
                      {"orderNumber", o.order_number},
                      {"items", std::move(items)},
                      {"subtotalAmount", o.subtotal_amount},
                      {"discountAmount", o.discount_amount},
                      {"totalAmount", o.total_amount},
                      {"status", domain::to_string(o.status)},
                      {"createdAt", json::local_datetime(o.created_at_us)}};
}

bj::object payment_json(const domain::PaymentReceipt& p) {
    return bj::object{{"orderId", p.order_id},
                      {"paidAmount", p.paid_amount},
                      {"remainingBalance", p.remaining_balance},
                      {"status", "SUCCESS"},
                      {"dataTransmission", p.data_transmission},
                      {"paidAt", json::local_datetime(p.paid_at_us)}};
}

// {userId, items:[{productId, quantity}], couponId?} plus the key, required or not.
app::CreateOrderRequest order_request(const bj::object& body, bool key_required) {
    app::CreateOrderRequest req;
    req.user_id = json::required_int64(body, "userId");
    for (const auto* item : json::required_object_array(body, "items")) {
        req.lines.push_back(domain::OrderLineRequest{json::required_int64(*item, "productId"),
                                                     json::required_int64(*item, "quantity")});
    }
    req.coupon_id = json::optional_int64(body, "couponId");
    req.idempotency_key = key_required ? json::required_string(body, "idempotencyKey")
                                       : json::optional_string(body, "idempotencyKey").value_or("");
    return req;
}

}  // namespace

void register_order_routes(Router& router, const OrderUseCases& uc) {
    router.add(bhttp::verb::post, "/api/orders", [&uc](RequestContext& ctx) -> awaitable<Response> {
        auto request = order_request(ctx.json_body(), true);
        const auto order = co_await uc.create.execute(std::move(request));
        co_return json_response(bhttp::status::created, order_json(order));
    });

    router.add(bhttp::verb::get, "/api/orders", [&uc](RequestContext& ctx) -> awaitable<Response> {
        const auto user_id = ctx.required_query_int("userId");
        const auto orders = co_await uc.get.of_user(user_id, ctx.query("status").value_or(""));
        bj::array list;
        for (const auto& o : orders) list.push_back(order_json(o));
        const auto count = static_cast<std::int64_t>(list.size());
        co_return json_response(bhttp::status::ok,
                                bj::object{{"orders", std::move(list)}, {"totalCount", count}});
    });

    router.add(bhttp::verb::get, "/api/orders/{orderId}", [&uc](RequestContext& ctx) -> awaitable<Response> {
        const auto order = co_await uc.get.one(ctx.path_id("orderId"));
        co_return json_response(bhttp::status::ok, order_json(order));
    });

    router.add(bhttp::verb::post, "/api/orders/{orderId}/payment",
               [&uc](RequestContext& ctx) -> awaitable<Response> {
                   const auto order_id = ctx.path_id("orderId");
                   const auto& body = ctx.json_body();
                   const auto user_id = json::required_int64(body, "userId");
                   const auto key = json::required_string(body, "idempotencyKey");
                   const auto receipt = co_await uc.pay.execute(order_id, user_id, key);
                   co_return json_response(bhttp::status::ok, payment_json(receipt));
               });

    router.add(bhttp::verb::post, "/api/orders/complete", [&uc](RequestContext& ctx) -> awaitable<Response> {
        auto request = order_request(ctx.json_body(), false);
        const auto done = co_await uc.complete.execute(std::move(request));
        co_return json_response(bhttp::status::created, bj::object{{"order", order_json(done.order)},
                                                                   {"payment", payment_json(done.payment)}});
    });
}

}  // namespace ec::http
