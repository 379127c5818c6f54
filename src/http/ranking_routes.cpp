#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "app/get_ranking.hpp"
#include "http/json_writer.hpp"
#include "http/request_context.hpp"
#include "http/responses.hpp"
#include "http/routes.hpp"

namespace ec::http {

namespace bj = boost::json;
using boost::asio::awaitable;

namespace {
std::optional<domain::BusinessDate> date_param(const RequestContext& ctx) {
    const auto text = ctx.query("date");
    if (!text || text->empty()) return std::nullopt;
    return domain::require_business_date(*text, "date");
}

// The hottest read of the service: written straight to text (see JsonWriter).
std::string top_body(const app::RankingAnswer& answer) {
    JsonWriter w(64 + answer.rankings->size() * 96);
    w.begin_object().key("date").value(answer.date.iso()).key("rankings").begin_array();
    for (const auto& r : *answer.rankings) {
        w.begin_object()
            .key("rank")
            .value(r.rank)
            .key("productId")
            .value(r.product_id)
            .key("productName")
            .value(r.product_name)
            .key("salesCount")
            .value(r.sales_count)
            .end_object();
    }
    w.end_array().key("source").value(domain::source_name(answer.source)).end_object();
    return w.take();
}

// The body this thread wrote last, with the answer it was written from. A cached ranking is one
// shared, immutable list until it expires, so its body is written once per thread and refresh
// instead of once per request. Holding the list keeps its address from being reused by another.
struct LastTopBody {
    app::RankedList list;
    domain::BusinessDate date;
    domain::RankingSource source = domain::RankingSource::None;
    std::string body;
};

std::string top_body_reusing_last(const app::RankingAnswer& answer) {
    thread_local LastTopBody last;
    if (last.list != answer.rankings || last.date != answer.date || last.source != answer.source) {
        last = LastTopBody{answer.rankings, answer.date, answer.source, top_body(answer)};
    }
    return last.body;
}
}  // namespace

void register_ranking_routes(Router& router, app::GetRanking& ranking) {
    router.add(bhttp::verb::get, "/api/products/ranking/top",
               [&ranking](RequestContext& ctx) -> awaitable<Response> {
                   const auto date = date_param(ctx);
                   const int limit = domain::ranking_limit(ctx.query_int("limit"));
                   const auto answer = co_await ranking.top(date, limit);
                   co_return json_response(bhttp::status::ok, top_body_reusing_last(answer));
               });

    router.add(bhttp::verb::get, "/api/products/ranking/product/{productId}",
               [&ranking](RequestContext& ctx) -> awaitable<Response> {
                   const auto product_id = ctx.path_id("productId");
                   const auto date = date_param(ctx);
                   const auto answer = co_await ranking.product(product_id, date);
                   co_return json_response(bhttp::status::ok,
                                           bj::object{{"productId", answer.product_id},
                                                      {"date", answer.date.iso()},
                                                      {"rank", answer.rank},
                                                      {"salesCount", answer.sales_count},
                                                      {"source", domain::source_name(answer.source)}});
               });
}

}  // namespace ec::http
