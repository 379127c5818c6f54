#pragma once
// run_on_strand: runs a coroutine on a fresh strand of `ioc` (which other threads are running) and waits for
// its result, rethrowing its exception. Used by tests that drive asynchronous code from gtest bodies.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdlib>
#include <future>

namespace ec::test {

template <class F>
auto run_on_strand(boost::asio::io_context& ioc, F&& f,
                   std::chrono::seconds limit = std::chrono::seconds(30)) {
    auto fut =
        boost::asio::co_spawn(boost::asio::make_strand(ioc), std::forward<F>(f), boost::asio::use_future);
    if (fut.wait_for(limit) != std::future_status::ready) {
        ADD_FAILURE() << "coroutine did not finish within " << limit.count() << " s";
        std::abort();  // the coroutine still references the caller's frame; nothing safe is left to do
    }
    return fut.get();
}

// Starts client(0) .. client(n-1) at once, each on its own strand of `ioc` (which other threads are
// running), and waits for all of them. Returns how many ended with an exception the client did not
// handle itself.
template <class F>
int run_clients(boost::asio::io_context& ioc, int n, F& client, std::chrono::seconds limit) {
    std::atomic<int> remaining{n};
    std::atomic<int> escaped{0};
    std::promise<void> all_done;
    for (int i = 0; i < n; ++i) {
        boost::asio::co_spawn(boost::asio::make_strand(ioc), client(i), [&](std::exception_ptr e) {
            if (e) ++escaped;
            if (--remaining == 0) all_done.set_value();
        });
    }
    if (all_done.get_future().wait_for(limit) != std::future_status::ready) {
        ADD_FAILURE() << remaining.load() << " of " << n << " clients did not finish within " << limit.count()
                      << " s (deadlock, or a waiter left hanging?)";
        std::abort();  // the clients still reference the caller's frame
    }
    return escaped.load();
}

// Runs a coroutine on a private single-threaded io_context until it finishes (for unit tests of
// use cases over in-memory fakes); rethrows its exception.
template <class T>
T run_to_completion(boost::asio::awaitable<T> task) {
    boost::asio::io_context ioc;
    auto fut = boost::asio::co_spawn(ioc, std::move(task), boost::asio::use_future);
    ioc.run();
    return fut.get();
}

}  // namespace ec::test
