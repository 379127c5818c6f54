#pragma once
// Helpers of the FCFS reservation tests (SPEC §7): paths, many reservations from many clients at
// once with a tally of the answers, waiting for the issuers, the Redis keys of a coupon, and the
// exact-count invariant checked in PostgreSQL.
//
// Every test inserts its own coupon, so users can be shared between tests: a reservation touches
// no balance. The tests use load-test users (1000-4999, 200000-200099, 300000-309999), never the
// commerce tests' 5000-5999.
#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/commerce_support.hpp"
#include "support/redis_admin.hpp"

namespace ec::e2e {

using Clock = std::chrono::steady_clock;

inline std::string reserve_path(std::int64_t coupon) {
    return "/api/coupons/" + std::to_string(coupon) + "/reserve";
}
inline std::string reservation_path(std::int64_t coupon, std::int64_t user) {
    return "/api/coupons/" + std::to_string(coupon) + "/reservations/" + std::to_string(user);
}
inline std::string coupon_redis_key(std::int64_t coupon, const std::string& part) {
    return "coupon:{" + std::to_string(coupon) + "}:" + part;
}

// The reservation status of `user` ("NONE", "ISSUED", ...), or "HTTP <status> <body>" when the
// endpoint did not answer 200.
inline std::string status_of(HttpClient& client, std::int64_t coupon, std::int64_t user) {
    const auto r = client.get(reservation_path(coupon, user));
    if (r.status != 200) return "HTTP " + std::to_string(r.status) + " " + r.body;
    return str(r.json().at("status"));
}

inline std::vector<std::int64_t> user_range(std::int64_t first, int count) {
    std::vector<std::int64_t> users;
    for (int i = 0; i < count; ++i) users.push_back(first + i);
    return users;
}

// What a burst of reservations was answered.
struct ReserveTally {
    std::map<int, int> by_status;           // HTTP status -> answers
    std::map<std::string, int> by_code;     // error code -> answers
    std::vector<std::int64_t> sequences;    // of the 200s
    std::vector<std::int64_t> winners;      // users answered 200
    std::vector<std::int64_t> interrupted;  // users whose call failed at the socket
    std::vector<std::string> unexpected;    // bodies of 5xx and malformed answers

    int count(int status) const {
        const auto it = by_status.find(status);
        return it == by_status.end() ? 0 : it->second;
    }
    int code(const std::string& c) const {
        const auto it = by_code.find(c);
        return it == by_code.end() ? 0 : it->second;
    }
    int server_errors() const {
        int n = 0;
        for (const auto& [status, c] : by_status) n += status >= 500 ? c : 0;
        return n;
    }
    void add(const ReserveTally& other) {
        for (const auto& [k, v] : other.by_status) by_status[k] += v;
        for (const auto& [k, v] : other.by_code) by_code[k] += v;
        sequences.insert(sequences.end(), other.sequences.begin(), other.sequences.end());
        winners.insert(winners.end(), other.winners.begin(), other.winners.end());
        interrupted.insert(interrupted.end(), other.interrupted.begin(), other.interrupted.end());
        unexpected.insert(unexpected.end(), other.unexpected.begin(), other.unexpected.end());
    }
    std::string summary() const {
        std::string s;
        for (const auto& [status, c] : by_status)
            s += std::to_string(status) + ": " + std::to_string(c) + "  ";
        for (const auto& [code, c] : by_code) s += code + ": " + std::to_string(c) + "  ";
        if (!interrupted.empty()) s += "interrupted: " + std::to_string(interrupted.size());
        return s;
    }
};

// One reservation; records its answer in `tally`.
inline void reserve_once(HttpClient& client, std::int64_t coupon, std::int64_t user, ReserveTally& tally) {
    HttpResponse r;
    try {
        r = client.post(reserve_path(coupon), user_id_body(user));
    } catch (const std::exception&) {
        tally.interrupted.push_back(user);
        client.close();
        return;
    }
    ++tally.by_status[r.status];
    try {
        const auto v = r.json();
        if (r.status == 200) {
            tally.sequences.push_back(as_i64(v.at("sequenceNumber")));
            tally.winners.push_back(user);
        } else {
            ++tally.by_code[std::string(v.at("code").as_string())];
        }
    } catch (const std::exception&) {
        tally.unexpected.push_back(std::to_string(r.status) + " " + r.body);
        return;
    }
    if (r.status >= 500) tally.unexpected.push_back(std::to_string(r.status) + " " + r.body);
}

// Reserves `coupon` once for every entry of `users` (duplicates allowed), from `clients` threads,
// each with its own keep-alive connection, all starting together.
inline ReserveTally reserve_all(int port, std::int64_t coupon, const std::vector<std::int64_t>& users,
                                int clients) {
    std::atomic<std::size_t> next{0};
    std::atomic<int> ready{0};
    std::mutex mutex;
    ReserveTally total;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&] {
            HttpClient client(port, 10s);
            ReserveTally mine;
            ++ready;
            while (ready.load() < clients) std::this_thread::yield();
            for (auto i = next++; i < users.size(); i = next++) reserve_once(client, coupon, users[i], mine);
            const std::scoped_lock lock(mutex);
            total.add(mine);
        });
    }
    for (auto& t : threads) t.join();
    return total;
}

// Unsettled issue requests of the coupon (settled ones are deleted from the stream).
inline long long unsettled(RedisAdmin& redis, std::int64_t coupon) {
    return redis.command({"XLEN", coupon_redis_key(coupon, "issue-requests")}).integer;
}

// Waits until every issue request of the coupon is settled; false on timeout.
inline bool wait_settled(RedisAdmin& redis, std::int64_t coupon, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (unsettled(redis, coupon) == 0) return true;
        std::this_thread::sleep_for(20ms);
    }
    return unsettled(redis, coupon) == 0;
}

// Users holding the coupon in PostgreSQL, ascending.
inline std::vector<std::int64_t> holders(Pg& pg, std::int64_t coupon) {
    const auto text = pg.scalar(
        "SELECT COALESCE(string_agg(user_id::text, ',' ORDER BY user_id), '') FROM user_coupons WHERE "
        "coupon_id = $1",
        {std::to_string(coupon)});
    std::vector<std::int64_t> out;
    const std::string s = text.value_or("");
    std::size_t pos = 0;
    while (pos < s.size()) {
        auto end = s.find(',', pos);
        if (end == std::string::npos) end = s.size();
        out.push_back(std::stoll(s.substr(pos, end - pos)));
        pos = end + 1;
    }
    return out;
}

inline std::vector<std::int64_t> sorted(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// The exact-count invariant: the coupon's counter, its user coupons and the users answered 200
// are the same `expected` users, each once.
inline void expect_issued_exactly(CommercePg& pg, std::int64_t coupon,
                                  const std::vector<std::int64_t>& winners, std::size_t expected) {
    const auto held = holders(pg, coupon);
    EXPECT_EQ(held.size(), expected);
    EXPECT_EQ(pg.issued_quantity(coupon), static_cast<std::int64_t>(expected));
    EXPECT_EQ(std::set<std::int64_t>(held.begin(), held.end()).size(), held.size())
        << "a user holds it twice";
    EXPECT_EQ(sorted(winners), held) << "the users answered 200 are not the users holding the coupon";
}

// 1..n, each once.
inline void expect_sequences_one_to(std::vector<std::int64_t> sequences, std::int64_t from, std::int64_t to) {
    std::sort(sequences.begin(), sequences.end());
    std::vector<std::int64_t> want;
    for (auto i = from; i <= to; ++i) want.push_back(i);
    EXPECT_EQ(sequences, want);
}

}  // namespace ec::e2e
