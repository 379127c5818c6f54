#pragma once
// The real `ecommerce` binary (EC_BINARY_PATH) as a child process for the end-to-end tests.
//
//   ServerProcess server({"rate_limit.enabled=false"});
//   server.wait_ready();
//   HttpClient client(server.port());
//
// The child runs `ecommerce --config-dir <EC_SOURCE_DIR>/config --profile test
// --set server.port=<port> --set datasource.url=<pg> --set redis.url=<redis> [--set k=v]... serve`
// with stdout/stderr in a log file under /tmp. It is killed (SIGKILL) if the thread that created
// it exits, so create servers on the test's main thread, not inside short-lived threads.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ec::test {

// `--config-dir <src>/config --profile test --set datasource.url=.. --set redis.url=..` followed by
// `--set s` for every entry of `sets` ("key=value"); an entry starting with '-' is passed verbatim.
std::vector<std::string> base_args(const std::vector<std::string>& sets = {});

// Runs the binary with `args` (not including argv[0]) to completion, stdin from /dev/null,
// capturing stdout+stderr into *output (if non-null). Returns the exit code (128+signal when
// killed by a signal); the child is killed after `timeout` and -1 is returned.
int run_binary(const std::vector<std::string>& args, std::string* output = nullptr,
               std::chrono::milliseconds timeout = std::chrono::milliseconds{120'000});

class ServerProcess {
public:
    // Starts the server on `port` (0: a free port). `sets` are extra "key=value" overrides applied
    // after the defaults (entries starting with '-' are passed verbatim before `serve`).
    explicit ServerProcess(std::vector<std::string> sets = {}, int port = 0);
    ~ServerProcess();  // SIGTERM, SIGKILL after 10 s, reap; prints the log tail if the test failed
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Polls GET /actuator/health/liveness until 200. Throws std::runtime_error (with the log tail,
    // also printed to stderr) if the process exits or the timeout passes.
    void wait_ready(std::chrono::milliseconds timeout = std::chrono::milliseconds{30'000});

    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& log_path() const { return log_path_; }
    std::string log() const;                                     // the whole log so far
    std::string log_tail(int lines = 60) const;                  // its last lines
    bool is_running();                                           // reaps the child if it has exited
    std::optional<int> exit_code() const { return exit_code_; }  // once reaped

    // SIGTERM, then waits for exit; returns the exit code (128+signal if killed by a signal).
    // On timeout the child is SIGKILLed and std::runtime_error thrown.
    int terminate(std::chrono::milliseconds timeout = std::chrono::milliseconds{30'000});
    int kill9();  // SIGKILL and reap; returns the exit code (137 unless it had already exited)
    void send_signal(int sig);
    // Waits for the child to exit by itself; nullopt on timeout (the child keeps running).
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

private:
    void print_log_tail(const std::string& why);
    [[noreturn]] void fail(const std::string& why);

    int port_;
    pid_t pid_ = -1;
    std::string log_path_;
    std::string command_line_;
    std::optional<int> exit_code_;
    bool tail_printed_ = false;
};

}  // namespace ec::test
