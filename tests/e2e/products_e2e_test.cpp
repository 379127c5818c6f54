// Product catalogue endpoints (SPEC §4.2; commerce contract "Products") over real HTTP against the
// real binary: list filters and sorts, detail, errors, cache freshness and the top products of the
// last three business days. Users 5000-5019 belong to this file; every product is inserted here
// with a unique code (and, for the list tests, a unique category).
#include <algorithm>
#include <limits>

#include "e2e/commerce_support.hpp"

namespace ec::e2e {
namespace {

class ProductsE2E : public ServerSuite<ProductsE2E> {};

std::vector<std::int64_t> ids_of(const bj::value& list) {
    std::vector<std::int64_t> out;
    for (const auto& p : list.at("products").as_array()) out.push_back(as_i64(p.at("productId")));
    return out;
}

// GET /api/products?category=..&sort=.. polled until it lists `expected` products (SQL inserts
// show up within products.cache-ttl).
HttpResponse list_products(HttpClient& client, const std::string& query, std::size_t expected) {
    return poll_until([&] { return client.get("/api/products" + query); },
                      [&](const HttpResponse& r) {
                          if (r.status != 200) return false;
                          const auto v = r.json();
                          return v.is_object() && v.as_object().contains("products") &&
                                 v.at("products").is_array() &&
                                 v.at("products").as_array().size() == expected;
                      });
}

struct Catalogue {
    std::string category;
    std::int64_t cheap_new = 0;  // price 100, created 1 h ago
    std::int64_t dear_old = 0;   // price 300, created 3 h ago
    std::int64_t dear_mid = 0;   // price 300, created 2 h ago (inserted after dear_old: larger id)
};

Catalogue make_catalogue(CommercePg& pg) {
    Catalogue c;
    c.category = unique_code("cat");
    CommercePg::ProductSpec p;
    p.category = c.category;
    p.price = 300;
    p.stock = 7;
    p.created_at = "now() - interval '3 hours'";
    c.dear_old = pg.insert_product(p);
    p.price = 100;
    p.stock = 8;
    p.created_at = "now() - interval '1 hour'";
    c.cheap_new = pg.insert_product(p);
    p.price = 300;
    p.stock = 9;
    p.created_at = "now() - interval '2 hours'";
    c.dear_mid = pg.insert_product(p);
    return c;
}

TEST_F(ProductsE2E, ListFiltersByCategoryWithExactShape) {
    CommercePg pg;
    HttpClient client(port());
    const auto c = make_catalogue(pg);

    const auto r = list_products(client, "?category=" + c.category, 3);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_keys(v, {"products", "totalCount"}));
    ASSERT_TRUE(v.at("products").is_array()) << r.body;
    ASSERT_TRUE(is_integer(v.at("totalCount"))) << r.body;
    EXPECT_EQ(as_i64(v.at("totalCount")), 3) << r.body;
    ASSERT_EQ(v.at("products").as_array().size(), 3u) << r.body;
    for (const auto& p : v.at("products").as_array()) {
        ASSERT_TRUE(expect_product_shape(p));
        EXPECT_EQ(str(p.at("category")), c.category);
        EXPECT_EQ(str(p.at("description")), "e2e product");
        const std::string id = std::to_string(as_i64(p.at("productId")));
        EXPECT_EQ(str(p.at("name")), pg.exec("SELECT name FROM products WHERE id = $1", {id}));
        EXPECT_EQ(as_i64(p.at("price")), pg.int64("SELECT price FROM products WHERE id = $1", {id}));
        EXPECT_EQ(as_i64(p.at("stock")), pg.int64("SELECT stock FROM products WHERE id = $1", {id}));
    }
    // No sort: by productId ascending.
    EXPECT_EQ(ids_of(v), (std::vector<std::int64_t>{c.dear_old, c.cheap_new, c.dear_mid})) << r.body;
}

TEST_F(ProductsE2E, ListSortsByPriceAndNewest) {
    CommercePg pg;
    HttpClient client(port());
    const auto c = make_catalogue(pg);
    const std::string cat = "?category=" + c.category;

    // Ascending price, ties by productId.
    for (const std::string sort : {"price", "price_asc"}) {
        SCOPED_TRACE("sort=" + sort);
        const auto r = list_products(client, cat + "&sort=" + sort, 3);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(ids_of(r.json()), (std::vector<std::int64_t>{c.cheap_new, c.dear_old, c.dear_mid}))
            << r.body;
    }
    {
        const auto r = list_products(client, cat + "&sort=price_desc", 3);
        ASSERT_EQ(r.status, 200) << r.body;
        const auto ids = ids_of(r.json());
        ASSERT_EQ(ids.size(), 3u);
        // The two 300s first (their mutual order is not specified), then the 100.
        EXPECT_EQ(ids[2], c.cheap_new) << r.body;
        EXPECT_TRUE((ids[0] == c.dear_old && ids[1] == c.dear_mid) ||
                    (ids[0] == c.dear_mid && ids[1] == c.dear_old))
            << r.body;
        EXPECT_EQ(as_i64(r.json().at("totalCount")), 3);
    }
    {
        const auto r = list_products(client, cat + "&sort=newest", 3);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(ids_of(r.json()), (std::vector<std::int64_t>{c.cheap_new, c.dear_mid, c.dear_old}))
            << r.body;
    }
    {
        // Empty sort = no sort: productId ascending.
        const auto r = list_products(client, cat + "&sort=", 3);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(ids_of(r.json()), (std::vector<std::int64_t>{c.dear_old, c.cheap_new, c.dear_mid}))
            << r.body;
    }
}

TEST_F(ProductsE2E, EmptyOrAbsentCategoryListsEveryProduct) {
    CommercePg pg;
    HttpClient client(port());
    CommercePg::ProductSpec spec;
    spec.category = std::nullopt;  // a product without category is listed too
    const std::int64_t uncategorised = pg.insert_product(spec);
    spec.category = unique_code("cat");
    const std::int64_t categorised = pg.insert_product(spec);

    for (const std::string query : {"", "?category=", "?category=&sort="}) {
        SCOPED_TRACE("query '" + query + "'");
        const auto r =
            poll_until([&] { return client.get("/api/products" + query); },
                       [&](const HttpResponse& resp) {
                           return resp.status == 200 &&
                                  find_by(resp.json().at("products"), "productId", categorised) != nullptr;
                       });
        ASSERT_EQ(r.status, 200) << r.body;
        const auto v = r.json();
        ASSERT_TRUE(expect_keys(v, {"products", "totalCount"}));
        const auto& products = v.at("products").as_array();
        EXPECT_EQ(as_i64(v.at("totalCount")), static_cast<std::int64_t>(products.size()));
        ASSERT_NE(find_by(v.at("products"), "productId", categorised), nullptr);
        const auto* none = find_by(v.at("products"), "productId", uncategorised);
        ASSERT_NE(none, nullptr);
        ASSERT_TRUE(expect_product_shape(*none));
        EXPECT_TRUE(none->at("category").is_null()) << bj::serialize(*none);
        // productId ascending.
        const auto ids = ids_of(v);
        EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    }
}

TEST_F(ProductsE2E, CategoryMatchIsExact) {
    CommercePg pg;
    HttpClient client(port());
    const auto c = make_catalogue(pg);
    ASSERT_EQ(list_products(client, "?category=" + c.category, 3).status, 200);

    std::string upper = c.category;
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (const auto& other : {upper, c.category.substr(0, c.category.size() - 1), c.category + "x"}) {
        SCOPED_TRACE("category " + other);
        const auto r = client.get("/api/products?category=" + other);
        ASSERT_EQ(r.status, 200) << r.body;
        EXPECT_EQ(as_i64(r.json().at("totalCount")), 0) << r.body;
        EXPECT_TRUE(r.json().at("products").as_array().empty()) << r.body;
    }
}

TEST_F(ProductsE2E, UnknownSortIs400) {
    CommercePg pg;
    HttpClient client(port());
    const auto c = make_catalogue(pg);
    for (const std::string sort : {"cheapest", "random", "price,desc", "name"}) {
        SCOPED_TRACE("sort=" + sort);
        expect_error(client.get("/api/products?sort=" + sort), 400, "COMMON002");
        expect_error(client.get("/api/products?category=" + c.category + "&sort=" + sort), 400, "COMMON002");
    }
}

TEST_F(ProductsE2E, GetProductReturnsTheProduct) {
    CommercePg pg;
    HttpClient client(port());
    CommercePg::ProductSpec spec;
    spec.name = "E2E detail " + unique_code("n");
    spec.price = 12'345;
    spec.stock = 67;
    spec.category = "e2e-detail";
    spec.description = std::nullopt;
    const std::int64_t id = pg.insert_product(spec);

    const auto r = await_product(client, id);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_product_shape(v));
    EXPECT_EQ(as_i64(v.at("productId")), id);
    EXPECT_EQ(str(v.at("name")), spec.name);
    EXPECT_TRUE(v.at("description").is_null()) << r.body;
    EXPECT_EQ(as_i64(v.at("price")), 12'345);
    EXPECT_EQ(as_i64(v.at("stock")), 67);
    EXPECT_EQ(str(v.at("category")), "e2e-detail");
}

TEST_F(ProductsE2E, DirectDatabaseChangesShowWithinTheCacheTtl) {
    CommercePg pg;
    HttpClient client(port());
    const std::int64_t id = pg.insert_product(500, 10);
    ASSERT_EQ(await_product(client, id).status, 200);

    pg.set_stock(id, 4);
    const auto r = poll_until(
        [&] { return client.get(product_path(id)); },
        [](const HttpResponse& resp) { return resp.status == 200 && as_i64(resp.json().at("stock")) == 4; });
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(as_i64(r.json().at("stock")), 4) << "a direct stock change was not visible within 2 s";
}

TEST_F(ProductsE2E, UnknownProductIs404AndBadIdIs400) {
    HttpClient client(port());
    const auto r = client.get(product_path(kUnknownId));
    expect_error(r, 404, "P001");
    EXPECT_NE(error_message(r).find(std::to_string(kUnknownId)), std::string::npos) << r.body;

    expect_error(client.get("/api/products/abc"), 400, "COMMON002");
    expect_error(client.get("/api/products/1.5"), 400, "COMMON002");
    expect_error(client.get("/api/products/99999999999999999999"), 400, "COMMON002");
}

// ------------------------------------------------------------------------------------------------
// GET /api/products/top

// Units sold per product in COMPLETED orders of (a superset of) the ranking window.
std::int64_t max_recent_units(CommercePg& pg) {
    return pg.int64(
        "SELECT coalesce(max(units), 0) FROM (SELECT sum(oi.quantity) AS units FROM order_items oi "
        "JOIN orders o ON o.id = oi.order_id WHERE o.status = 'COMPLETED' AND o.paid_at > now() - interval "
        "'7 days' "
        "GROUP BY oi.product_id) s");
}

void expect_top_shape(const bj::value& v) {
    ASSERT_TRUE(expect_keys(v, {"period", "products"}));
    EXPECT_EQ(str(v.at("period")), "3days");
    ASSERT_TRUE(v.at("products").is_array()) << bj::serialize(v);
    const auto& products = v.at("products").as_array();
    EXPECT_LE(products.size(), 5u) << bj::serialize(v);
    std::int64_t rank = 0;
    std::int64_t last_count = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_id = 0;
    for (const auto& p : products) {
        ASSERT_TRUE(expect_keys(p, {"rank", "productId", "name", "salesCount", "revenue"}));
        expect_integer_fields(p, {"rank", "productId", "salesCount", "revenue"});
        expect_string_fields(p, {"name"});
        EXPECT_EQ(as_i64(p.at("rank")), ++rank) << bj::serialize(v);
        const std::int64_t count = as_i64(p.at("salesCount"));
        const std::int64_t id = as_i64(p.at("productId"));
        // Units sold descending, ties by smaller productId.
        EXPECT_TRUE(count < last_count || (count == last_count && id > last_id)) << bj::serialize(v);
        last_count = count;
        last_id = id;
    }
}

TEST_F(ProductsE2E, TopProductsCountOnlyPaidOrders) {
    constexpr std::int64_t user = 5000;
    CommercePg pg;
    HttpClient client(port());

    // More units than any product sold recently, so this product must rank first (or tie first).
    const std::int64_t units = max_recent_units(pg) + 1;
    constexpr std::int64_t price = 3;
    CommercePg::ProductSpec spec;
    spec.name = "E2E top " + unique_code("t");
    spec.price = price;
    spec.stock = units;
    const std::int64_t product = pg.insert_product(spec);
    pg.set_balance(user, units * price + 1'000);

    const auto created = client.post(
        "/api/orders", order_body(user, {{product, units}}, std::nullopt, unique_key("top-order")));
    ASSERT_EQ(created.status, 201) << created.body;
    const std::int64_t order = as_i64(created.json().at("orderId"));

    // Created, not paid: not counted.
    const auto before = client.get("/api/products/top");
    ASSERT_EQ(before.status, 200) << before.body;
    expect_top_shape(before.json());
    EXPECT_EQ(find_by(before.json().at("products"), "productId", product), nullptr)
        << "an unpaid order counted: " << before.body;

    const auto paid = client.post(payment_path(order), payment_body(user, unique_key("top-pay")));
    ASSERT_EQ(paid.status, 200) << paid.body;

    const auto after = client.get("/api/products/top");
    ASSERT_EQ(after.status, 200) << after.body;
    EXPECT_NE(after.header("content-type").find("application/json"), std::string::npos);
    const auto v = after.json();
    expect_top_shape(v);
    const auto* entry = find_by(v.at("products"), "productId", product);
    ASSERT_NE(entry, nullptr) << "the paid product is missing from the top 5: " << after.body;
    EXPECT_EQ(str(entry->at("name")), spec.name);
    EXPECT_EQ(as_i64(entry->at("salesCount")), units);
    EXPECT_EQ(as_i64(entry->at("revenue")), units * price);
    // Nothing sold more units in the window.
    EXPECT_EQ(as_i64(v.at("products").as_array().front().at("salesCount")), units) << after.body;
}

TEST_F(ProductsE2E, TopRevenueIsBeforeDiscountAndSumsOrders) {
    constexpr std::int64_t user = 5001;
    CommercePg pg;
    HttpClient client(port());

    const std::int64_t units = max_recent_units(pg) + 2;  // paid in two orders
    constexpr std::int64_t price = 2;
    const std::int64_t product = pg.insert_product(price, units);
    const std::int64_t coupon = pg.insert_coupon(50, 10);
    ASSERT_EQ(client.post(issue_path(coupon), user_id_body(user)).status, 200);
    pg.set_balance(user, units * price + 1'000);

    const std::int64_t first_units = units / 2;
    const auto o1 = client.post("/api/orders",
                                order_body(user, {{product, first_units}}, coupon, unique_key("top-rev-1")));
    ASSERT_EQ(o1.status, 201) << o1.body;
    EXPECT_GT(as_i64(o1.json().at("discountAmount")), 0) << o1.body;
    ASSERT_EQ(
        client
            .post(payment_path(as_i64(o1.json().at("orderId"))), payment_body(user, unique_key("top-rev-p1")))
            .status,
        200);
    const auto o2 = client.post("/api/orders", order_body(user, {{product, units - first_units}},
                                                          std::nullopt, unique_key("top-rev-2")));
    ASSERT_EQ(o2.status, 201) << o2.body;
    ASSERT_EQ(
        client
            .post(payment_path(as_i64(o2.json().at("orderId"))), payment_body(user, unique_key("top-rev-p2")))
            .status,
        200);

    const auto r = client.get("/api/products/top");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    expect_top_shape(v);
    const auto* entry = find_by(v.at("products"), "productId", product);
    ASSERT_NE(entry, nullptr) << r.body;
    EXPECT_EQ(as_i64(entry->at("salesCount")), units);
    EXPECT_EQ(as_i64(entry->at("revenue")), units * price)
        << "revenue must be the line subtotals before discount";
}

TEST_F(ProductsE2E, TopTiesGoToTheSmallerProductId) {
    constexpr std::int64_t user = 5002;
    CommercePg pg;
    HttpClient client(port());

    const std::int64_t units = max_recent_units(pg) + 1;
    const std::int64_t smaller = pg.insert_product(1, units);
    const std::int64_t larger = pg.insert_product(1, units);
    pg.set_balance(user, 2 * units + 1'000);
    // The larger id is paid first: the tie is still broken by productId, not by time.
    for (const auto product : {larger, smaller}) {
        const auto created = client.post(
            "/api/orders", order_body(user, {{product, units}}, std::nullopt, unique_key("top-tie")));
        ASSERT_EQ(created.status, 201) << created.body;
        const auto paid = client.post(payment_path(as_i64(created.json().at("orderId"))),
                                      payment_body(user, unique_key("top-tie-pay")));
        ASSERT_EQ(paid.status, 200) << paid.body;
    }

    const auto r = client.get("/api/products/top");
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    expect_top_shape(v);
    const long i_smaller = index_of(v.at("products"), "productId", smaller);
    const long i_larger = index_of(v.at("products"), "productId", larger);
    ASSERT_GE(i_smaller, 0) << r.body;
    ASSERT_GE(i_larger, 0) << r.body;
    EXPECT_EQ(i_larger, i_smaller + 1) << r.body;
}

}  // namespace
}  // namespace ec::e2e
