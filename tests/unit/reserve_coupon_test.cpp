// The FCFS reservation use cases with in-memory fakes of the ports: validation order and codes,
// the gate initialised once from the database snapshot, the sequence number, the catalogue serving
// stale coupons while the database is down, the user directory's memory, and the status fallback.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>
#include <set>

#include "app/errors.hpp"
#include "app/get_reservation_status.hpp"
#include "app/reserve_coupon.hpp"
#include "domain/error.hpp"
#include "domain/local_time.hpp"
#include "ops/metrics.hpp"
#include "support/run_on_strand.hpp"

namespace ec::app {
namespace {

using boost::asio::awaitable;
using domain::ErrorCode;

template <class T>
T run(awaitable<T> task) {
    return test::run_to_completion(std::move(task));
}

class FakeUsers : public UserRepository {
public:
    std::set<std::int64_t> ids{1, 2, 3, 4, 5};
    int lookups = 0;
    bool down = false;
    awaitable<std::optional<domain::User>> find_by_id(std::int64_t id) override {
        ++lookups;
        if (down) throw DependencyUnavailable("postgres down");
        if (!ids.contains(id)) co_return std::nullopt;
        co_return domain::User{id, "u", "u@x", 0};
    }
    awaitable<std::vector<std::int64_t>> ids_after(std::int64_t after, int limit) override {
        std::vector<std::int64_t> out;
        for (auto it = ids.upper_bound(after); it != ids.end() && static_cast<int>(out.size()) < limit; ++it)
            out.push_back(*it);
        co_return out;
    }
    awaitable<ChargeOutcome> charge(std::int64_t, const std::string&, std::int64_t, std::int64_t) override {
        co_return ChargeOutcome{};
    }
};

class FakeCoupons : public CouponRepository {
public:
    std::map<std::int64_t, domain::Coupon> coupons;
    std::set<std::pair<std::int64_t, std::int64_t>> held;  // (user, coupon)
    int finds = 0;
    int snapshots = 0;
    bool down = false;

    awaitable<IssueOutcome> issue(std::int64_t, std::int64_t) override { co_return IssueOutcome{}; }
    awaitable<std::optional<domain::Coupon>> find(std::int64_t id) override {
        ++finds;
        if (down) throw DependencyUnavailable("postgres down");
        const auto it = coupons.find(id);
        if (it == coupons.end()) co_return std::nullopt;
        co_return it->second;
    }
    awaitable<std::optional<std::vector<domain::UserCoupon>>> of_user(
        std::int64_t, std::optional<domain::UserCouponStatus>) override {
        co_return std::nullopt;
    }
    awaitable<ReservedIssue> issue_reserved(std::int64_t, std::int64_t) override {
        co_return ReservedIssue::Issued;
    }
    awaitable<void> flush_issues() override { co_return; }
    awaitable<std::optional<GateSnapshot>> gate_snapshot(std::int64_t id) override {
        ++snapshots;
        if (down) throw DependencyUnavailable("postgres down");
        const auto it = coupons.find(id);
        if (it == coupons.end()) co_return std::nullopt;
        GateSnapshot s{it->second.total_quantity, it->second.issued_quantity, it->second.end_at_us, {}};
        for (const auto& [user, coupon] : held)
            if (coupon == id) s.holders.push_back(user);
        co_return s;
    }
    awaitable<bool> holds(std::int64_t user, std::int64_t coupon) override {
        if (down) throw DependencyUnavailable("postgres down");
        co_return held.contains({user, coupon});
    }
};

// The Lua script's rules, in memory.
class FakeGate : public CouponGate {
public:
    struct State {
        std::int64_t remaining = 0;
        std::map<std::int64_t, domain::ReservationStatus> users;
        std::int64_t expire_at_ms = 0;
    };
    std::map<std::int64_t, State> gates;
    bool down = false;
    int queued = 0;

    awaitable<GateReservation> reserve(std::int64_t coupon, std::int64_t user, std::int64_t) override {
        if (down) throw DependencyUnavailable("redis down");
        const auto it = gates.find(coupon);
        if (it == gates.end()) co_return GateReservation{GateReservation::Kind::NotInitialised, 0};
        auto& g = it->second;
        const auto u = g.users.find(user);
        if (u != g.users.end() && u->second == domain::ReservationStatus::Reserved)
            co_return GateReservation{GateReservation::Kind::AlreadyReserved, 0};
        if (u != g.users.end() && u->second == domain::ReservationStatus::Issued)
            co_return GateReservation{GateReservation::Kind::AlreadyIssued, 0};
        if (g.remaining <= 0) co_return GateReservation{GateReservation::Kind::SoldOut, 0};
        g.users[user] = domain::ReservationStatus::Reserved;
        ++queued;
        co_return GateReservation{GateReservation::Kind::Reserved, --g.remaining};
    }
    awaitable<bool> initialise(std::int64_t coupon, const GateSnapshot& s,
                               std::int64_t expire_at_ms) override {
        if (down) throw DependencyUnavailable("redis down");
        if (gates.contains(coupon)) co_return false;
        auto& g = gates[coupon];
        g.remaining = s.total - s.issued;
        g.expire_at_ms = expire_at_ms;
        for (const auto h : s.holders) g.users[h] = domain::ReservationStatus::Issued;
        co_return true;
    }
    awaitable<std::optional<domain::ReservationStatus>> status(std::int64_t coupon,
                                                               std::int64_t user) override {
        if (down) throw DependencyUnavailable("redis down");
        const auto it = gates.find(coupon);
        if (it == gates.end()) co_return std::nullopt;
        const auto u = it->second.users.find(user);
        if (u == it->second.users.end()) co_return std::nullopt;
        co_return u->second;
    }
};

class CountingSignal : public IssueRequestSignal {
public:
    int notified = 0;
    void notify() noexcept override { ++notified; }
};

constexpr std::int64_t kDayUs = 24LL * 3600 * 1'000'000;

class ReserveCouponTest : public ::testing::Test {
protected:
    ReserveCouponTest() {
        coupons.coupons[10] = domain::Coupon{
            10, "ten", 10, 3, 1, domain::epoch_us_now() - kDayUs, domain::epoch_us_now() + kDayUs};
        coupons.held.insert({5, 10});
        coupons.coupons[20] = domain::Coupon{
            20, "old", 10, 3, 0, domain::epoch_us_now() - 2 * kDayUs, domain::epoch_us_now() - kDayUs};
        coupons.coupons[30] = domain::Coupon{
            30, "later", 10, 3, 0, domain::epoch_us_now() + kDayUs, domain::epoch_us_now() + 2 * kDayUs};
    }

    ErrorCode refusal(std::int64_t coupon, std::int64_t user) {
        try {
            run(reserve.execute(coupon, user));
        } catch (const domain::DomainError& e) {
            return e.code();
        }
        ADD_FAILURE() << "coupon " << coupon << " user " << user << " was reserved";
        return ErrorCode::Internal;
    }

    FakeUsers users;
    FakeCoupons coupons;
    FakeGate gate;
    CountingSignal signal;
    ops::MetricsRegistry metrics;
    UserDirectory directory{users, std::chrono::milliseconds{60'000}};
    CouponCatalog catalog{coupons, std::chrono::milliseconds{60'000}};
    ReserveCoupon reserve{ReserveCoupon::Deps{directory, catalog, coupons, gate, signal}, metrics,
                          std::chrono::hours{24}};
    GetReservationStatus status{directory, catalog, coupons, gate};
};

TEST_F(ReserveCouponTest, TheFirstReservationInitialisesTheGateFromTheDatabaseOnce) {
    const auto a = run(reserve.execute(10, 1));
    EXPECT_EQ(a.sequence, 2);  // one unit was issued before the gate existed
    EXPECT_EQ(a.coupon_id, 10);
    EXPECT_EQ(a.user_id, 1);
    EXPECT_EQ(run(reserve.execute(10, 2)).sequence, 3);
    EXPECT_EQ(coupons.snapshots, 1);
    EXPECT_EQ(gate.queued, 2);
    EXPECT_EQ(signal.notified, 2);
    // The gate's keys outlive the coupon's end by the configured time.
    EXPECT_EQ(gate.gates[10].expire_at_ms, coupons.coupons[10].end_at_us / 1000 + 24LL * 3600 * 1000);
}

TEST_F(ReserveCouponTest, RefusalsCarryTheSpecCodes) {
    EXPECT_EQ(refusal(10, 99), ErrorCode::UserNotFound);
    EXPECT_EQ(refusal(99, 1), ErrorCode::InvalidCoupon);
    EXPECT_EQ(refusal(20, 1), ErrorCode::CouponExpired);
    EXPECT_EQ(refusal(30, 1), ErrorCode::CouponExpired);
    EXPECT_EQ(refusal(10, 5), ErrorCode::CouponAlreadyIssued);  // holder from the snapshot
    run(reserve.execute(10, 1));
    EXPECT_EQ(refusal(10, 1), ErrorCode::CouponAlreadyIssued);  // reserved
    run(reserve.execute(10, 2));
    EXPECT_EQ(refusal(10, 3), ErrorCode::CouponSoldOut);
    EXPECT_EQ(gate.queued, 2);
    EXPECT_EQ(signal.notified, 2);
}

TEST_F(ReserveCouponTest, RedisDownIsDependencyUnavailableWithNothingQueued) {
    gate.down = true;
    EXPECT_THROW(run(reserve.execute(10, 1)), DependencyUnavailable);
    EXPECT_EQ(signal.notified, 0);
    const auto text = metrics.render_prometheus();
    EXPECT_NE(text.find("coupon_reservation_total{result=\"unavailable\"} 1"), std::string::npos) << text;
}

TEST_F(ReserveCouponTest, ValidationNeedsNoDatabaseOnceWarm) {
    run(directory.load());
    run(reserve.execute(10, 1));
    const auto lookups = users.lookups;
    const auto finds = coupons.finds;
    coupons.down = true;
    users.down = true;
    EXPECT_EQ(run(reserve.execute(10, 2)).sequence, 3);  // from memory
    EXPECT_EQ(users.lookups, lookups);
    EXPECT_EQ(coupons.finds, finds);
}

TEST(CouponCatalogTest, ServesTheLastKnownCouponWhileTheDatabaseIsDown) {
    FakeCoupons coupons;
    coupons.coupons[1] = domain::Coupon{1, "c", 10, 5, 0, 0, domain::epoch_us_now() + kDayUs};
    CouponCatalog catalog(coupons, std::chrono::milliseconds{0});  // every call refreshes
    EXPECT_TRUE(run(catalog.find(1)).has_value());
    coupons.down = true;
    const auto stale = run(catalog.find(1));
    ASSERT_TRUE(stale.has_value());
    EXPECT_EQ(stale->name, "c");
    // Never seen before and the database is down: the outage shows.
    EXPECT_THROW(run(catalog.find(2)), DependencyUnavailable);
    coupons.down = false;
    coupons.coupons[1].name = "renamed";
    EXPECT_EQ(run(catalog.find(1))->name, "renamed");
    EXPECT_FALSE(run(catalog.find(2)).has_value());
}

TEST(UserDirectoryTest, RemembersKnownUsersAndForgetsAbsentOnesAfterTheirTtl) {
    FakeUsers users;
    UserDirectory directory(users, std::chrono::milliseconds{0});
    run(directory.load());
    EXPECT_EQ(directory.known(), 5u);
    EXPECT_TRUE(run(directory.exists(3)));
    EXPECT_EQ(users.lookups, 0);
    EXPECT_FALSE(run(directory.exists(7)));
    users.ids.insert(7);  // seeded later: found once the "no" expired (ttl 0 here)
    EXPECT_TRUE(run(directory.exists(7)));
    EXPECT_EQ(users.lookups, 2);
    users.down = true;
    EXPECT_TRUE(run(directory.exists(7)));  // known now: no lookup
    EXPECT_THROW(run(directory.exists(8)), DependencyUnavailable);
}

TEST_F(ReserveCouponTest, StatusComesFromTheGateThenTheDatabase) {
    EXPECT_EQ(run(status.execute(10, 5)), domain::ReservationStatus::Issued);  // no gate yet: database
    EXPECT_EQ(run(status.execute(10, 1)), domain::ReservationStatus::None);
    run(reserve.execute(10, 1));
    EXPECT_EQ(run(status.execute(10, 1)), domain::ReservationStatus::Reserved);
    gate.down = true;
    EXPECT_EQ(run(status.execute(10, 5)), domain::ReservationStatus::Issued);
    EXPECT_THROW(run(status.execute(10, 1)), DependencyUnavailable);  // in flight: cannot tell
}

}  // namespace
}  // namespace ec::app
