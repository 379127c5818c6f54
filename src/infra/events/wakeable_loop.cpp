#include "infra/events/wakeable_loop.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ec::infra::events {

namespace asio = boost::asio;

WakeableLoop::WakeableLoop(asio::io_context& ioc)
    : strand_(asio::make_strand(ioc)), wake_timer_(strand_), sleep_timer_(strand_) {}

void WakeableLoop::notify(std::shared_ptr<void> keep_alive) noexcept {
    if (woken_.exchange(true)) return;  // a wake-up is already pending
    try {
        asio::post(strand_, [this, keep = std::move(keep_alive)] { wake_timer_.cancel(); });
    } catch (...) {
        // Posting can only fail on allocation; the worker's next poll finds the work.
    }
}

void WakeableLoop::stop(std::shared_ptr<void> keep_alive) {
    if (stopped_.exchange(true)) return;
    asio::post(strand_, [this, keep = std::move(keep_alive)] {
        wake_timer_.cancel();
        sleep_timer_.cancel();
    });
}

asio::awaitable<void> WakeableLoop::idle(std::chrono::milliseconds max) {
    if (woken_ || stopped_) co_return;
    wake_timer_.expires_after(max);
    boost::system::error_code ec;
    co_await wake_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return;
}

asio::awaitable<void> WakeableLoop::sleep(std::chrono::milliseconds d) {
    if (stopped_) co_return;
    sleep_timer_.expires_after(d);
    boost::system::error_code ec;
    co_await sleep_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    co_return;
}

std::chrono::milliseconds WakeableLoop::next_backoff(std::chrono::milliseconds current) {
    return std::clamp(current * 2, std::chrono::milliseconds{100}, std::chrono::milliseconds{5'000});
}

}  // namespace ec::infra::events
