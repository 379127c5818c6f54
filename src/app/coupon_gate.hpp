#pragma once
// Port: the FCFS reservation gate of SPEC §7 (implemented in Redis by
// infra/redis/redis_coupon_gate). One atomic step decides a reservation and queues its issue
// request; the issuers (infra/events/coupon_issuer) turn requests into user coupons.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>

#include "app/coupon_repository.hpp"
#include "domain/coupon.hpp"

namespace ec::app {

struct GateReservation {
    enum class Kind { Reserved, AlreadyReserved, AlreadyIssued, SoldOut, NotInitialised };
    Kind kind = Kind::Reserved;
    std::int64_t remaining_after = 0;  // Reserved
};

class CouponGate {
public:
    virtual ~CouponGate() = default;
    // Checks issued/reserved and what is left, takes one unit and queues the issue request, all
    // at once. NotInitialised: the gate has no state for this coupon (first use, or Redis lost it).
    virtual boost::asio::awaitable<GateReservation> reserve(std::int64_t coupon_id, std::int64_t user_id,
                                                            std::int64_t requested_at_ms) = 0;
    // Sets remaining = total - issued and marks the holders issued, unless another caller did it
    // first (then false). The gate's keys expire at `expire_at_ms`.
    virtual boost::asio::awaitable<bool> initialise(std::int64_t coupon_id, const GateSnapshot& snapshot,
                                                    std::int64_t expire_at_ms) = 0;
    // nullopt when the gate knows nothing of this user (never reserved, or Redis lost it).
    virtual boost::asio::awaitable<std::optional<domain::ReservationStatus>> status(std::int64_t coupon_id,
                                                                                    std::int64_t user_id) = 0;
};

// "An issue request was just queued": wakes this instance's issuer at once instead of at its next
// look at the streams.
class IssueRequestSignal {
public:
    virtual ~IssueRequestSignal() = default;
    virtual void notify() noexcept = 0;
};

}  // namespace ec::app
