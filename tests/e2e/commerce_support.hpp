#pragma once
// Helpers for the commerce end-to-end tests (products, cart, coupons, orders): test data inserted
// with SQL (products and coupons with short unique codes), read-backs of what the server wrote,
// request bodies, and checks of the response shapes of the commerce contract.
//
// Every commerce test uses users 5000-5999 only (seeded by profile `test` with balance 10,000),
// sets the balance it needs itself and asserts on its own rows, never on global counts.
#include <initializer_list>
#include <thread>
#include <utility>

#include "e2e/e2e_support.hpp"

namespace ec::e2e {

namespace bj = boost::json;

// Far above every seeded or identity-generated id.
constexpr std::int64_t kUnknownId = 9'000'000'000'001;

// ------------------------------------------------------------------------------------------------
// Unique short codes for product_code / coupon_code (VARCHAR(20) UNIQUE): prefix + 12 random digits.

inline std::string unique_code(std::string_view prefix = "E") {
    static thread_local std::mt19937_64 rng = [] {
        std::random_device rd;
        const auto ns = std::chrono::steady_clock::now().time_since_epoch().count();
        return std::mt19937_64((static_cast<std::uint64_t>(rd()) << 32) ^ static_cast<std::uint64_t>(ns) ^
                               static_cast<std::uint64_t>(::getpid()));
    }();
    std::uniform_int_distribution<int> digit(0, 9);
    std::string out(prefix);
    for (int i = 0; i < 12; ++i) out += static_cast<char>('0' + digit(rng));
    return out;
}

// ------------------------------------------------------------------------------------------------
// PostgreSQL: test data and read-backs

// SQL that renders a timestamptz expression as the API does (Asia/Seoul local, microseconds).
inline std::string local_ts_sql(const std::string& expr) {
    return "to_char((" + expr + ") AT TIME ZONE 'Asia/Seoul', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')";
}

class CommercePg : public Pg {
public:
    struct ProductSpec {
        std::string name;
        std::int64_t price = 1000;
        std::int64_t stock = 100;
        std::optional<std::string> category;
        std::optional<std::string> description = std::string("e2e product");
        std::string created_at = "now()";  // SQL expression
    };

    // Inserts a product (an absent description/category is NULL); returns its id.
    std::int64_t insert_product(const ProductSpec& p) {
        const std::string code = unique_code("E");
        const std::string name = p.name.empty() ? "E2E product " + code : p.name;
        return int64(
            "INSERT INTO products (product_code, name, description, price, category, stock, created_at) "
            "VALUES ($1, $2, NULLIF($3, ''), $4::bigint, NULLIF($5, ''), $6::int, " +
                p.created_at + ") RETURNING id",
            {code, name, p.description.value_or(""), std::to_string(p.price), p.category.value_or(""),
             std::to_string(p.stock)});
    }
    std::int64_t insert_product(std::int64_t price, std::int64_t stock) {
        ProductSpec p;
        p.price = price;
        p.stock = stock;
        return insert_product(p);
    }

    // Inserts a coupon valid from start_sql to end_sql (SQL expressions); returns its id.
    std::int64_t insert_coupon(int rate, int total, const std::string& start_sql = "now() - interval '1 day'",
                               const std::string& end_sql = "now() + interval '30 days'",
                               const std::string& name = {}) {
        const std::string code = unique_code("C");
        return int64(
            "INSERT INTO coupons (coupon_code, name, discount_rate, total_quantity, start_date, end_date) "
            "VALUES ($1, $2, $3::int, $4::int, " +
                start_sql + ", " + end_sql + ") RETURNING id",
            {code, name.empty() ? "E2E coupon " + code : name, std::to_string(rate), std::to_string(total)});
    }

    void set_balance(std::int64_t user, std::int64_t balance) {
        exec("UPDATE users SET balance = $2::bigint WHERE id = $1",
             {std::to_string(user), std::to_string(balance)});
    }
    void set_stock(std::int64_t product, std::int64_t stock) {
        exec("UPDATE products SET stock = $2::int WHERE id = $1",
             {std::to_string(product), std::to_string(stock)});
    }
    std::int64_t stock(std::int64_t product) {
        return int64("SELECT stock FROM products WHERE id = $1", {std::to_string(product)});
    }

    // Carts
    void delete_cart(std::int64_t user) {
        exec("DELETE FROM carts WHERE user_id = $1", {std::to_string(user)});
    }
    std::int64_t cart_rows(std::int64_t user) {
        return int64("SELECT count(*) FROM carts WHERE user_id = $1", {std::to_string(user)});
    }
    std::int64_t cart_item_rows(std::int64_t user) {
        return int64(
            "SELECT count(*) FROM cart_items ci JOIN carts c ON c.id = ci.cart_id WHERE c.user_id = $1",
            {std::to_string(user)});
    }
    // Quantity of the user's cart line for product, nullopt when there is no such line.
    std::optional<std::int64_t> cart_quantity(std::int64_t user, std::int64_t product) {
        const auto v = scalar(
            "SELECT ci.quantity FROM cart_items ci JOIN carts c ON c.id = ci.cart_id "
            "WHERE c.user_id = $1 AND ci.product_id = $2",
            {std::to_string(user), std::to_string(product)});
        if (!v) return std::nullopt;
        return std::stoll(*v);
    }

    // Coupons
    std::int64_t issued_quantity(std::int64_t coupon) {
        return int64("SELECT issued_quantity FROM coupons WHERE id = $1", {std::to_string(coupon)});
    }
    std::int64_t user_coupon_rows(std::int64_t user) {
        return int64("SELECT count(*) FROM user_coupons WHERE user_id = $1", {std::to_string(user)});
    }
    std::int64_t coupon_holders(std::int64_t coupon) {
        return int64("SELECT count(*) FROM user_coupons WHERE coupon_id = $1", {std::to_string(coupon)});
    }
    // Status of the user's coupon ("" when the user does not hold it).
    std::string user_coupon_status(std::int64_t user, std::int64_t coupon) {
        return exec("SELECT status FROM user_coupons WHERE user_id = $1 AND coupon_id = $2",
                    {std::to_string(user), std::to_string(coupon)});
    }

    // Orders
    std::int64_t order_rows(std::int64_t user) {
        return int64("SELECT count(*) FROM orders WHERE user_id = $1", {std::to_string(user)});
    }
    std::int64_t max_order_id(std::int64_t user) {
        return int64("SELECT coalesce(max(id), 0) FROM orders WHERE user_id = $1", {std::to_string(user)});
    }
    std::string order_status(std::int64_t order) {
        return exec("SELECT status FROM orders WHERE id = $1", {std::to_string(order)});
    }
    bool order_paid_at_set(std::int64_t order) {
        return int64("SELECT count(*) FROM orders WHERE id = $1 AND paid_at IS NOT NULL",
                     {std::to_string(order)}) == 1;
    }
    std::int64_t outbox_rows(std::int64_t order) {
        return int64(
            "SELECT count(*) FROM outbox_events WHERE event_type = 'OrderCompleted' AND aggregate_id = $1",
            {std::to_string(order)});
    }
    std::int64_t idempotency_rows(std::int64_t user) { return Pg::idempotency_rows(user); }
    std::int64_t idempotency_rows(std::int64_t user, const std::string& key) {
        return Pg::idempotency_rows(user, key);
    }
    std::int64_t idempotency_rows(std::int64_t user, const std::string& operation, const std::string& key) {
        return int64(
            "SELECT count(*) FROM idempotency_records WHERE user_id = $1 AND operation = $2 AND "
            "idempotency_key = $3",
            {std::to_string(user), operation, key});
    }

    // Orders of `user` created with the idempotency key `key` (kept on the order: V023).
    std::int64_t order_key_rows(std::int64_t user, const std::string& key) {
        return int64("SELECT count(*) FROM orders WHERE user_id = $1 AND idempotency_key = $2",
                     {std::to_string(user), key});
    }

    // A timestamptz column of one row rendered like the API renders it (Asia/Seoul, microseconds).
    std::string local_ts(const std::string& table, const std::string& column, std::int64_t id) {
        return exec("SELECT " + local_ts_sql(column) + " FROM " + table + " WHERE id = $1",
                    {std::to_string(id)});
    }
};

// ------------------------------------------------------------------------------------------------
// JSON helpers

using Lines = std::vector<std::pair<std::int64_t, std::int64_t>>;  // {productId, quantity}

inline bj::array items_json(const Lines& lines) {
    bj::array items;
    for (const auto& [product, quantity] : lines)
        items.push_back(bj::object{{"productId", product}, {"quantity", quantity}});
    return items;
}

inline std::string order_body(std::int64_t user, const Lines& lines, std::optional<std::int64_t> coupon,
                              const std::string& key) {
    bj::object o{{"userId", user}, {"items", items_json(lines)}, {"idempotencyKey", key}};
    if (coupon) o["couponId"] = *coupon;
    return bj::serialize(o);
}
inline std::string payment_body(std::int64_t user, const std::string& key) {
    return bj::serialize(bj::object{{"userId", user}, {"idempotencyKey", key}});
}
inline std::string cart_body(std::int64_t user, std::int64_t product, std::int64_t quantity) {
    return bj::serialize(bj::object{{"userId", user}, {"productId", product}, {"quantity", quantity}});
}
inline std::string user_id_body(std::int64_t user) {
    return bj::serialize(bj::object{{"userId", user}});
}

inline std::string order_path(std::int64_t order) {
    return "/api/orders/" + std::to_string(order);
}
inline std::string payment_path(std::int64_t order) {
    return order_path(order) + "/payment";
}
inline std::string product_path(std::int64_t product) {
    return "/api/products/" + std::to_string(product);
}
inline std::string coupon_path(std::int64_t coupon) {
    return "/api/coupons/" + std::to_string(coupon);
}
inline std::string issue_path(std::int64_t coupon) {
    return coupon_path(coupon) + "/issue";
}
inline std::string user_coupons_path(std::int64_t user) {
    return user_path(user) + "/coupons";
}

inline bool is_integer(const bj::value& v) {
    return v.is_int64() || v.is_uint64();
}
inline std::string str(const bj::value& v) {
    return v.is_string() ? std::string(v.as_string()) : std::string();
}

// Expects `v` to be an object with exactly `keys`. Returns false (after a failure) if it is not
// an object, so callers can stop before indexing into it.
inline bool expect_keys(const bj::value& v, std::initializer_list<std::string_view> keys) {
    if (!v.is_object()) {
        ADD_FAILURE() << "not an object: " << bj::serialize(v);
        return false;
    }
    const auto& o = v.as_object();
    EXPECT_EQ(o.size(), keys.size()) << bj::serialize(v);
    bool all = true;
    for (const auto k : keys) {
        if (!o.contains(k)) {
            ADD_FAILURE() << "missing field '" << k << "': " << bj::serialize(v);
            all = false;
        }
    }
    return all;
}

inline void expect_integer_fields(const bj::value& v, std::initializer_list<std::string_view> keys) {
    for (const auto k : keys)
        EXPECT_TRUE(is_integer(v.at(k))) << k << " not an integer: " << bj::serialize(v);
}
inline void expect_string_fields(const bj::value& v, std::initializer_list<std::string_view> keys) {
    for (const auto k : keys) EXPECT_TRUE(v.at(k).is_string()) << k << " not a string: " << bj::serialize(v);
}
inline void expect_timestamp_fields(const bj::value& v, std::initializer_list<std::string_view> keys) {
    for (const auto k : keys) {
        EXPECT_TRUE(v.at(k).is_string() && is_local_datetime_micros(str(v.at(k))))
            << k << " not a local date-time with microseconds: " << bj::serialize(v);
    }
}

// ------------------------------------------------------------------------------------------------
// Shapes of the contract

// {productId,name,description,price,stock,category}; description and category may be null.
inline bool expect_product_shape(const bj::value& v) {
    if (!expect_keys(v, {"productId", "name", "description", "price", "stock", "category"})) return false;
    expect_integer_fields(v, {"productId", "price", "stock"});
    expect_string_fields(v, {"name"});
    EXPECT_TRUE(v.at("description").is_string() || v.at("description").is_null()) << bj::serialize(v);
    EXPECT_TRUE(v.at("category").is_string() || v.at("category").is_null()) << bj::serialize(v);
    return true;
}

// {productId,name,unitPrice,quantity,subtotal,stockAvailable}
inline bool expect_cart_item_shape(const bj::value& v) {
    if (!expect_keys(v, {"productId", "name", "unitPrice", "quantity", "subtotal", "stockAvailable"}))
        return false;
    expect_integer_fields(v, {"productId", "unitPrice", "quantity", "subtotal"});
    expect_string_fields(v, {"name"});
    EXPECT_TRUE(v.at("stockAvailable").is_bool()) << bj::serialize(v);
    return true;
}

// {userId, items:[cart item], totalAmount}
inline bool expect_cart_shape(const bj::value& v) {
    if (!expect_keys(v, {"userId", "items", "totalAmount"})) return false;
    expect_integer_fields(v, {"userId", "totalAmount"});
    if (!v.at("items").is_array()) {
        ADD_FAILURE() << "items not an array: " << bj::serialize(v);
        return false;
    }
    bool ok = true;
    for (const auto& item : v.at("items").as_array()) ok = expect_cart_item_shape(item) && ok;
    return ok;
}

// {orderId,userId,orderNumber,items:[{productId,productName,quantity,unitPrice,subtotal}],
//  subtotalAmount,discountAmount,totalAmount,status,createdAt}
inline bool expect_order_shape(const bj::value& v) {
    if (!expect_keys(v, {"orderId", "userId", "orderNumber", "items", "subtotalAmount", "discountAmount",
                         "totalAmount", "status", "createdAt"})) {
        return false;
    }
    expect_integer_fields(v, {"orderId", "userId", "subtotalAmount", "discountAmount", "totalAmount"});
    expect_string_fields(v, {"orderNumber", "status"});
    expect_timestamp_fields(v, {"createdAt"});
    static const std::regex number_re(R"(^ORDER-[0-9A-Z]{8}$)");
    EXPECT_TRUE(std::regex_match(str(v.at("orderNumber")), number_re)) << bj::serialize(v);
    if (!v.at("items").is_array()) {
        ADD_FAILURE() << "items not an array: " << bj::serialize(v);
        return false;
    }
    bool ok = true;
    for (const auto& item : v.at("items").as_array()) {
        if (!expect_keys(item, {"productId", "productName", "quantity", "unitPrice", "subtotal"})) {
            ok = false;
            continue;
        }
        expect_integer_fields(item, {"productId", "quantity", "unitPrice", "subtotal"});
        expect_string_fields(item, {"productName"});
    }
    return ok;
}

// {orderId,paidAmount,remainingBalance,status:"SUCCESS",dataTransmission,paidAt}
inline bool expect_payment_shape(const bj::value& v) {
    if (!expect_keys(v,
                     {"orderId", "paidAmount", "remainingBalance", "status", "dataTransmission", "paidAt"})) {
        return false;
    }
    expect_integer_fields(v, {"orderId", "paidAmount", "remainingBalance"});
    expect_string_fields(v, {"status", "dataTransmission"});
    expect_timestamp_fields(v, {"paidAt"});
    EXPECT_EQ(str(v.at("status")), "SUCCESS");
    static const std::regex tx_re(R"(^PG_APPROVED: MOCK_TX_[0-9A-Za-z]{8}$)");
    EXPECT_TRUE(std::regex_match(str(v.at("dataTransmission")), tx_re)) << bj::serialize(v);
    return true;
}

// {userCouponId,couponId,couponName,discountRate,status,issuedAt,usedAt|null,expiresAt}
inline bool expect_user_coupon_shape(const bj::value& v) {
    if (!expect_keys(v, {"userCouponId", "couponId", "couponName", "discountRate", "status", "issuedAt",
                         "usedAt", "expiresAt"})) {
        return false;
    }
    expect_integer_fields(v, {"userCouponId", "couponId", "discountRate"});
    expect_string_fields(v, {"couponName", "status"});
    expect_timestamp_fields(v, {"issuedAt", "expiresAt"});
    EXPECT_TRUE(v.at("usedAt").is_null() ||
                (v.at("usedAt").is_string() && is_local_datetime_micros(str(v.at("usedAt")))))
        << bj::serialize(v);
    return true;
}

// ------------------------------------------------------------------------------------------------
// Polling

// Calls `fetch` until `done(response)` or `timeout` passes; returns the last response.
template <class Fetch, class Done>
HttpResponse poll_until(Fetch fetch, Done done, std::chrono::milliseconds timeout = 2000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        HttpResponse r = fetch();
        if (done(r) || std::chrono::steady_clock::now() >= deadline) return r;
        std::this_thread::sleep_for(50ms);
    }
}

// Waits until GET /api/products/{id} answers 200 (products inserted with SQL show up within the
// test profile's products.cache-ttl); returns that response.
inline HttpResponse await_product(HttpClient& client, std::int64_t product) {
    return poll_until([&] { return client.get(product_path(product)); },
                      [](const HttpResponse& r) { return r.status == 200; });
}

// Finds the element of `array` whose `field` equals `id`; nullptr when absent.
inline const bj::value* find_by(const bj::value& array, std::string_view field, std::int64_t id) {
    if (!array.is_array()) return nullptr;
    for (const auto& e : array.as_array()) {
        if (e.is_object() && e.as_object().contains(field) && is_integer(e.at(field)) &&
            as_i64(e.at(field)) == id) {
            return &e;
        }
    }
    return nullptr;
}

// Index of the element of `array` whose `field` equals `id`; -1 when absent.
inline long index_of(const bj::value& array, std::string_view field, std::int64_t id) {
    if (!array.is_array()) return -1;
    long i = 0;
    for (const auto& e : array.as_array()) {
        if (e.is_object() && e.as_object().contains(field) && is_integer(e.at(field)) &&
            as_i64(e.at(field)) == id) {
            return i;
        }
        ++i;
    }
    return -1;
}

}  // namespace ec::e2e
