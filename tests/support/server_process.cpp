#include "support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/http_client.hpp"
#include "support/test_env.hpp"

namespace ec::test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

std::string join(const std::vector<std::string>& args) {
    std::string out = EC_BINARY_PATH;
    for (const auto& a : args) out += " " + a;
    return out;
}

// fork + exec of EC_BINARY_PATH with stdin from /dev/null and stdout+stderr to out_fd. The child
// gets SIGKILL when the calling thread dies, default signal dispositions and no other inherited
// descriptors (so it does not hold the tests' sockets open).
pid_t spawn(const std::vector<std::string>& args, int out_fd) {
    std::vector<std::string> owned;
    owned.reserve(args.size() + 1);
    owned.emplace_back(EC_BINARY_PATH);
    owned.insert(owned.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : owned) argv.push_back(a.data());
    argv.push_back(nullptr);

    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) throw std::runtime_error(std::string("open /dev/null: ") + std::strerror(errno));
    rlimit lim{};
    const int max_fd = ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY
                           ? static_cast<int>(std::min<rlim_t>(lim.rlim_cur, 65536))
                           : 65536;
    const pid_t parent = ::getpid();

    const pid_t pid = ::fork();
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        ::dup2(devnull, 0);
        ::dup2(out_fd, 1);
        ::dup2(out_fd, 2);
        if (::close_range(3, ~0U, 0) != 0) {
            for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
        }
        for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) ::signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execv(argv[0], argv.data());
        static const char msg[] = "server_process: execv " EC_BINARY_PATH " failed\n";
        [[maybe_unused]] auto ignored = ::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    const int fork_errno = errno;
    ::close(devnull);
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
    return pid;
}

// waitpid(WNOHANG) until exit or deadline; the decoded exit code, nullopt on timeout.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
    auto pause = milliseconds(1);
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return decode_status(status);
        if (r < 0 && errno != EINTR) return -1;  // ECHILD: already reaped elsewhere
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, milliseconds(20));
    }
}

int wait_blocking(pid_t pid) {
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, 0);
        if (r == pid) return decode_status(status);
        if (r < 0 && errno != EINTR) return -1;
    }
}

std::string sanitize(std::string s) {
    for (char& c : s) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    }
    return s;
}

bool test_failed() {
    auto* unit = ::testing::UnitTest::GetInstance();
    if (unit->current_test_info() != nullptr) return ::testing::Test::HasFailure();
    return unit->failed_test_count() > 0 || unit->ad_hoc_test_result().Failed();
}

}  // namespace

std::vector<std::string> base_args(const std::vector<std::string>& sets) {
    const TestEnv& env = test_env();
    std::vector<std::string> args = {
        "--config-dir", env.source_dir + "/config",     "--profile", "test",
        "--set",        "datasource.url=" + env.pg_url, "--set",     "redis.url=" + env.redis_url};
    for (const auto& s : sets) {
        if (!s.empty() && s[0] == '-') {
            args.push_back(s);
        } else {
            args.push_back("--set");
            args.push_back(s);
        }
    }
    return args;
}

int run_binary(const std::vector<std::string>& args, std::string* output, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    pid_t pid;
    try {
        pid = spawn(args, fds[1]);
    } catch (...) {
        ::close(fds[0]);
        ::close(fds[1]);
        throw;
    }
    ::close(fds[1]);

    std::string out;
    char buf[8192];
    bool timed_out = false;
    for (;;) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{fds[0], POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;  // EOF: the child (and anything it spawned) closed its output
        }
    }
    ::close(fds[0]);

    std::optional<int> code = timed_out ? std::nullopt : wait_until(pid, deadline);
    if (!code) {
        ::kill(pid, SIGKILL);
        wait_blocking(pid);
        out += "\n[run_binary: killed after " + std::to_string(timeout.count()) + " ms]\n";
        code = -1;
    }
    if (output != nullptr) *output = std::move(out);
    return *code;
}

// ---------------------------------------------------------------------------------------------

ServerProcess::ServerProcess(std::vector<std::string> sets, int port)
    : port_(port != 0 ? port : free_port()) {
    static std::atomic<int> counter{0};
    std::string name = "server";
    auto* unit = ::testing::UnitTest::GetInstance();
    if (const auto* info = unit->current_test_info()) {
        name = sanitize(std::string(info->test_suite_name()) + "." + info->name());
    } else if (const auto* suite = unit->current_test_suite()) {
        name = sanitize(suite->name());
    }
    log_path_ = "/tmp/ec-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + name +
                "-" + std::to_string(port_) + ".log";

    sets.insert(sets.begin(), "server.port=" + std::to_string(port_));
    std::vector<std::string> args = base_args(sets);
    args.emplace_back("serve");
    command_line_ = join(args);

    const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot open " + log_path_ + ": " + std::strerror(errno));
    try {
        pid_ = spawn(args, fd);
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
}

ServerProcess::~ServerProcess() {
    try {
        bool forced = false;
        if (pid_ > 0 && is_running()) {
            ::kill(pid_, SIGTERM);
            exit_code_ = wait_until(pid_, Clock::now() + std::chrono::seconds(10));
            if (!exit_code_) {
                forced = true;
                ::kill(pid_, SIGKILL);
                exit_code_ = wait_blocking(pid_);
            }
        }
        if (forced) {
            print_log_tail("did not stop within 10 s of SIGTERM and was killed");
        } else if (test_failed()) {
            print_log_tail("test failed");
        }
    } catch (...) {
    }
}

std::string ServerProcess::log() const {
    std::ifstream in(log_path_, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string ServerProcess::log_tail(int lines) const {
    if (lines <= 0) return {};
    const std::string all = log();
    size_t start = all.size();
    if (start > 0 && all[start - 1] == '\n') --start;  // the final newline ends the last line
    for (int n = 0; start > 0; --start) {
        if (all[start - 1] == '\n' && ++n == lines) break;
    }
    return all.substr(start);
}

void ServerProcess::print_log_tail(const std::string& why) {
    if (tail_printed_) return;
    tail_printed_ = true;
    std::cerr << "---- server pid " << pid_ << " port " << port_ << ": " << why
              << "\n---- command: " << command_line_ << "\n---- last 60 lines of " << log_path_ << ":\n"
              << log_tail(60) << "\n---- end of server log\n"
              << std::flush;
}

void ServerProcess::fail(const std::string& why) {
    print_log_tail(why);
    throw std::runtime_error("server on port " + std::to_string(port_) + " " + why + " (log: " + log_path_ +
                             ")\n" + log_tail(20));
}

bool ServerProcess::is_running() {
    if (exit_code_ || pid_ <= 0) return false;
    int status = 0;
    pid_t r;
    do {
        r = ::waitpid(pid_, &status, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return true;
    exit_code_ = r == pid_ ? decode_status(status) : -1;
    return false;
}

void ServerProcess::wait_ready(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    HttpClient client(port_);
    std::string last = "no answer";
    for (;;) {
        if (!is_running()) fail("exited with code " + std::to_string(*exit_code_) + " before becoming ready");
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
        if (left <= milliseconds(0)) {
            fail("not ready within " + std::to_string(timeout.count()) + " ms (last: " + last + ")");
        }
        client.set_timeout(std::min(left, milliseconds(2000)));
        try {
            const HttpResponse r = client.get("/actuator/health/liveness");
            if (r.status == 200) return;
            last = "status " + std::to_string(r.status) + " " + r.body;
        } catch (const std::exception& e) {
            last = e.what();
        }
        std::this_thread::sleep_for(milliseconds(50));
    }
}

int ServerProcess::terminate(milliseconds timeout) {
    if (!is_running()) return *exit_code_;
    ::kill(pid_, SIGTERM);
    if (auto code = wait_exit(timeout)) return *code;
    ::kill(pid_, SIGKILL);
    exit_code_ = wait_blocking(pid_);
    fail("did not exit within " + std::to_string(timeout.count()) + " ms of SIGTERM (killed)");
}

int ServerProcess::kill9() {
    if (is_running()) {
        ::kill(pid_, SIGKILL);
        exit_code_ = wait_blocking(pid_);
    }
    return *exit_code_;
}

void ServerProcess::send_signal(int sig) {
    if (is_running()) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::wait_exit(milliseconds timeout) {
    if (!is_running()) return exit_code_;
    exit_code_ = wait_until(pid_, Clock::now() + timeout);
    return exit_code_;
}

}  // namespace ec::test
