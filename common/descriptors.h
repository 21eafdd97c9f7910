#pragma once

#include <cstddef>

namespace common {

// Raises the soft open-file limit to the hard limit and returns the new soft limit (2^20 when
// unlimited). Servers holding thousands of connections and kernel collectors keeping one
// descriptor per file both need more than the usual 1024.
size_t RaiseOpenFileLimit();

}  // namespace common
