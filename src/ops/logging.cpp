#include "ops/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace ec::ops {

void configure_logging(const LoggingConfig& config) {
    auto logger = spdlog::stdout_color_mt("ecommerce");
    spdlog::set_default_logger(logger);
    if (config.json) {
        // %v is escaped by nothing in spdlog: messages are kept free of quotes by convention, and
        // the payload key comes last so a stray quote cannot break the fields before it.
        spdlog::set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","thread":%t,"msg":"%v"})");
    } else {
        spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%t] %v");
    }
    spdlog::set_level(spdlog::level::from_str(config.level));
    spdlog::flush_on(spdlog::level::warn);
}

}  // namespace ec::ops
