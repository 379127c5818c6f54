#pragma once
// The wake-up machinery of the background workers (the outbox relay, the coupon issuer): a strand
// their rounds run on, an idle wait that notify() cuts short, a sleep it does not (linger and
// back-off), and stop(). Each worker owns one and writes its own loop:
//
//   while (!loop.stopped()) {
//       loop.begin_round();                       // notifications from here on end the next idle()
//       ... one round; on an outage: co_await loop.sleep(backoff = WakeableLoop::next_backoff(backoff))
//       co_await loop.idle(poll_interval);        // at once if notified during the round
//   }
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>

namespace ec::infra::events {

class WakeableLoop {
public:
    using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

    explicit WakeableLoop(boost::asio::io_context& ioc);

    Strand& strand() { return strand_; }
    bool stopped() const { return stopped_.load(); }

    // Any thread. Cheap when a wake-up is already pending. `keep_alive` (the worker's state, which
    // owns this loop) is held until the posted wake-up has run.
    void notify(std::shared_ptr<void> keep_alive) noexcept;
    // Any thread. Ends the current idle() and sleep(); the worker's loop then sees stopped().
    void stop(std::shared_ptr<void> keep_alive);

    // On the strand. Forgets notifications received before this point.
    void begin_round() { woken_ = false; }
    // On the strand. Waits up to `max`, returning early on notify() or stop(); returns at once when
    // notified since begin_round().
    boost::asio::awaitable<void> idle(std::chrono::milliseconds max);
    // On the strand. Waits `d`; only stop() ends it early.
    boost::asio::awaitable<void> sleep(std::chrono::milliseconds d);

    // Back-off after a failed round: 100 ms, doubling, at most 5 s.
    static std::chrono::milliseconds next_backoff(std::chrono::milliseconds current);

private:
    Strand strand_;
    boost::asio::steady_timer wake_timer_;   // cancelled by notify()
    boost::asio::steady_timer sleep_timer_;  // cancelled by stop() only
    std::atomic<bool> woken_{false};
    std::atomic<bool> stopped_{false};
};

}  // namespace ec::infra::events
