#include "common/descriptors.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace common {
namespace {

TEST(RaiseOpenFileLimitTest, ReturnsTheSoftLimitAfterRaisingIt) {
  const size_t limit = RaiseOpenFileLimit();
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, now.rlim_max);
  EXPECT_EQ(limit,
            now.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(now.rlim_cur));
}

}  // namespace
}  // namespace common
