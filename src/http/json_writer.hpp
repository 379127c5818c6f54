#pragma once
// Writes JSON text straight into one string: for hot responses whose shape is fixed, where building
// a boost::json tree (an allocation per object, key and string) costs more than the request itself.
// Output is byte-for-byte what boost::json::serialize gives for the same document (same escapes,
// UTF-8 passed through), so a route can switch between the two without changing its wire format.
#include <cstdint>
#include <string>
#include <string_view>

namespace ec::http {

class JsonWriter {
public:
    explicit JsonWriter(std::size_t reserve = 256) { out_.reserve(reserve); }

    JsonWriter& begin_object() { return open('{'); }
    JsonWriter& end_object() { return close('}'); }
    JsonWriter& begin_array() { return open('['); }
    JsonWriter& end_array() { return close(']'); }
    // The key of the next value inside an object.
    JsonWriter& key(std::string_view k);
    JsonWriter& value(std::string_view v);
    JsonWriter& value(const char* v) { return value(std::string_view(v)); }
    JsonWriter& value(std::int64_t v);
    JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
    JsonWriter& value(bool v);
    JsonWriter& null();

    const std::string& str() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    JsonWriter& open(char c);
    JsonWriter& close(char c);
    void separate();  // a comma before every element but the first of its container
    void quoted(std::string_view s);

    std::string out_;
    bool first_ = true;       // no element written yet in the innermost container
    bool after_key_ = false;  // the next value belongs to the key just written
};

}  // namespace ec::http
