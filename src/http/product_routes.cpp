#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/get_products.hpp"
#include "app/get_top_products.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/routes.hpp"

namespace ec::http {

namespace bj = boost::json;
using boost::asio::awaitable;

namespace {
bj::object product_json(const domain::Product& p) {
    bj::object o{{"productId", p.id}, {"name", p.name}};
    o["description"] = p.description ? bj::value(*p.description) : bj::value(nullptr);
    o["price"] = p.price;
    o["stock"] = p.stock;
    o["category"] = p.category ? bj::value(*p.category) : bj::value(nullptr);
    return o;
}
}  // namespace

void register_product_routes(Router& router, app::GetProducts& get_products, app::GetTopProducts& get_top) {
    router.add(bhttp::verb::get, "/api/products",
               [&get_products](RequestContext& ctx) -> awaitable<Response> {
                   const auto products = co_await get_products.list(ctx.query("category").value_or(""),
                                                                    ctx.query("sort").value_or(""));
                   bj::array list;
                   list.reserve(products.size());
                   for (const auto& p : products) list.push_back(product_json(p));
                   const auto count = static_cast<std::int64_t>(list.size());
                   co_return json_response(bhttp::status::ok,
                                           bj::object{{"products", std::move(list)}, {"totalCount", count}});
               });

    router.add(bhttp::verb::get, "/api/products/top", [&get_top](RequestContext&) -> awaitable<Response> {
        const auto top = co_await get_top.execute();
        bj::array list;
        for (const auto& t : top) {
            list.push_back(bj::object{{"rank", t.rank},
                                      {"productId", t.product_id},
                                      {"name", t.name},
                                      {"salesCount", t.sales_count},
                                      {"revenue", t.revenue}});
        }
        co_return json_response(bhttp::status::ok,
                                bj::object{{"period", "3days"}, {"products", std::move(list)}});
    });

    router.add(bhttp::verb::get, "/api/products/{productId}",
               [&get_products](RequestContext& ctx) -> awaitable<Response> {
                   const auto product = co_await get_products.one(ctx.path_id("productId"));
                   co_return json_response(bhttp::status::ok, product_json(product));
               });
}

}  // namespace ec::http
