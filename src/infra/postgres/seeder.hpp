#pragma once
// Seed data of SPEC §10. Idempotent, set-based, so 20,101 load-test users take well under a second.
// Users are inserted with ON CONFLICT DO NOTHING; the demo catalogue (products, coupons, user
// coupons, carts, orders and the recent sales behind GET /api/products/top) is inserted only when
// the products table is empty, like the original's DataInitializer, and never touched again.
#include <boost/asio/awaitable.hpp>
#include <string_view>

namespace ec::infra::pg {

class PgPool;

struct SeedReport {
    long long demo_users = 0;       // rows inserted now
    long long load_test_users = 0;  // rows inserted now
    // Demo catalogue, rows inserted now (all 0 when it was skipped).
    bool demo_commerce_skipped = false;  // demo requested, but products already had rows
    long long demo_products = 0;         // 21
    long long demo_coupons = 0;          // 5
    long long demo_user_coupons = 0;     // 2 (SOLDOUT of user 2, used EARLYBIRD15 of user 3)
    long long demo_carts = 0;            // 2 (users 1 and 2)
    long long demo_cart_items = 0;       // 3
    long long demo_orders = 0;           // 33: 18 sample orders + 15 paid orders of the last 3 days
    long long demo_order_items = 0;
};

// `time_zone` is the business zone (business.time-zone): the recent sales are paid at noon of
// today and the two days before in that zone (never in the future).
boost::asio::awaitable<SeedReport> seed(PgPool& pool, bool demo_data, bool load_test_users,
                                        std::string_view time_zone = "Asia/Seoul");

}  // namespace ec::infra::pg
