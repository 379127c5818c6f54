#include "ops/periodic_task.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ec::ops {

namespace asio = boost::asio;

struct PeriodicTask::State {
    State(asio::io_context& ioc, std::string n, std::chrono::milliseconds i, Job j)
        : strand(asio::make_strand(ioc)), timer(strand), name(std::move(n)), interval(i), job(std::move(j)) {}
    asio::strand<asio::io_context::executor_type> strand;
    asio::steady_timer timer;
    std::string name;
    std::chrono::milliseconds interval;
    Job job;
    std::atomic<bool> stopped{false};
};

PeriodicTask::PeriodicTask(asio::io_context& ioc, std::string name, std::chrono::milliseconds interval,
                           Job job)
    : state_(std::make_shared<State>(ioc, std::move(name), interval, std::move(job))) {}

PeriodicTask::~PeriodicTask() {
    stop();
}

void PeriodicTask::start() {
    asio::co_spawn(
        state_->strand,
        [state = state_]() -> asio::awaitable<void> {
            while (!state->stopped) {
                state->timer.expires_after(state->interval);
                boost::system::error_code ec;
                co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
                if (state->stopped) break;
                try {
                    co_await state->job();
                } catch (const std::exception& e) {
                    spdlog::warn("{}: run failed, retrying in {} ms: {}", state->name,
                                 state->interval.count(), e.what());
                }
            }
            co_return;
        },
        asio::detached);
}

void PeriodicTask::stop() {
    if (state_->stopped.exchange(true)) return;
    asio::post(state_->strand, [state = state_] { state->timer.cancel(); });
}

}  // namespace ec::ops
