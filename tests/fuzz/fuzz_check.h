#pragma once

#include <cstdio>
#include <cstdlib>

// A broken invariant aborts, which libFuzzer records as a crash with this message.
#define QL_FUZZ_CHECK(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)
