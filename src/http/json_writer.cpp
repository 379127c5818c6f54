#include "http/json_writer.hpp"

#include <charconv>

namespace ec::http {

void JsonWriter::separate() {
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_) out_ += ',';
    first_ = false;
}

JsonWriter& JsonWriter::open(char c) {
    separate();
    out_ += c;
    first_ = true;
    return *this;
}

JsonWriter& JsonWriter::close(char c) {
    out_ += c;
    first_ = false;  // the container just closed is an element of its parent
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
    separate();
    quoted(k);
    out_ += ':';
    after_key_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view v) {
    separate();
    quoted(v);
    return *this;
}

JsonWriter& JsonWriter::value(std::int64_t v) {
    separate();
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
}

JsonWriter& JsonWriter::value(bool v) {
    separate();
    out_ += v ? "true" : "false";
    return *this;
}

JsonWriter& JsonWriter::null() {
    separate();
    out_ += "null";
    return *this;
}

// The escapes of boost::json::serialize: \" \\ \b \f \n \r \t, other control characters as \u00XX,
// everything else (UTF-8 included) verbatim.
void JsonWriter::quoted(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += '"';
    std::size_t run = 0;  // start of the pending verbatim run
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out_.append(s.data() + run, i - run);
        run = i + 1;
        out_ += '\\';
        switch (c) {
            case '"':
                out_ += '"';
                break;
            case '\\':
                out_ += '\\';
                break;
            case '\b':
                out_ += 'b';
                break;
            case '\f':
                out_ += 'f';
                break;
            case '\n':
                out_ += 'n';
                break;
            case '\r':
                out_ += 'r';
                break;
            case '\t':
                out_ += 't';
                break;
            default:
                out_ += "u00";
                out_ += kHex[c >> 4];
                out_ += kHex[c & 0xf];
        }
    }
    out_.append(s.data() + run, s.size() - run);
    out_ += '"';
}

}  // namespace ec::http
