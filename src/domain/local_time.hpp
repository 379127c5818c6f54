#pragma once
// Local date-times of the business zone, the wire format of every timestamp (SPEC §4). The business
// zone is the process's local zone: main sets TZ to business.time-zone before anything runs.
#include <cstdint>
#include <string>

namespace ec::domain {

// Microseconds since the epoch, now (system clock): the unit of every timestamp in the domain.
std::int64_t epoch_us_now();

// "2025-12-10T07:00:31.123456": microseconds since the epoch as a local date-time, no offset.
std::string format_local_datetime(std::int64_t epoch_micros);

}  // namespace ec::domain
