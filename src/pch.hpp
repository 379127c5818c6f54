// Precompiled header for the Asio/Beast-heavy translation units: parsing these headers once
// keeps the sanitizer build of the whole tree inside the CI time budget.
#pragma once
#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
