// Taskstats generic-netlink datagrams, as the taskstats client receives them from the kernel.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "exporter/kernel/taskstats.h"
#include "tests/fuzz/fuzz_check.h"

namespace kernel = exporter::kernel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view datagram(reinterpret_cast<const char*>(data), size);
  static std::vector<kernel::NetlinkReply> replies;  // reused, as the client reuses its own
  const size_t malformed = kernel::ParseNetlinkReplies(datagram, replies);
  (void)malformed;
  // Every reply takes at least a 16-byte header; errors are errno values.
  QL_FUZZ_CHECK(replies.size() * 16 <= size);
  for (const kernel::NetlinkReply& r : replies) QL_FUZZ_CHECK(r.error >= 0);
  return 0;
}
