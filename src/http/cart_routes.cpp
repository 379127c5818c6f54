#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/add_cart_item.hpp"
#include "app/get_cart.hpp"
#include "app/update_cart_item.hpp"
#include "http/json_codec.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/routes.hpp"

namespace ec::http {

namespace bj = boost::json;
using boost::asio::awaitable;

namespace {
bj::object line_json(const domain::CartLine& line) {
    return bj::object{{"productId", line.product_id}, {"name", line.name},
                      {"unitPrice", line.unit_price}, {"quantity", line.quantity},
                      {"subtotal", line.subtotal()},  {"stockAvailable", line.stock_available()}};
}

bj::object cart_json(const domain::Cart& cart) {
    bj::array items;
    for (const auto& line : cart.lines) items.push_back(line_json(line));
    return bj::object{{"userId", cart.user_id}, {"items", std::move(items)}, {"totalAmount", cart.total()}};
}
}  // namespace

void register_cart_routes(Router& router, app::AddCartItem& add, app::GetCart& get,
                          app::UpdateCartItem& update) {
    router.add(bhttp::verb::post, "/api/cart/items", [&add](RequestContext& ctx) -> awaitable<Response> {
        const auto& body = ctx.json_body();
        const auto user_id = json::required_int64(body, "userId");
        const auto product_id = json::required_int64(body, "productId");
        const auto quantity = json::required_int64(body, "quantity");
        const auto cart = co_await add.execute(user_id, product_id, quantity);
        co_return json_response(bhttp::status::created, cart_json(cart));
    });

    router.add(bhttp::verb::get, "/api/cart", [&get](RequestContext& ctx) -> awaitable<Response> {
        const auto cart = co_await get.execute(ctx.required_query_int("userId"));
        co_return json_response(bhttp::status::ok, cart_json(cart));
    });

    router.add(bhttp::verb::put, "/api/cart/items", [&update](RequestContext& ctx) -> awaitable<Response> {
        const auto& body = ctx.json_body();
        const auto user_id = json::required_int64(body, "userId");
        const auto product_id = json::required_int64(body, "productId");
        const auto quantity = json::required_int64(body, "quantity");
        const auto line = co_await update.set_quantity(user_id, product_id, quantity);
        co_return json_response(bhttp::status::ok, line_json(line));
    });

    router.add(bhttp::verb::delete_, "/api/cart/items",
               [&update](RequestContext& ctx) -> awaitable<Response> {
                   const auto& body = ctx.json_body();
                   const auto user_id = json::required_int64(body, "userId");
                   const auto product_id = json::required_int64(body, "productId");
                   co_await update.remove(user_id, product_id);
                   Response res{bhttp::status::ok, 11};
                   res.prepare_payload();
                   co_return res;
               });
}

}  // namespace ec::http
