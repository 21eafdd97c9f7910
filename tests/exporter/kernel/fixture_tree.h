#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/http_client.h"
#include "exporter/kernel/collector.h"

namespace exporter::kernel::fixtures {

inline std::string FixturePath(std::string_view name) {
  return std::string(QL_SOURCE_DIR "/tests/fixtures/kernel/") + std::string(name);
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes in place (truncate and write, same inode), as the kernel changes a statistics file:
// descriptors kept open by the collector see the new content.
inline void WriteText(const std::filesystem::path& path, std::string_view text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A copy of tests/fixtures/kernel/<name> in a fresh temporary directory, removed again by the
// destructor, for tests that change the tree between collections.
class FixtureTree {
 public:
  explicit FixtureTree(std::string_view name) {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "queuelens-kernel-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    std::filesystem::copy(FixturePath(name), root_, std::filesystem::copy_options::recursive);
  }
  ~FixtureTree() { std::filesystem::remove_all(root_); }
  FixtureTree(const FixtureTree&) = delete;
  FixtureTree& operator=(const FixtureTree&) = delete;

  // Writes every file of tests/fixtures/kernel/<name> over its counterpart here, in place.
  void Overlay(std::string_view name) {
    const std::filesystem::path from = FixturePath(name);
    for (const auto& e : std::filesystem::recursive_directory_iterator(from)) {
      if (e.is_regular_file()) WriteText(root_ / e.path().lexically_relative(from), ReadText(e));
    }
  }
  void Write(std::string_view relative, std::string_view text) {
    WriteText(root_ / relative, text);
  }
  void Remove(std::string_view relative) { std::filesystem::remove_all(root_ / relative); }

  std::string proc() const { return (root_ / "proc").string(); }
  std::string sys() const { return (root_ / "sys").string(); }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

// A kubelet that serves tests/fixtures/kernel/kubelet_pods.json and counts its requests.
struct FakeKubelet {
  int requests = 0;
  int status = 200;
  common::HttpGet Get() {
    return [this](const std::string&) {
      ++requests;
      common::HttpResult r;
      r.status = status;
      if (status == 200) r.body = ReadText(FixturePath("kubelet_pods.json"));
      return r;
    };
  }
};

inline std::unique_ptr<Collector> MakeCollector(const std::string& proc, const std::string& sys,
                                                CollectorOptions options = {},
                                                common::HttpGet kubelet = nullptr) {
  if (kubelet && options.kubelet_url.empty()) options.kubelet_url = "http://kubelet.test/pods";
  return std::make_unique<Collector>(FsRoot(proc), FsRoot(sys), std::move(options),
                                     std::move(kubelet));
}

inline const common::TimePoint kT0{std::chrono::seconds{1'787'392'800}};

}  // namespace exporter::kernel::fixtures
