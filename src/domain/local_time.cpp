#include "domain/local_time.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ec::domain {

std::int64_t epoch_us_now() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string format_local_datetime(std::int64_t epoch_micros) {
    std::int64_t secs = epoch_micros / 1'000'000;
    std::int64_t micros = epoch_micros % 1'000'000;
    if (micros < 0) {
        micros += 1'000'000;
        --secs;
    }
    const auto t = static_cast<std::time_t>(secs);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06d", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(micros));
    return buf;
}

}  // namespace ec::domain
