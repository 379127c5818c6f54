// RedisClient against a real redis-server (started by scripts/test.sh): commands and reply types,
// pipelining under concurrency, EVALSHA/NOSCRIPT, timeouts, and recovery from a Redis restart.
#include "infra/redis/redis_client.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ops/circuit_breaker.hpp"
#include "ops/metrics.hpp"
#include "support/test_env.hpp"

namespace ec::infra::redis {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
// Note: GCC 12 rejects a braced list inside a co_await expression ("array used as initializer"),
// so the coroutines below build their argument vectors in a statement of their own.
using Clock = std::chrono::steady_clock;

// Keys are namespaced per process so parallel or repeated runs sharing one Redis never collide.
std::string key(const std::string& suffix) {
    return "ec:test:redis_client:" + std::to_string(::getpid()) + ":" + suffix;
}

// The application's threading model in miniature: one io_context, two threads, every caller a
// coroutine on its own strand.
class RedisClientTest : public ::testing::Test {
protected:
    void SetUp() override {
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
    }

    void TearDown() override {
        for (auto& c : clients_) c->stop();
        clients_.clear();
        work_.reset();
        for (auto& t : threads_) t.join();
    }

    static ops::RedisConfig redis_config(std::string url = {}) {
        ops::RedisConfig c;
        c.url = url.empty() ? ec::test::test_env().redis_url : std::move(url);
        c.timeout = 1000ms;
        c.pool_size = 2;
        return c;
    }

    static ops::BreakerConfig breaker_config() {
        ops::BreakerConfig c;
        c.failure_threshold = 3;
        c.wait_in_open = 300ms;
        c.half_open_max_calls = 1;
        c.success_threshold = 1;
        return c;
    }

    RedisClient& make_client(const ops::RedisConfig& config, ops::CircuitBreaker& breaker, bool wait = true) {
        clients_.push_back(std::make_unique<RedisClient>(ioc_, config, breaker, metrics_));
        RedisClient& client = *clients_.back();
        client.start();
        if (wait) {
            const auto deadline = Clock::now() + 5s;
            while (!client.connected() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
            EXPECT_TRUE(client.connected()) << "no connection to " << config.url << " within 5 s";
        }
        return client;
    }

    // Runs a coroutine on a fresh strand and waits for its result (rethrowing its exception).
    template <class F>
    auto run(F&& f, std::chrono::seconds limit = 60s) {
        auto fut = asio::co_spawn(asio::make_strand(ioc_), std::forward<F>(f), asio::use_future);
        if (fut.wait_for(limit) != std::future_status::ready) {
            ADD_FAILURE() << "coroutine did not finish within " << limit.count() << " s";
            std::abort();  // the coroutine still references this frame; nothing safe is left to do
        }
        return fut.get();
    }

    Reply cmd(RedisClient& client, std::vector<std::string> args) {
        return run([&client, args = std::move(args)]() mutable -> asio::awaitable<Reply> {
            co_return co_await client.command(std::move(args));
        });
    }

    double metric(const std::string& name, const ops::Labels& labels) {
        return metrics_.counter(name, "", labels).value();
    }

    asio::io_context ioc_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ioc_.get_executor()};
    std::vector<std::thread> threads_;
    ops::MetricsRegistry metrics_;
    std::vector<std::unique_ptr<RedisClient>> clients_;
};

TEST_F(RedisClientTest, BasicCommandsAndReplyTypes) {
    ops::CircuitBreaker breaker("redis", breaker_config());
    RedisClient& client = make_client(redis_config(), breaker);
    const std::string k = key("basic"), counter = key("counter"), list = key("list");
    cmd(client, {"DEL", k, counter, list});

    Reply r = cmd(client, {"SET", k, "hello"});
    EXPECT_EQ(r.type, Reply::Type::Status);
    EXPECT_EQ(r.str, "OK");

    r = cmd(client, {"GET", k});
    EXPECT_EQ(r.type, Reply::Type::String);
    EXPECT_EQ(r.str, "hello");

    r = cmd(client, {"GET", key("missing")});
    EXPECT_TRUE(r.is_nil());

    r = cmd(client, {"INCR", counter});
    EXPECT_EQ(r.type, Reply::Type::Integer);
    EXPECT_EQ(r.integer, 1);
    r = cmd(client, {"INCRBY", counter, "41"});
    EXPECT_EQ(r.integer, 42);

    // An error reply is an answer, not an outage: no exception, and the breaker counts a success.
    r = cmd(client, {"INCR", k});
    EXPECT_TRUE(r.is_error());
    EXPECT_TRUE(r.str.starts_with("ERR")) << r.str;
    r = cmd(client, {"NO_SUCH_COMMAND"});
    EXPECT_TRUE(r.is_error());
    EXPECT_EQ(breaker.state(), ops::CircuitBreaker::State::Closed);

    // Binary-safe arguments and values.
    const std::string binary("a\0b\r\n$3\r\n", 10);
    cmd(client, {"SET", k, binary});
    EXPECT_EQ(cmd(client, {"GET", k}).str, binary);

    cmd(client, {"RPUSH", list, "a", "b", "c"});
    r = cmd(client, {"LRANGE", list, "0", "-1"});
    ASSERT_EQ(r.type, Reply::Type::Array);
    ASSERT_EQ(r.elements.size(), 3u);
    EXPECT_EQ(r.elements[0].str, "a");
    EXPECT_EQ(r.elements[2].str, "c");
    EXPECT_EQ(cmd(client, {"LRANGE", key("missing"), "0", "-1"}).elements.size(), 0u);

    // Nested arrays with mixed element types (converted recursively).
    r = cmd(client, {"EVAL", "return {1, 'two', {3, false}}", "0"});
    ASSERT_EQ(r.type, Reply::Type::Array);
    ASSERT_EQ(r.elements.size(), 3u);
    EXPECT_EQ(r.elements[0].integer, 1);
    EXPECT_EQ(r.elements[1].str, "two");
    ASSERT_EQ(r.elements[2].type, Reply::Type::Array);
    EXPECT_EQ(r.elements[2].elements[0].integer, 3);
    EXPECT_TRUE(r.elements[2].elements[1].is_nil());

    EXPECT_TRUE(run([&client]() -> asio::awaitable<bool> { co_return co_await client.ping(); }));
    EXPECT_GE(metric("redis.commands", {{"result", "success"}}), 10.0);
    EXPECT_EQ(metric("redis.commands", {{"result", "error_reply"}}), 2.0);
    EXPECT_EQ(metric("redis.commands", {{"result", "unavailable"}}), 0.0);

    cmd(client, {"DEL", k, counter, list});
}

TEST_F(RedisClientTest, ManyConcurrentCoroutinesArePipelinedCorrectly) {
    ops::CircuitBreaker breaker("redis", breaker_config());
    auto config = redis_config();
    config.timeout = 10s;  // generous for sanitizer builds: this test is about correctness
    RedisClient& client = make_client(config, breaker);

    constexpr int kCoroutines = 200;
    constexpr int kPerCoroutine = 50;  // 10,000 commands in flight from many strands at once
    std::atomic<int> wrong{0}, failed{0}, done{0};
    std::promise<void> all_done;

    for (int c = 0; c < kCoroutines; ++c) {
        asio::co_spawn(
            asio::make_strand(ioc_),
            [&, c]() -> asio::awaitable<void> {
                const std::string counter = key("pipe:ctr:" + std::to_string(c));
                const std::string value_key = key("pipe:val:" + std::to_string(c));
                const std::vector<std::string> del{"DEL", counter, value_key};
                try {
                    co_await client.command(del);
                    for (int i = 1; i <= kPerCoroutine; ++i) {
                        // Alternate command shapes so a reply handed to the wrong caller shows up
                        // as a wrong type or value.
                        if (i % 2 == 1) {
                            std::vector<std::string> incr{"INCR", counter};
                            Reply r = co_await client.command(std::move(incr));
                            if (r.type != Reply::Type::Integer || r.integer != (i + 1) / 2) ++wrong;
                        } else {
                            const std::string v = std::to_string(c) + ":" + std::to_string(i);
                            std::vector<std::string> set{"SET", value_key, v}, get{"GET", value_key};
                            co_await client.command(std::move(set));
                            Reply r = co_await client.command(std::move(get));
                            if (r.type != Reply::Type::String || r.str != v) ++wrong;
                        }
                    }
                    co_await client.command(del);
                } catch (const std::exception&) {
                    ++failed;
                }
                if (++done == kCoroutines) all_done.set_value();
            },
            asio::detached);
    }
    ASSERT_EQ(all_done.get_future().wait_for(60s), std::future_status::ready);
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(breaker.state(), ops::CircuitBreaker::State::Closed);

    // And a burst launched all at once (not one-at-a-time per coroutine) so writes really batch.
    std::vector<std::future<Reply>> futures;
    const std::string burst = key("burst");
    cmd(client, {"DEL", burst});
    for (int i = 0; i < 10'000; ++i) {
        futures.push_back(asio::co_spawn(
            asio::make_strand(ioc_),
            [&client, &burst]() -> asio::awaitable<Reply> {
                std::vector<std::string> incr{"INCR", burst};
                co_return co_await client.command(std::move(incr));
            },
            asio::use_future));
    }
    std::vector<bool> seen(10'001, false);
    int bad = 0;
    for (auto& f : futures) {
        ASSERT_EQ(f.wait_for(60s), std::future_status::ready);
        const Reply r = f.get();
        if (r.type != Reply::Type::Integer || r.integer < 1 || r.integer > 10'000 || seen[r.integer]) {
            ++bad;
        } else {
            seen[r.integer] = true;
        }
    }
    EXPECT_EQ(bad, 0) << "every INCR must get a distinct value in 1..10000";
    EXPECT_EQ(cmd(client, {"GET", burst}).str, "10000");
    cmd(client, {"DEL", burst});
}

TEST_F(RedisClientTest, EvalFallsBackToEvalAfterScriptFlush) {
    ops::CircuitBreaker breaker("redis", breaker_config());
    RedisClient& client = make_client(redis_config(), breaker);
    const LuaScript& script = lua_script("ping_echo");
    EXPECT_EQ(script.name, "ping_echo");
    ASSERT_EQ(script.sha1.size(), 40u);

    // Our SHA-1 must be the one Redis computes, or every EVALSHA would miss.
    Reply loaded = cmd(client, {"SCRIPT", "LOAD", script.source});
    EXPECT_EQ(loaded.str, script.sha1);

    cmd(client, {"SCRIPT", "FLUSH"});
    auto eval = [&](std::string arg) {
        return run([&client, &script, arg]() -> asio::awaitable<Reply> {
            std::vector<std::string> args{arg};
            co_return co_await client.eval(script, {}, std::move(args));
        });
    };
    Reply r = eval("hello");
    EXPECT_EQ(r.type, Reply::Type::String);
    EXPECT_EQ(r.str, "hello");
    // The fallback EVAL cached the script again: the next call is a plain EVALSHA hit.
    Reply exists = cmd(client, {"SCRIPT", "EXISTS", script.sha1});
    ASSERT_EQ(exists.elements.size(), 1u);
    EXPECT_EQ(exists.elements[0].integer, 1);
    EXPECT_EQ(eval("again").str, "again");

    EXPECT_THROW(lua_script("no_such_script"), std::out_of_range);
}

// test_env().redis_url with its "/db" suffix replaced, and optionally credentials added.
std::string url_with(const std::string& userinfo, int db) {
    std::string base = ec::test::test_env().redis_url;  // redis://host:port/0
    base = base.substr(0, base.rfind('/'));
    if (!userinfo.empty()) base.insert(std::string("redis://").size(), userinfo + "@");
    return base + "/" + std::to_string(db);
}

TEST_F(RedisClientTest, SelectsTheDatabaseFromTheUrl) {
    ops::CircuitBreaker breaker("redis", breaker_config());
    RedisClient& db0 = make_client(redis_config(url_with("", 0)), breaker);
    RedisClient& db3 = make_client(redis_config(url_with("", 3)), breaker);
    const std::string k = key("db");
    cmd(db0, {"DEL", k});
    cmd(db3, {"SET", k, "in-db-3"});
    // Every pooled connection selected db 3, not just the first one.
    for (int i = 0; i < 4; ++i) EXPECT_EQ(cmd(db3, {"GET", k}).str, "in-db-3");
    EXPECT_TRUE(cmd(db0, {"GET", k}).is_nil());
    cmd(db3, {"DEL", k});
}

TEST_F(RedisClientTest, RejectedAuthKeepsTheClientDisconnected) {
    // The test Redis has no password, so AUTH fails: the handshake must not let the connection
    // be used, and callers must see RedisUnavailable rather than a confusing error reply.
    ops::CircuitBreaker breaker("redis", breaker_config());
    RedisClient& client = make_client(redis_config(url_with(":wrong", 0)), breaker, /*wait=*/false);
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(client.connected());
    EXPECT_THROW(cmd(client, {"PING"}), RedisUnavailable);
}

TEST_F(RedisClientTest, UnreachableRedisFailsFastAndOpensBreaker) {
    ops::CircuitBreaker breaker("redis-unreachable", breaker_config());
    const std::string url = "redis://127.0.0.1:" + std::to_string(ec::test::free_port()) + "/0";
    RedisClient& client = make_client(redis_config(url), breaker, /*wait=*/false);
    EXPECT_FALSE(client.connected());

    int unavailable = 0;
    const auto start = Clock::now();
    for (int i = 0; i < 5; ++i) {
        try {
            cmd(client, {"PING"});
        } catch (const RedisUnavailable&) {
            ++unavailable;
        }
    }
    EXPECT_EQ(unavailable, 5);
    EXPECT_LT(Clock::now() - start, 500ms) << "while disconnected calls must fail immediately, not queue";
    EXPECT_EQ(breaker.state(), ops::CircuitBreaker::State::Open);
    EXPECT_FALSE(run([&client]() -> asio::awaitable<bool> { co_return co_await client.ping(); }));
    EXPECT_EQ(metric("redis.commands", {{"result", "unavailable"}}), 3.0);
    EXPECT_GE(metric("redis.commands", {{"result", "rejected"}}), 2.0);
}

TEST_F(RedisClientTest, SlowRedisTimesOutThenRecovers) {
    ops::CircuitBreaker breaker("redis", breaker_config());
    auto fast = redis_config();
    fast.timeout = 200ms;
    fast.pool_size = 1;
    RedisClient& client = make_client(fast, breaker);
    auto slow = redis_config();
    slow.timeout = 10s;
    ops::CircuitBreaker slow_breaker("redis-slow", breaker_config());
    RedisClient& blocker = make_client(slow, slow_breaker);

    // A busy Lua script stalls the single-threaded server for everyone for ~800 ms.
    auto busy = asio::co_spawn(
        asio::make_strand(ioc_),
        [&blocker]() -> asio::awaitable<Reply> {
            std::vector<std::string> busy_loop{
                "EVAL",
                "local t0 = redis.call('TIME') local s0 = t0[1] * 1000000 + t0[2] "
                "while true do local t = redis.call('TIME') "
                "if t[1] * 1000000 + t[2] - s0 > tonumber(ARGV[1]) * 1000 then return 1 end end",
                "0", "800"};
            co_return co_await blocker.command(std::move(busy_loop));
        },
        asio::use_future);
    std::this_thread::sleep_for(100ms);

    const auto start = Clock::now();
    try {
        cmd(client, {"PING"});
        ADD_FAILURE() << "PING answered while Redis was busy";
    } catch (const RedisUnavailable& e) {
        EXPECT_NE(std::string(e.what()).find("timeout"), std::string::npos) << e.what();
    }
    const auto waited = Clock::now() - start;
    EXPECT_GE(waited, 150ms);
    EXPECT_LT(waited, 600ms) << "the caller must get its answer at the timeout, not when Redis wakes up";

    ASSERT_EQ(busy.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(busy.get().integer, 1);

    // The timed-out connection was reset; it comes back and serves correct replies again.
    const auto deadline = Clock::now() + 10s;
    bool ok = false;
    while (!ok && Clock::now() < deadline) {
        try {
            ok = cmd(client, {"ECHO", "back"}).str == "back";
        } catch (const RedisUnavailable&) {
            std::this_thread::sleep_for(50ms);
        }
    }
    EXPECT_TRUE(ok);
    EXPECT_EQ(breaker.state(), ops::CircuitBreaker::State::Closed);
}

TEST_F(RedisClientTest, PendingCommandsAreBoundedPerConnection) {
    ops::BreakerConfig lenient = breaker_config();
    lenient.failure_threshold = 1'000'000;  // this test is about the bound, not the breaker
    ops::CircuitBreaker breaker("redis", lenient);
    auto config = redis_config();
    config.pool_size = 1;
    config.timeout = 30s;
    RedisClient& client = make_client(config, breaker);
    ops::CircuitBreaker slow_breaker("redis-slow", breaker_config());
    RedisClient& blocker = make_client(config, slow_breaker);

    // While Redis is busy nothing is answered, so the single connection fills up to its bound.
    auto busy = asio::co_spawn(
        asio::make_strand(ioc_),
        [&blocker]() -> asio::awaitable<Reply> {
            std::vector<std::string> busy_loop{
                "EVAL",
                "local t0 = redis.call('TIME') local s0 = t0[1] * 1000000 + t0[2] "
                "while true do local t = redis.call('TIME') "
                "if t[1] * 1000000 + t[2] - s0 > tonumber(ARGV[1]) * 1000 then return 1 end end",
                "0", "3000"};
            co_return co_await blocker.command(std::move(busy_loop));
        },
        asio::use_future);
    std::this_thread::sleep_for(100ms);

    constexpr int kCalls = 10'500;
    std::atomic<int> ok{0}, overloaded{0}, other{0}, done{0};
    std::promise<void> all_done;
    for (int i = 0; i < kCalls; ++i) {
        asio::co_spawn(
            asio::make_strand(ioc_),
            [&, i]() -> asio::awaitable<void> {
                std::vector<std::string> echo{"ECHO", std::to_string(i)};
                try {
                    Reply r = co_await client.command(std::move(echo));
                    (r.str == std::to_string(i) ? ok : other)++;
                } catch (const RedisUnavailable& e) {
                    (std::string(e.what()).find("overloaded") != std::string::npos ? overloaded : other)++;
                }
                if (++done == kCalls) all_done.set_value();
            },
            asio::detached);
    }
    ASSERT_EQ(all_done.get_future().wait_for(60s), std::future_status::ready);
    ASSERT_EQ(busy.wait_for(30s), std::future_status::ready);
    EXPECT_EQ(other.load(), 0);
    EXPECT_GT(overloaded.load(), 0) << "calls beyond 10,000 pending must fail fast";
    EXPECT_GE(ok.load(), 10'000) << "the first 10,000 are queued and answered once Redis is free";
    EXPECT_EQ(ok.load() + overloaded.load(), kCalls);
}

TEST_F(RedisClientTest, RecoversAfterRedisRestart) {
    ops::CircuitBreaker breaker("redis", breaker_config());
    auto config = redis_config();
    config.timeout = 500ms;
    RedisClient& client = make_client(config, breaker);
    const std::string k = key("restart");
    ASSERT_EQ(cmd(client, {"SET", k, "1"}).str, "OK");

    // Steady background load across the restart, as the app would see it.
    std::atomic<bool> stop_load{false};
    std::atomic<int> ok{0}, unavailable{0}, other{0};
    std::atomic<bool> saw_open{false};
    std::atomic<int> loops_done{0};
    std::promise<void> load_done;
    constexpr int kLoops = 4;
    for (int i = 0; i < kLoops; ++i) {
        asio::co_spawn(
            asio::make_strand(ioc_),
            [&]() -> asio::awaitable<void> {
                asio::steady_timer pause(co_await asio::this_coro::executor);
                while (!stop_load) {
                    try {
                        std::vector<std::string> ping{"PING"};
                        Reply r = co_await client.command(std::move(ping));
                        (r.str == "PONG" ? ok : other)++;
                    } catch (const RedisUnavailable&) {
                        ++unavailable;
                    } catch (...) {
                        ++other;
                    }
                    if (breaker.state() == ops::CircuitBreaker::State::Open) saw_open = true;
                    pause.expires_after(5ms);
                    co_await pause.async_wait(asio::use_awaitable);
                }
                if (++loops_done == kLoops) load_done.set_value();
            },
            asio::detached);
    }
    std::this_thread::sleep_for(200ms);
    const int ok_before = ok.load();
    EXPECT_GT(ok_before, 0);

    ec::test::services_ctl("redis", "restart");

    // Recovery: without any help from the test, the client reconnects and the breaker closes.
    const auto deadline = Clock::now() + 10s;
    bool recovered = false;
    while (!recovered && Clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
        const int ok_now = ok.load();
        recovered = client.connected() && breaker.state() == ops::CircuitBreaker::State::Closed &&
                    ok_now > ok_before && unavailable.load() > 0;
        if (recovered) {
            // Stay closed with traffic flowing, not merely half-open for an instant.
            std::this_thread::sleep_for(200ms);
            recovered = breaker.state() == ops::CircuitBreaker::State::Closed && ok.load() > ok_now;
        }
    }
    stop_load = true;
    ASSERT_EQ(load_done.get_future().wait_for(10s), std::future_status::ready);

    EXPECT_TRUE(recovered) << "ok=" << ok << " unavailable=" << unavailable
                           << " state=" << ops::to_string(breaker.state());
    EXPECT_GT(unavailable.load(), 0) << "the restart must have been visible as RedisUnavailable";
    EXPECT_TRUE(saw_open.load()) << "the breaker must have opened during the outage";
    EXPECT_EQ(other.load(), 0);
    EXPECT_TRUE(run([&client]() -> asio::awaitable<bool> { co_return co_await client.ping(); }));
    EXPECT_EQ(cmd(client, {"SET", k, "2"}).str, "OK");
    EXPECT_EQ(cmd(client, {"GET", k}).str, "2");
    cmd(client, {"DEL", k});
}

TEST_F(RedisClientTest, StopFailsCallsWithRedisUnavailable) {
    ops::CircuitBreaker breaker("redis", breaker_config());
    RedisClient& client = make_client(redis_config(), breaker);
    EXPECT_EQ(cmd(client, {"ECHO", "x"}).str, "x");
    client.stop();
    const auto deadline = Clock::now() + 5s;
    while (client.connected() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
    EXPECT_FALSE(client.connected());
    EXPECT_THROW(cmd(client, {"ECHO", "x"}), RedisUnavailable);
}

}  // namespace
}  // namespace ec::infra::redis
