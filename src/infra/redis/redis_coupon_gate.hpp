#pragma once
// The FCFS reservation gate in Redis (SPEC §7), behind app::CouponGate, plus the issue-request
// queue the issuers work through (infra/events/coupon_issuer).
//
// Keys of coupon N (one hash tag {N}: every script touches one cluster slot):
//   coupon:{N}:remaining       STRING units left to reserve (absent: not initialised)
//   coupon:{N}:users           HASH   userId -> RESERVED | ISSUED | FAILED
//   coupon:{N}:issue-requests  STREAM issue requests {couponId, userId, requestedAt}; consumer group
//                                     coupon-issuers; settled entries are acknowledged and deleted
//   coupon:{N}:attempts        HASH   entry id -> failed attempts (the database answered an error)
//   coupon:{N}:dead-letters    STREAM requests given up on {couponId, userId, requestedAt, entryId, reason}
// All expire together at the coupon's end + coupon.reservation-ttl. The set coupon-issue:coupons
// lists the coupons whose streams the issuers read (added at initialisation).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "app/coupon_gate.hpp"
#include "infra/redis/redis_client.hpp"

namespace ec::infra::redis {

inline constexpr const char* kIssuerGroup = "coupon-issuers";
inline constexpr const char* kActiveCoupons = "coupon-issue:coupons";
std::string coupon_key(std::int64_t coupon_id, const char* part);  // coupon:{N}:<part>

struct IssueRequest {
    std::string entry_id;
    std::int64_t coupon_id = 0;
    std::int64_t user_id = 0;
    std::int64_t requested_at_ms = 0;
};

enum class Settlement { Issued, Cancelled, Compensated };

struct IssueQueueStats {
    std::int64_t length = 0;             // unsettled requests (settled ones are deleted)
    std::int64_t pending = 0;            // delivered to an issuer, not yet settled
    std::int64_t oldest_pending_ms = 0;  // requestedAt-style epoch ms of the oldest pending, 0 if none
    std::int64_t dead_letters = 0;
};

class RedisCouponGate final : public app::CouponGate {
public:
    explicit RedisCouponGate(RedisClient& redis) : redis_(redis) {}

    boost::asio::awaitable<app::GateReservation> reserve(std::int64_t coupon_id, std::int64_t user_id,
                                                         std::int64_t requested_at_ms) override;
    boost::asio::awaitable<bool> initialise(std::int64_t coupon_id, const app::GateSnapshot& snapshot,
                                            std::int64_t expire_at_ms) override;
    boost::asio::awaitable<std::optional<domain::ReservationStatus>> status(std::int64_t coupon_id,
                                                                            std::int64_t user_id) override;

    // --- the issue-request queue ---
    boost::asio::awaitable<std::vector<std::int64_t>> active_coupons();
    // New requests (own_pending = false) or this consumer's unsettled ones (true). An empty result
    // with `gone` set means the coupon's stream or group no longer exists (expired, Redis lost it).
    boost::asio::awaitable<std::vector<IssueRequest>> read(std::int64_t coupon_id,
                                                           const std::string& consumer, bool own_pending,
                                                           int count, bool& gone);
    // Requests idle for `min_idle` in any consumer (a crashed instance's) become this consumer's.
    boost::asio::awaitable<std::vector<IssueRequest>> claim_idle(std::int64_t coupon_id,
                                                                 const std::string& consumer,
                                                                 std::chrono::milliseconds min_idle,
                                                                 int count);
    // True when this call settled the request (false: someone did before).
    boost::asio::awaitable<bool> settle(const IssueRequest& request, Settlement how,
                                        const std::string& reason);
    // Counts a failed attempt; returns the attempts so far.
    boost::asio::awaitable<std::int64_t> record_failure(const IssueRequest& request);
    boost::asio::awaitable<IssueQueueStats> stats(std::int64_t coupon_id);
    // After `gone`: recreates the consumer group if the coupon's gate still exists (true), else
    // drops the coupon from the list the issuers read (false).
    boost::asio::awaitable<bool> repair_or_forget(std::int64_t coupon_id);

private:
    RedisClient& redis_;
};

}  // namespace ec::infra::redis
