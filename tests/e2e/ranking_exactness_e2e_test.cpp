// Exactly-once ranking under load and crashes (SPEC §6, §11): 1,000 payments over 20 products from
// 50 concurrent clients leave every product's score in Redis equal to the units of its paid order
// lines in PostgreSQL, and the order-completed stream holds each paid order once, also when the
// server is killed with SIGKILL twice in the middle and restarted. Users 8000-9999 belong to this file.
#include <atomic>
#include <mutex>
#include <set>

#include "e2e/ranking_support.hpp"

namespace ec::e2e {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kPayments = 1000;
constexpr int kClients = 50;
constexpr int kProducts = 20;

struct Load {
    std::vector<std::int64_t> products;
    std::int64_t first_user = 0;
};

Load prepare(CommercePg& pg, std::int64_t first_user) {
    Load load;
    load.first_user = first_user;
    for (int i = 0; i < kProducts; ++i) {
        load.products.push_back(pg.insert_product(CommercePg::ProductSpec{
            "exact " + unique_code("N"), 10, 1'000'000, std::string("ranking-exact")}));
    }
    pg.exec("UPDATE users SET balance = 1000000000 WHERE id BETWEEN $1 AND $2",
            {std::to_string(first_user), std::to_string(first_user + kPayments - 1)});
    return load;
}

// One order of 1-3 lines of 1-4 units each, different per payment but fixed by its index.
Lines lines_of(const Load& load, int i) {
    Lines lines;
    const int n = 1 + i % 3;
    for (int j = 0; j < n; ++j) {
        lines.emplace_back(load.products[static_cast<std::size_t>((i * 7 + j * 5) % kProducts)],
                           1 + (i + j) % 4);
    }
    return lines;
}

// Runs the 1,000 create-and-pay calls from 50 clients. `port` may change under it (restarts):
// a call that fails at the socket is retried with the same idempotency key until the server answers.
void run_load(const Load& load, std::atomic<int>& port, std::atomic<int>& answered, std::atomic<int>& paid) {
    std::atomic<int> next{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&] {
            std::optional<HttpClient> client;
            int client_port = 0;
            for (int i = next++; i < kPayments; i = next++) {
                const auto body =
                    order_body(load.first_user + i, lines_of(load, i), std::nullopt, unique_key("exact"));
                const auto give_up = Clock::now() + 90s;
                while (Clock::now() < give_up) {
                    try {
                        if (!client || client_port != port) {
                            client_port = port;
                            client.emplace(client_port, 20s);
                        }
                        const auto r = client->post("/api/orders/complete", body);
                        if (r.status == 201) ++paid;
                        break;
                    } catch (const std::exception&) {
                        client.reset();  // the server died: reconnect once it is back
                        std::this_thread::sleep_for(100ms);
                    }
                }
                ++answered;
            }
        });
    }
    for (auto& t : clients) t.join();
}

void expect_exact(CommercePg& pg, const Load& load) {
    ASSERT_TRUE(wait_published(pg, load.products, 30s)) << "outbox not drained within 30 s";
    RedisAdmin redis;
    const auto truth = db_units(pg, load.products);
    ASSERT_FALSE(truth.empty());
    const auto live = redis_units(redis, truth, load.products);
    EXPECT_EQ(live, truth);
    std::int64_t units = 0;
    for (const auto& [day, per_product] : truth) {
        for (const auto& [product, n] : per_product) units += n;
    }
    std::cout << "[ ranking ] " << truth.size() << " day(s), " << units << " units over " << kProducts
              << " products: Redis equals PostgreSQL\n";

    // The order-completed stream: each paid order of this load exactly once, nothing else of it.
    const auto counts = stream_order_counts(redis);
    const auto paid_orders = pg.scalar(
        "SELECT string_agg(DISTINCT o.id::text, ',') FROM orders o JOIN order_items i ON i.order_id = o.id "
        " WHERE o.status = 'COMPLETED' AND i.product_id = ANY($1::bigint[])",
        {product_list(load.products)});
    std::set<std::int64_t> paid;
    std::stringstream ss(paid_orders.value_or(""));
    for (std::string id; std::getline(ss, id, ',');) paid.insert(std::stoll(id));
    int missing = 0;
    int doubled = 0;
    for (const auto id : paid) {
        const auto it = counts.find(id);
        if (it == counts.end()) {
            ++missing;
        } else if (it->second != 1) {
            ++doubled;
        }
    }
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(doubled, 0);
    const auto unpaid_in_stream = pg.int64(
        "SELECT count(*) FROM orders o WHERE o.status <> 'COMPLETED' AND o.id = ANY($1::bigint[])", {[&] {
            std::vector<std::int64_t> ids;
            for (const auto& [id, n] : counts) ids.push_back(id);
            return product_list(ids);
        }()});
    EXPECT_EQ(unpaid_in_stream, 0);
    std::cout << "[ stream  ] " << paid.size() << " paid orders, each once in order-completed\n";
}

TEST(RankingExactnessE2E, ThousandPaymentsFromFiftyClientsLeaveRedisEqualToTheDatabase) {
    CommercePg pg;
    const auto load = prepare(pg, 8000);
    ServerProcess server;
    server.wait_ready(60s);
    std::atomic<int> port{server.port()};
    std::atomic<int> answered{0};
    std::atomic<int> paid{0};
    run_load(load, port, answered, paid);
    EXPECT_EQ(answered.load(), kPayments);
    EXPECT_EQ(paid.load(), kPayments);
    expect_exact(pg, load);

    // What a crash between the Redis update and the commit that marks the events published leaves
    // behind: every event of the load due again. Republishing them must change nothing.
    const auto replayed = pg.int64(
        "WITH e AS (UPDATE outbox_events SET published_at = NULL WHERE aggregate_id IN "
        "  (SELECT order_id FROM order_items WHERE product_id = ANY($1::bigint[])) RETURNING 1) "
        "SELECT count(*) FROM e",
        {product_list(load.products)});
    EXPECT_EQ(replayed, kPayments);
    expect_exact(pg, load);
    HttpClient client(server.port());
    const auto metrics = client.get("/actuator/prometheus").body;
    const auto duplicates = prometheus_value(metrics, "outbox_events_duplicate_total");
    ASSERT_TRUE(duplicates.has_value()) << metrics;
    EXPECT_GE(*duplicates, kPayments);
}

TEST(RankingExactnessE2E, KillNineTwiceMidLoadStillCountsEveryPaidOrderExactlyOnce) {
    CommercePg pg;
    const auto load = prepare(pg, 9000);
    // A payment cut off by the kill is rolled back by the recovery sweep a second later, so the
    // client's retry with the same key can finish.
    const std::vector<std::string> settings{"payment.stale-after=1s"};
    auto server = std::make_unique<ServerProcess>(settings);
    server->wait_ready(60s);
    const int fixed_port = server->port();
    std::atomic<int> port{fixed_port};
    std::atomic<int> answered{0};
    std::atomic<int> paid{0};
    std::thread load_thread([&] { run_load(load, port, answered, paid); });

    int kills = 0;
    for (const int at : {kPayments / 3, 2 * kPayments / 3}) {
        const auto deadline = Clock::now() + 120s;
        while (answered < at && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
        server->kill9();
        ++kills;
        std::cout << "[ crash   ] SIGKILL " << kills << " after " << answered.load() << " answers\n";
        server = std::make_unique<ServerProcess>(settings, fixed_port);
        server->wait_ready(60s);
    }
    load_thread.join();
    EXPECT_EQ(kills, 2);
    EXPECT_EQ(answered.load(), kPayments);
    std::cout << "[ load    ] " << paid.load() << " of " << kPayments << " answered 201\n";
    EXPECT_GT(paid.load(), kPayments / 2);
    expect_exact(pg, load);
}

}  // namespace
}  // namespace ec::e2e
