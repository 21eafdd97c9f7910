#include "exporter/kernel/rooted_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace exporter::kernel {
namespace {

constexpr size_t kInitialBuffer = 4096;
// Kernel statistics files are small; cgroup.threads of a huge cgroup is the largest we expect.
constexpr size_t kMaxFileBytes = 64 << 20;

int OpenReadOnly(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

std::string_view ReadStatusName(ReadStatus status) {
  switch (status) {
    case ReadStatus::kOk:
      return "ok";
    case ReadStatus::kMissing:
      return "missing";
    case ReadStatus::kPermission:
      return "permission";
    case ReadStatus::kVanished:
      return "vanished";
    case ReadStatus::kIoError:
      return "io";
  }
  return "io";
}

ReadStatus StatusFromErrno(int err) {
  switch (err) {
    case 0:
      return ReadStatus::kOk;
    case ENOENT:
    case ENOTDIR:
      return ReadStatus::kMissing;
    case EACCES:
    case EPERM:
      return ReadStatus::kPermission;
    case ESRCH:
    case ENODEV:
      return ReadStatus::kVanished;
    default:
      return ReadStatus::kIoError;
  }
}

FsRoot::FsRoot(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string FsRoot::Path(std::string_view relative) const {
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  std::string out;
  out.reserve(root_.size() + 1 + relative.size());
  out += root_;
  if (out.empty() || out.back() != '/') out += '/';
  out += relative;
  return out;
}

ReadStatus ReadAt0(int fd, ReadBuffer& buf) {
  if (buf.capacity_ == 0) {
    buf.data_ = std::make_unique<char[]>(kInitialBuffer);
    buf.capacity_ = kInitialBuffer;
  }
  for (;;) {
    const ssize_t n = ::pread(fd, buf.data_.get(), buf.capacity_, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      buf.size_ = 0;
      return StatusFromErrno(errno);
    }
    if (static_cast<size_t>(n) < buf.capacity_) {
      buf.size_ = static_cast<size_t>(n);
      return ReadStatus::kOk;
    }
    // The buffer filled up, so the file may be longer: read it again, whole, into a larger one
    // (a second read at offset 0 keeps the content consistent, unlike continuing at offset n).
    if (buf.capacity_ >= kMaxFileBytes) {
      buf.size_ = 0;
      return ReadStatus::kIoError;
    }
    buf.capacity_ *= 2;
    buf.data_ = std::make_unique<char[]>(buf.capacity_);
  }
}

ReadStatus ReadFile(const std::string& path, ReadBuffer& buf) {
  const int fd = OpenReadOnly(path);
  if (fd < 0) return StatusFromErrno(errno);
  const ReadStatus status = ReadAt0(fd, buf);
  ::close(fd);
  return status;
}

StatFile::StatFile(StatFile&& other) noexcept
    : path_(std::move(other.path_)), budget_(other.budget_), fd_(other.fd_) {
  other.fd_ = -1;
}

StatFile& StatFile::operator=(StatFile&& other) noexcept {
  if (this != &other) {
    Close();
    path_ = std::move(other.path_);
    budget_ = other.budget_;
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

ReadStatus StatFile::Read(ReadBuffer& buf) {
  if (fd_ >= 0) {
    const ReadStatus status = ReadAt0(fd_, buf);
    if (status != ReadStatus::kOk) Close();
    return status;
  }
  const int fd = OpenReadOnly(path_);
  if (fd < 0) return StatusFromErrno(errno);
  const ReadStatus status = ReadAt0(fd, buf);
  if (status == ReadStatus::kOk && budget_ != nullptr && budget_->used < budget_->max) {
    ++budget_->used;
    fd_ = fd;
  } else {
    ::close(fd);
  }
  return status;
}

void StatFile::Close() {
  if (fd_ < 0) return;
  ::close(fd_);
  fd_ = -1;
  --budget_->used;
}

ReadStatus ListSubdirs(const std::string& path, std::vector<DirEntry>& out) {
  out.clear();
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return StatusFromErrno(errno);
  for (;;) {
    errno = 0;  // readdir reports errors only through errno
    const dirent* e = ::readdir(dir);
    if (e == nullptr) break;
    if (e->d_name[0] == '.' &&
        (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) {
      continue;
    }
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {  // filesystems without d_type
      struct stat st;
      is_dir =
          ::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (is_dir) out.push_back({e->d_name, static_cast<uint64_t>(e->d_ino)});
  }
  const int err = errno;
  ::closedir(dir);
  return StatusFromErrno(err);
}

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_ino);
}

std::string_view WriteStatusName(WriteStatus status) {
  switch (status) {
    case WriteStatus::kOk:
      return "ok";
    case WriteStatus::kReadOnly:
      return "read_only";
    case WriteStatus::kPermission:
      return "permission";
    case WriteStatus::kVanished:
      return "vanished";
    case WriteStatus::kInvalid:
      return "invalid";
    case WriteStatus::kIoError:
      return "io";
  }
  return "io";
}

WriteStatus WriteStatusFromErrno(int err) {
  switch (err) {
    case 0:
      return WriteStatus::kOk;
    case EROFS:
      return WriteStatus::kReadOnly;
    case EACCES:
    case EPERM:
      return WriteStatus::kPermission;
    case ENOENT:
    case ENOTDIR:
    case ENODEV:
    case ESRCH:
      return WriteStatus::kVanished;
    case EINVAL:
    case ERANGE:
      return WriteStatus::kInvalid;
    default:
      return WriteStatus::kIoError;
  }
}

WriteStatus WriteFile(const std::string& path, std::string_view content) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return WriteStatusFromErrno(errno);
  ssize_t n;
  do {
    n = ::write(fd, content.data(), content.size());
  } while (n < 0 && errno == EINTR);
  // cgroupfs takes a value in one write; a partial one is not a value.
  const WriteStatus status = n < 0 ? WriteStatusFromErrno(errno)
                             : static_cast<size_t>(n) != content.size() ? WriteStatus::kIoError
                                                                        : WriteStatus::kOk;
  ::close(fd);
  return status;
}

}  // namespace exporter::kernel
