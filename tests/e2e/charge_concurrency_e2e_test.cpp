// Concurrent charges (SPEC §8): no lost update, no double charge, same-key requests wait for the
// first and return its response (never 5xx). Users 7100-7119 belong to this file.
#include <algorithm>
#include <set>

#include "e2e/e2e_support.hpp"

namespace ec::e2e {
namespace {

class ChargeConcurrencyE2E : public ServerSuite<ChargeConcurrencyE2E> {};

TEST_F(ChargeConcurrencyE2E, DistinctKeysAllApplyExactlyOnce) {
    constexpr std::int64_t user = 7100;
    constexpr int n = 100;
    Pg pg;
    const std::int64_t initial = pg.balance(user);
    const std::string prefix = unique_key("conc-distinct") + "-";
    auto amount_of = [](int i) -> std::int64_t { return 100 + i; };

    const auto responses = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post(charge_path(user), charge_body(amount_of(i), prefix + std::to_string(i)));
    });

    std::int64_t sum = 0;
    std::set<std::int64_t> balances;
    for (int i = 0; i < n; ++i) {
        sum += amount_of(i);
        const auto& r = responses[static_cast<size_t>(i)];
        ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body;
        const auto v = r.json();
        EXPECT_EQ(as_i64(v.at("userId")), user);
        EXPECT_EQ(as_i64(v.at("chargedAmount")), amount_of(i)) << r.body;
        const std::int64_t balance = as_i64(v.at("balance"));
        EXPECT_GT(balance, initial) << r.body;
        balances.insert(balance);
    }
    // Every charge saw a different post-charge balance (they were serialised, none lost), and the
    // last one saw the full sum.
    EXPECT_EQ(balances.size(), static_cast<size_t>(n));
    EXPECT_EQ(*balances.rbegin(), initial + sum);
    EXPECT_EQ(pg.balance(user), initial + sum);
    EXPECT_EQ(pg.idempotency_rows_with_prefix(user, prefix), n);
    EXPECT_EQ(pg.int64("SELECT count(*) FROM idempotency_records WHERE user_id = $1 AND "
                       "starts_with(idempotency_key, $2) AND status = 'COMPLETED'",
                       {std::to_string(user), prefix}),
              n);

    HttpClient client(port());
    const auto b = client.get(balance_path(user));
    ASSERT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(as_i64(b.json().at("balance")), initial + sum);
}

TEST_F(ChargeConcurrencyE2E, SameKeyConcurrentlyChargesOnceAndAllGetTheSameBody) {
    constexpr std::int64_t user = 7101;
    constexpr int n = 50;
    constexpr std::int64_t amount = 777;
    Pg pg;
    const std::int64_t initial = pg.balance(user);
    const std::string key = unique_key("conc-same");

    const auto responses = parallel(
        port(), n, [&](int, HttpClient& c) { return c.post(charge_path(user), charge_body(amount, key)); });

    int ok = 0;
    int server_errors = 0;
    for (int i = 0; i < n; ++i) {
        const auto& r = responses[static_cast<size_t>(i)];
        if (r.status == 200) ++ok;
        if (r.status >= 500) ++server_errors;
        EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.body;
        EXPECT_EQ(r.body, responses[0].body) << "request " << i;
    }
    EXPECT_EQ(server_errors, 0);
    EXPECT_EQ(ok, n);
    ASSERT_EQ(responses[0].status, 200) << responses[0].body;
    const auto v = responses[0].json();
    EXPECT_EQ(as_i64(v.at("balance")), initial + amount);
    EXPECT_EQ(as_i64(v.at("chargedAmount")), amount);

    EXPECT_EQ(pg.balance(user), initial + amount);
    EXPECT_EQ(pg.idempotency_rows(user, key), 1);
}

TEST_F(ChargeConcurrencyE2E, SameKeyConcurrentlyWithDifferentAmountsChargesOnlyTheWinner) {
    constexpr std::int64_t user = 7102;
    constexpr int n = 20;
    Pg pg;
    const std::int64_t initial = pg.balance(user);
    const std::string key = unique_key("conc-same-diff");
    // Half the requests use 1000, half 2000: exactly one amount wins; the other gets 400 COMMON002.
    auto amount_of = [](int i) -> std::int64_t { return i % 2 == 0 ? 1000 : 2000; };

    const auto responses = parallel(port(), n, [&](int i, HttpClient& c) {
        return c.post(charge_path(user), charge_body(amount_of(i), key));
    });

    std::optional<std::int64_t> winner;
    std::string winner_body;
    for (int i = 0; i < n; ++i) {
        const auto& r = responses[static_cast<size_t>(i)];
        ASSERT_TRUE(r.status == 200 || r.status == 400)
            << "request " << i << ": " << r.status << " " << r.body;
        if (r.status == 200) {
            if (!winner) {
                winner = amount_of(i);
                winner_body = r.body;
            }
            EXPECT_EQ(amount_of(i), *winner) << "both amounts were accepted for one key";
            EXPECT_EQ(r.body, winner_body);
        }
    }
    ASSERT_TRUE(winner.has_value());
    for (int i = 0; i < n; ++i) {
        const auto& r = responses[static_cast<size_t>(i)];
        if (amount_of(i) != *winner) expect_error(r, 400, "COMMON002");
    }
    EXPECT_EQ(pg.balance(user), initial + *winner);
    EXPECT_EQ(pg.idempotency_rows(user, key), 1);
}

}  // namespace
}  // namespace ec::e2e
