#pragma once
// Runs an asynchronous job every `interval` until stopped (stale-payment sweep, ranking backup...).
// A run that throws is logged and the schedule goes on: a background job must not die on the first
// database hiccup. Runs never overlap; stop() cancels the wait and lets a running job finish.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace ec::ops {

class PeriodicTask {
public:
    using Job = std::function<boost::asio::awaitable<void>()>;

    PeriodicTask(boost::asio::io_context& ioc, std::string name, std::chrono::milliseconds interval, Job job);
    ~PeriodicTask();
    void start();
    void stop();

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace ec::ops
