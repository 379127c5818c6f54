#pragma once
#include "ops/config.hpp"

namespace ec::ops {

// Console logging per logging.level; logging.json switches to one JSON object per line for log
// shippers. Request ids appear in messages as "[id]".
void configure_logging(const LoggingConfig& config);

}  // namespace ec::ops
