#pragma once
// A file compiled into the binary by cmake/EmbedFiles.cmake.
#include <string>
#include <vector>

namespace ec {

struct EmbeddedFile {
    std::string name;
    std::string contents;
};

// migrations/*.sql, sorted by file name.
const std::vector<EmbeddedFile>& embedded_migrations();

}  // namespace ec
