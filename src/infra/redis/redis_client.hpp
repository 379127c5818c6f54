#pragma once
// Asynchronous Redis client on the Asio loop. hiredis is used only for its RESP reader and command
// formatter; the socket I/O is Asio's. Each connection pipelines many in-flight commands (writes are
// batched, replies matched FIFO). Every call goes through the circuit breaker and has a timeout;
// connections are re-established in the background after a failure.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "app/errors.hpp"
#include "ops/config.hpp"

namespace ec::ops {
class CircuitBreaker;
class MetricsRegistry;
}  // namespace ec::ops

namespace ec::infra::redis {

struct Reply {
    enum class Type { Nil, Integer, String, Status, Error, Array };
    Type type = Type::Nil;
    long long integer = 0;
    std::string str;  // String, Status and Error
    std::vector<Reply> elements;

    bool is_nil() const { return type == Type::Nil; }
    bool is_error() const { return type == Type::Error; }
};

// Redis could not answer: not connected, timed out, connection lost mid-call, or breaker open.
// Callers map this to 503 COMMON007 (or a fallback). Error *replies* from the server are not
// exceptions; they come back as Reply::Type::Error.
class RedisUnavailable : public app::DependencyUnavailable {
public:
    using app::DependencyUnavailable::DependencyUnavailable;
};

// For replies that cannot be errors unless Redis itself is in trouble (OOM, a wrong-typed key, a
// script that fails to load): throws RedisUnavailable naming `what`, so callers treat it like an
// outage; returns the reply otherwise.
inline const Reply& checked(const Reply& reply, const char* what) {
    if (reply.is_error()) throw RedisUnavailable(std::string(what) + ": " + reply.str);
    return reply;
}

// A Lua script kept as a .lua file under src/infra/redis/lua/ and embedded at build time.
struct LuaScript {
    std::string name;
    std::string source;
    std::string sha1;  // hex, computed from source at load
};
// Looks a script up by file stem ("ping_echo" for lua/ping_echo.lua); throws std::out_of_range.
const LuaScript& lua_script(std::string_view name);

class RedisClient {
public:
    RedisClient(boost::asio::io_context& ioc, const ops::RedisConfig& config, ops::CircuitBreaker& breaker,
                ops::MetricsRegistry& metrics);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Starts connecting (non-blocking); reconnects by itself after failures until stop().
    void start();
    // Closes the connections and fails pending calls with RedisUnavailable.
    void stop();

    // Sends one command; may be called from any thread/strand concurrently. Throws RedisUnavailable
    // when the breaker is open, no connection is up, 10,000 commands are already pending on every
    // connection, the reply does not arrive within redis.timeout (the connection is then reset:
    // replies are FIFO, so everything behind a late reply is late too), or the connection drops.
    //
    // Connections are shared and pipelined, so commands that depend on per-connection state or
    // hold the connection do not belong here: no MULTI/EXEC (use a Lua script via eval()), no
    // SELECT/AUTH/CLIENT, no SUBSCRIBE, and no blocking reads (BLPOP, XREADGROUP ... BLOCK): a
    // blocked command stalls every command queued behind it and trips the timeout. Poll instead.
    boost::asio::awaitable<Reply> command(std::vector<std::string> args);
    // EVALSHA with a NOSCRIPT fallback to EVAL (which also loads it). `script` must outlive the
    // call (those from lua_script() live forever).
    boost::asio::awaitable<Reply> eval(const LuaScript& script, std::vector<std::string> keys,
                                       std::vector<std::string> args);
    // PING bypassing nothing: used by health checks (goes through the breaker too).
    boost::asio::awaitable<bool> ping();

    bool connected() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

}  // namespace ec::infra::redis
