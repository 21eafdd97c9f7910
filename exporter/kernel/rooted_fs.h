#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace exporter::kernel {

// Why a read produced no data. ReadStatusName() is the `reason` label of the error counter.
enum class ReadStatus {
  kOk,
  kMissing,     // ENOENT, ENOTDIR: the file is not there
  kPermission,  // EACCES, EPERM
  kVanished,    // ESRCH, ENODEV: the task exited or the cgroup was removed under an open file
  kIoError,     // anything else
};
std::string_view ReadStatusName(ReadStatus status);  // "ok", "missing", "permission", ...
ReadStatus StatusFromErrno(int err);

// A directory every kernel path is relative to: --path.procfs or --path.sysfs in production, a
// fixture tree in tests (node_exporter's procFilePath habit).
class FsRoot {
 public:
  explicit FsRoot(std::string root);
  // root + "/" + relative; a leading '/' of `relative` is not doubled.
  std::string Path(std::string_view relative) const;

 private:
  std::string root_;
};

// A reusable read buffer that grows to the largest file read through it, so steady-state reads
// neither allocate nor zero memory.
class ReadBuffer {
 public:
  std::string_view view() const { return {data_.get(), size_}; }

 private:
  friend ReadStatus ReadAt0(int fd, ReadBuffer& buf);
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

// Reads the whole file behind `fd` from offset 0 into `buf` (pread: the file offset is unused).
// procfs and cgroupfs regenerate the content on every read at offset 0.
ReadStatus ReadAt0(int fd, ReadBuffer& buf);

// Opens, reads and closes `path`.
ReadStatus ReadFile(const std::string& path, ReadBuffer& buf);

// How many descriptors StatFiles may keep open; files beyond it are opened for each read.
struct FdBudget {
  size_t max = 0;
  size_t used = 0;
};

// One statistics file read every collection. While the budget allows, its descriptor stays open
// and each read is one pread at offset 0: 4.7-8.6x cheaper than open/read/close on procfs and
// cgroupfs (performance.md K1/K2). A kept descriptor stays bound to its task or cgroup, so a
// reused PID or a recreated cgroup never feeds a kept file: reads fail with kVanished instead.
class StatFile {
 public:
  StatFile() = default;
  StatFile(std::string path, FdBudget* budget) : path_(std::move(path)), budget_(budget) {}
  ~StatFile() { Close(); }
  StatFile(StatFile&& other) noexcept;
  StatFile& operator=(StatFile&& other) noexcept;
  StatFile(const StatFile&) = delete;
  StatFile& operator=(const StatFile&) = delete;

  ReadStatus Read(ReadBuffer& buf);
  void Close();

  const std::string& path() const { return path_; }
  bool kept_open() const { return fd_ >= 0; }

 private:
  std::string path_;
  FdBudget* budget_ = nullptr;
  int fd_ = -1;
};

struct DirEntry {
  std::string name;
  uint64_t inode = 0;
};
// The subdirectories of `path` (not "." or ".."), in directory order.
ReadStatus ListSubdirs(const std::string& path, std::vector<DirEntry>& out);

// Inode of a directory; 0 when it cannot be stat'ed.
uint64_t InodeOf(const std::string& path);

// Why a write did not take. WriteStatusName() is the `reason` label of the write error counter.
enum class WriteStatus {
  kOk,
  kReadOnly,    // EROFS: the filesystem is mounted read-only
  kPermission,  // EACCES, EPERM
  kVanished,    // ENOENT, ENOTDIR, ENODEV, ESRCH: the cgroup was removed
  kInvalid,     // EINVAL, ERANGE: the kernel refused the value
  kIoError,     // anything else, or a short write
};
std::string_view WriteStatusName(WriteStatus status);  // "ok", "read_only", "permission", ...
WriteStatus WriteStatusFromErrno(int err);

// Replaces the content of the existing file `path` with `content` in one write(2), as cgroupfs
// takes a control file's new value. Never creates the file.
WriteStatus WriteFile(const std::string& path, std::string_view content);

}  // namespace exporter::kernel
