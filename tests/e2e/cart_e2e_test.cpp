// Cart endpoints (SPEC §4.2, §8; commerce contract "Cart") over real HTTP against the real binary:
// add (sums quantities), read, set an absolute quantity (0 removes), delete, and every error with
// nothing written. Users 5100-5119 belong to this file; each test starts from a deleted cart.
#include <functional>

#include "e2e/commerce_support.hpp"

namespace ec::e2e {
namespace {

class CartE2E : public ServerSuite<CartE2E> {};

const std::string kItems = "/api/cart/items";

std::string cart_path(std::int64_t user) {
    return "/api/cart?userId=" + std::to_string(user);
}

// The cart line of `product` in a cart body, nullptr when absent.
const bj::value* line_of(const bj::value& cart, std::int64_t product) {
    return find_by(cart.at("items"), "productId", product);
}

std::string product_name(CommercePg& pg, std::int64_t product) {
    return pg.exec("SELECT name FROM products WHERE id = $1", {std::to_string(product)});
}

TEST_F(CartE2E, AddCreatesTheCartWithExactShape) {
    constexpr std::int64_t user = 5100;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);
    const std::int64_t product = pg.insert_product(1'500, 10);

    const auto r = client.post(kItems, cart_body(user, product, 3));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_cart_shape(v));
    EXPECT_EQ(as_i64(v.at("userId")), user);
    ASSERT_EQ(v.at("items").as_array().size(), 1u) << r.body;
    const auto& item = v.at("items").as_array().front();
    EXPECT_EQ(as_i64(item.at("productId")), product);
    EXPECT_EQ(str(item.at("name")), product_name(pg, product));
    EXPECT_EQ(as_i64(item.at("unitPrice")), 1'500);
    EXPECT_EQ(as_i64(item.at("quantity")), 3);
    EXPECT_EQ(as_i64(item.at("subtotal")), 4'500);
    EXPECT_TRUE(item.at("stockAvailable").as_bool());
    EXPECT_EQ(as_i64(v.at("totalAmount")), 4'500);

    EXPECT_EQ(pg.cart_rows(user), 1);
    EXPECT_EQ(pg.cart_quantity(user, product), 3);
    EXPECT_EQ(pg.stock(product), 10) << "adding to the cart must not take stock";
}

TEST_F(CartE2E, AddingTwiceSumsQuantitiesNewestLineFirst) {
    constexpr std::int64_t user = 5101;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);
    const std::int64_t first = pg.insert_product(1'000, 20);
    const std::int64_t second = pg.insert_product(250, 20);

    ASSERT_EQ(client.post(kItems, cart_body(user, first, 2)).status, 201);
    ASSERT_EQ(client.post(kItems, cart_body(user, second, 1)).status, 201);
    const auto r = client.post(kItems, cart_body(user, first, 3));
    ASSERT_EQ(r.status, 201) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(expect_cart_shape(v));
    ASSERT_EQ(v.at("items").as_array().size(), 2u) << "one line per product: " << r.body;
    // Newest line first: the second product's line was created after the first's.
    EXPECT_EQ(as_i64(v.at("items").as_array()[0].at("productId")), second) << r.body;
    EXPECT_EQ(as_i64(v.at("items").as_array()[1].at("productId")), first) << r.body;
    const auto* line = line_of(v, first);
    ASSERT_NE(line, nullptr);
    EXPECT_EQ(as_i64(line->at("quantity")), 5);
    EXPECT_EQ(as_i64(line->at("subtotal")), 5'000);
    EXPECT_EQ(as_i64(v.at("totalAmount")), 5'000 + 250);

    EXPECT_EQ(pg.cart_quantity(user, first), 5);
    EXPECT_EQ(pg.cart_quantity(user, second), 1);
    EXPECT_EQ(pg.cart_item_rows(user), 2);

    // GET answers the same cart.
    const auto g = client.get(cart_path(user));
    ASSERT_EQ(g.status, 200) << g.body;
    EXPECT_EQ(g.json(), v) << g.body;
}

TEST_F(CartE2E, AddBeyondStockIs409AndChangesNothing) {
    constexpr std::int64_t user = 5102;
    constexpr std::int64_t fresh_user = 5103;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);
    pg.delete_cart(fresh_user);
    const std::int64_t product = pg.insert_product(700, 5);

    ASSERT_EQ(client.post(kItems, cart_body(user, product, 3)).status, 201);
    // 3 in the cart + 3 more > 5 in stock.
    const auto over = client.post(kItems, cart_body(user, product, 3));
    expect_error(over, 409, "P002");
    EXPECT_EQ(pg.cart_quantity(user, product), 3);
    EXPECT_EQ(pg.cart_item_rows(user), 1);
    // Exactly up to the stock is fine.
    const auto exact = client.post(kItems, cart_body(user, product, 2));
    ASSERT_EQ(exact.status, 201) << exact.body;
    EXPECT_EQ(pg.cart_quantity(user, product), 5);

    // A user without a cart asking for more than the stock gets no cart at all.
    expect_error(client.post(kItems, cart_body(fresh_user, product, 6)), 409, "P002");
    EXPECT_EQ(pg.cart_rows(fresh_user), 0);
    EXPECT_EQ(pg.stock(product), 5);
}

struct Case {
    std::string name;
    std::function<HttpResponse(HttpClient&)> send;
    int status;
    std::string code;
    std::string message_contains;  // "" = any message
};

TEST_F(CartE2E, AddRejectsBadInputAndWritesNothing) {
    constexpr std::int64_t user = 5104;
    CommercePg pg;
    pg.delete_cart(user);
    const std::int64_t product = pg.insert_product(900, 10);
    const std::string u = std::to_string(user);
    const std::string p = std::to_string(product);
    auto post = [](std::string body) { return [body](HttpClient& c) { return c.post(kItems, body); }; };

    const std::vector<Case> cases = {
        {"quantity 0", post(cart_body(user, product, 0)), 400, "O001", ""},
        {"quantity -1", post(cart_body(user, product, -1)), 400, "O001", ""},
        {"missing userId", post(R"({"productId":)" + p + R"(,"quantity":1})"), 400, "COMMON002", "userId"},
        {"missing productId", post(R"({"userId":)" + u + R"(,"quantity":1})"), 400, "COMMON002", "productId"},
        {"missing quantity", post(R"({"userId":)" + u + R"(,"productId":)" + p + "}"), 400, "COMMON002",
         "quantity"},
        {"userId null", post(R"({"userId":null,"productId":)" + p + R"(,"quantity":1})"), 400, "COMMON002",
         "userId"},
        {"userId as string", post(R"({"userId":")" + u + R"(","productId":)" + p + R"(,"quantity":1})"), 400,
         "COMMON002", "userId"},
        {"productId as string", post(R"({"userId":)" + u + R"(,"productId":")" + p + R"(","quantity":1})"),
         400, "COMMON002", "productId"},
        {"quantity as string", post(R"({"userId":)" + u + R"(,"productId":)" + p + R"(,"quantity":"1"})"),
         400, "COMMON002", "quantity"},
        {"quantity 1.5", post(R"({"userId":)" + u + R"(,"productId":)" + p + R"(,"quantity":1.5})"), 400,
         "COMMON002", "quantity"},
        {"quantity above int32",
         post(R"({"userId":)" + u + R"(,"productId":)" + p + R"(,"quantity":2147483648})"), 400, "COMMON002",
         "quantity"},
        {"malformed JSON", post(R"({"userId":)" + u + R"(,"productId":)"), 400, "COMMON002", ""},
        {"JSON array", post("[" + cart_body(user, product, 1) + "]"), 400, "COMMON002", ""},
        {"empty body", post(""), 400, "COMMON002", ""},
        {"text/plain",
         [&](HttpClient& c) { return c.post(kItems, cart_body(user, product, 1), "text/plain"); }, 415,
         "COMMON006", ""},
        {"unknown user", post(cart_body(kUnknownId, product, 1)), 404, "U001", std::to_string(kUnknownId)},
        {"unknown product", post(cart_body(user, kUnknownId, 1)), 404, "P001", std::to_string(kUnknownId)},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE("case: " + c.name);
        HttpClient client(port());
        const auto r = c.send(client);
        expect_error(r, c.status, c.code);
        if (!c.message_contains.empty()) {
            EXPECT_NE(error_message(r).find(c.message_contains), std::string::npos)
                << "message should name '" << c.message_contains << "': " << r.body;
        }
        EXPECT_EQ(pg.cart_rows(user), 0);
        EXPECT_EQ(pg.cart_rows(kUnknownId), 0);
    }
    EXPECT_EQ(pg.stock(product), 10);

    // The well-formed request of the same shape succeeds.
    HttpClient client(port());
    ASSERT_EQ(client.post(kItems, cart_body(user, product, 1)).status, 201);
    EXPECT_EQ(pg.cart_quantity(user, product), 1);
}

TEST_F(CartE2E, GetWithoutCartIsEmpty) {
    constexpr std::int64_t user = 5105;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);

    const auto r = client.get(cart_path(user));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_cart_shape(v));
    EXPECT_EQ(as_i64(v.at("userId")), user);
    EXPECT_TRUE(v.at("items").as_array().empty()) << r.body;
    EXPECT_EQ(as_i64(v.at("totalAmount")), 0);
    EXPECT_EQ(pg.cart_rows(user), 0) << "reading must not create a cart";
}

TEST_F(CartE2E, GetRejectsBadUser) {
    HttpClient client(port());
    expect_error(client.get("/api/cart"), 400, "COMMON002");
    expect_error(client.get("/api/cart?userId="), 400, "COMMON002");
    expect_error(client.get("/api/cart?userId=abc"), 400, "COMMON002");
    expect_error(client.get("/api/cart?userId=99999999999999999999"), 400, "COMMON002");
    const auto unknown = client.get(cart_path(kUnknownId));
    expect_error(unknown, 404, "U001");
    EXPECT_NE(error_message(unknown).find(std::to_string(kUnknownId)), std::string::npos) << unknown.body;
}

TEST_F(CartE2E, StockAvailableFollowsTheStock) {
    constexpr std::int64_t user = 5106;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);
    const std::int64_t product = pg.insert_product(400, 10);
    ASSERT_EQ(client.post(kItems, cart_body(user, product, 4)).status, 201);

    pg.set_stock(product, 3);  // below the cart quantity
    const auto r = poll_until([&] { return client.get(cart_path(user)); },
                              [&](const HttpResponse& resp) {
                                  if (resp.status != 200) return false;
                                  const auto body = resp.json();
                                  const auto* line = line_of(body, product);
                                  return line != nullptr && line->at("stockAvailable") == bj::value(false);
                              });
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(expect_cart_shape(v));
    const auto* line = line_of(v, product);
    ASSERT_NE(line, nullptr) << r.body;
    EXPECT_FALSE(line->at("stockAvailable").as_bool()) << "stock 3 < quantity 4: " << r.body;
    EXPECT_EQ(as_i64(line->at("quantity")), 4);
    EXPECT_EQ(as_i64(line->at("subtotal")), 1'600);
    EXPECT_EQ(as_i64(v.at("totalAmount")), 1'600);
}

TEST_F(CartE2E, PutSetsTheAbsoluteQuantity) {
    constexpr std::int64_t user = 5107;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);
    const std::int64_t product = pg.insert_product(1'200, 10);
    ASSERT_EQ(client.post(kItems, cart_body(user, product, 2)).status, 201);

    const auto r = client.put(kItems, cart_body(user, product, 5));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.header("content-type").find("application/json"), std::string::npos);
    const auto v = r.json();
    ASSERT_TRUE(expect_cart_item_shape(v));
    EXPECT_EQ(as_i64(v.at("productId")), product);
    EXPECT_EQ(str(v.at("name")), product_name(pg, product));
    EXPECT_EQ(as_i64(v.at("unitPrice")), 1'200);
    EXPECT_EQ(as_i64(v.at("quantity")), 5);
    EXPECT_EQ(as_i64(v.at("subtotal")), 6'000);
    EXPECT_TRUE(v.at("stockAvailable").as_bool());
    EXPECT_EQ(pg.cart_quantity(user, product), 5);

    // Down as well as up; exactly the stock is allowed.
    ASSERT_EQ(client.put(kItems, cart_body(user, product, 1)).status, 200);
    EXPECT_EQ(pg.cart_quantity(user, product), 1);
    ASSERT_EQ(client.put(kItems, cart_body(user, product, 10)).status, 200);
    EXPECT_EQ(pg.cart_quantity(user, product), 10);

    const auto g = client.get(cart_path(user));
    ASSERT_EQ(g.status, 200) << g.body;
    const auto cart = g.json();
    const auto* line = line_of(cart, product);
    ASSERT_NE(line, nullptr) << g.body;
    EXPECT_EQ(as_i64(line->at("quantity")), 10);
    EXPECT_EQ(as_i64(cart.at("totalAmount")), 12'000);
}

TEST_F(CartE2E, PutZeroRemovesTheLine) {
    constexpr std::int64_t user = 5108;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);
    const std::int64_t removed = pg.insert_product(300, 10);
    const std::int64_t kept = pg.insert_product(800, 10);
    ASSERT_EQ(client.post(kItems, cart_body(user, removed, 2)).status, 201);
    ASSERT_EQ(client.post(kItems, cart_body(user, kept, 1)).status, 201);

    const auto r = client.put(kItems, cart_body(user, removed, 0));
    ASSERT_EQ(r.status, 200) << r.body;
    const auto v = r.json();
    ASSERT_TRUE(expect_cart_item_shape(v));
    EXPECT_EQ(as_i64(v.at("productId")), removed);
    EXPECT_EQ(as_i64(v.at("quantity")), 0);
    EXPECT_EQ(as_i64(v.at("subtotal")), 0);

    EXPECT_EQ(pg.cart_quantity(user, removed), std::nullopt);
    EXPECT_EQ(pg.cart_quantity(user, kept), 1);
    const auto g = client.get(cart_path(user));
    ASSERT_EQ(g.status, 200) << g.body;
    ASSERT_EQ(g.json().at("items").as_array().size(), 1u) << g.body;
    EXPECT_EQ(line_of(g.json(), removed), nullptr) << g.body;
    EXPECT_EQ(as_i64(g.json().at("totalAmount")), 800);

    // The line is gone: setting it again is CART002.
    expect_error(client.put(kItems, cart_body(user, removed, 1)), 404, "CART002");
    EXPECT_EQ(pg.cart_quantity(user, removed), std::nullopt);

    // Removing the last line leaves an empty cart.
    ASSERT_EQ(client.put(kItems, cart_body(user, kept, 0)).status, 200);
    const auto empty = client.get(cart_path(user));
    ASSERT_EQ(empty.status, 200) << empty.body;
    EXPECT_TRUE(empty.json().at("items").as_array().empty()) << empty.body;
    EXPECT_EQ(as_i64(empty.json().at("totalAmount")), 0);
}

TEST_F(CartE2E, PutErrorsChangeNothing) {
    constexpr std::int64_t user = 5109;
    constexpr std::int64_t cartless = 5110;
    CommercePg pg;
    pg.delete_cart(user);
    pg.delete_cart(cartless);
    const std::int64_t product = pg.insert_product(600, 10);
    const std::int64_t other = pg.insert_product(600, 10);
    {
        HttpClient client(port());
        ASSERT_EQ(client.post(kItems, cart_body(user, product, 4)).status, 201);
    }
    const std::string u = std::to_string(user);
    const std::string p = std::to_string(product);
    auto put = [](std::string body) { return [body](HttpClient& c) { return c.put(kItems, body); }; };

    const std::vector<Case> cases = {
        {"quantity -1", put(cart_body(user, product, -1)), 400, "O001", ""},
        {"quantity above stock", put(cart_body(user, product, 11)), 409, "P002", ""},
        {"unknown user", put(cart_body(kUnknownId, product, 1)), 404, "U001", std::to_string(kUnknownId)},
        {"user without cart", put(cart_body(cartless, product, 1)), 404, "CART001", ""},
        {"product not in cart", put(cart_body(user, other, 1)), 404, "CART002", ""},
        {"unknown product", put(cart_body(user, kUnknownId, 1)), 404, "CART002", ""},
        {"missing userId", put(R"({"productId":)" + p + R"(,"quantity":1})"), 400, "COMMON002", "userId"},
        {"missing productId", put(R"({"userId":)" + u + R"(,"quantity":1})"), 400, "COMMON002", "productId"},
        {"missing quantity", put(R"({"userId":)" + u + R"(,"productId":)" + p + "}"), 400, "COMMON002",
         "quantity"},
        {"quantity as string", put(R"({"userId":)" + u + R"(,"productId":)" + p + R"(,"quantity":"2"})"), 400,
         "COMMON002", "quantity"},
        {"malformed JSON", put("{"), 400, "COMMON002", ""},
        {"text/plain",
         [&](HttpClient& c) { return c.put(kItems, cart_body(user, product, 2), "text/plain"); }, 415,
         "COMMON006", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE("case: " + c.name);
        HttpClient client(port());
        const auto r = c.send(client);
        expect_error(r, c.status, c.code);
        if (!c.message_contains.empty()) {
            EXPECT_NE(error_message(r).find(c.message_contains), std::string::npos)
                << "message should name '" << c.message_contains << "': " << r.body;
        }
        EXPECT_EQ(pg.cart_quantity(user, product), 4);
        EXPECT_EQ(pg.cart_item_rows(user), 1);
        EXPECT_EQ(pg.cart_rows(cartless), 0);
    }
    EXPECT_EQ(pg.stock(product), 10);
}

TEST_F(CartE2E, DeleteRemovesTheLine) {
    constexpr std::int64_t user = 5111;
    CommercePg pg;
    HttpClient client(port());
    pg.delete_cart(user);
    const std::int64_t removed = pg.insert_product(300, 10);
    const std::int64_t kept = pg.insert_product(800, 10);
    ASSERT_EQ(client.post(kItems, cart_body(user, removed, 2)).status, 201);
    ASSERT_EQ(client.post(kItems, cart_body(user, kept, 3)).status, 201);

    const auto r = client.del(kItems, bj::serialize(bj::object{{"userId", user}, {"productId", removed}}));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_TRUE(r.body.empty()) << r.body;
    EXPECT_EQ(pg.cart_quantity(user, removed), std::nullopt);
    EXPECT_EQ(pg.cart_quantity(user, kept), 3);

    const auto g = client.get(cart_path(user));
    ASSERT_EQ(g.status, 200) << g.body;
    ASSERT_EQ(g.json().at("items").as_array().size(), 1u) << g.body;
    EXPECT_EQ(as_i64(g.json().at("items").as_array()[0].at("productId")), kept);
    EXPECT_EQ(as_i64(g.json().at("totalAmount")), 2'400);

    // Deleting it again: the line is gone.
    expect_error(client.del(kItems, bj::serialize(bj::object{{"userId", user}, {"productId", removed}})), 404,
                 "CART002");
    EXPECT_EQ(pg.cart_quantity(user, kept), 3);
}

TEST_F(CartE2E, DeleteErrorsChangeNothing) {
    constexpr std::int64_t user = 5112;
    constexpr std::int64_t cartless = 5113;
    CommercePg pg;
    pg.delete_cart(user);
    pg.delete_cart(cartless);
    const std::int64_t product = pg.insert_product(600, 10);
    const std::int64_t other = pg.insert_product(600, 10);
    {
        HttpClient client(port());
        ASSERT_EQ(client.post(kItems, cart_body(user, product, 4)).status, 201);
    }
    const std::string u = std::to_string(user);
    const std::string p = std::to_string(product);
    auto del = [](std::string body) { return [body](HttpClient& c) { return c.del(kItems, body); }; };
    auto body = [](std::int64_t uid, std::int64_t pid) {
        return bj::serialize(bj::object{{"userId", uid}, {"productId", pid}});
    };

    const std::vector<Case> cases = {
        {"unknown user", del(body(kUnknownId, product)), 404, "U001", std::to_string(kUnknownId)},
        {"user without cart", del(body(cartless, product)), 404, "CART001", ""},
        {"product not in cart", del(body(user, other)), 404, "CART002", ""},
        {"unknown product", del(body(user, kUnknownId)), 404, "CART002", ""},
        {"missing userId", del(R"({"productId":)" + p + "}"), 400, "COMMON002", "userId"},
        {"missing productId", del(R"({"userId":)" + u + "}"), 400, "COMMON002", "productId"},
        {"productId as string", del(R"({"userId":)" + u + R"(,"productId":")" + p + R"("})"), 400,
         "COMMON002", "productId"},
        {"malformed JSON", del("{\"userId\":"), 400, "COMMON002", ""},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE("case: " + c.name);
        HttpClient client(port());
        const auto r = c.send(client);
        expect_error(r, c.status, c.code);
        if (!c.message_contains.empty()) {
            EXPECT_NE(error_message(r).find(c.message_contains), std::string::npos)
                << "message should name '" << c.message_contains << "': " << r.body;
        }
        EXPECT_EQ(pg.cart_quantity(user, product), 4);
        EXPECT_EQ(pg.cart_item_rows(user), 1);
        EXPECT_EQ(pg.cart_rows(cartless), 0);
    }
}

}  // namespace
}  // namespace ec::e2e
