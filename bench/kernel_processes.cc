#include "bench/kernel_processes.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <thread>

namespace bench {

// Lives in a MAP_SHARED mapping made before the forks, so the parent and every child see it.
struct RealProcesses::Shared {
  static constexpr size_t kThreads = kContainers * kThreadsPerProcess;
  std::atomic<uint32_t> worker_round{0}, all_round{0};  // bumped to wake the threads waiting on it
  std::atomic<uint32_t> ready{0}, done{0}, target{0};   // threads started / done this round
  std::atomic<uint32_t> failed{0}, stop{0};
  int tids[kThreads];  // thread t of container c at c * kThreadsPerProcess + t; set before ready
};

namespace {

using Shared = RealProcesses::Shared;

// futex(2) on an atomic's word, without FUTEX_PRIVATE_FLAG: the waiters are in other processes.
static_assert(std::atomic<uint32_t>::is_always_lock_free &&
              sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
void FutexWait(const std::atomic<uint32_t>& word, uint32_t seen, const timespec* timeout) {
  ::syscall(SYS_futex, &word, FUTEX_WAIT, seen, timeout, nullptr, 0);
}
void FutexWake(const std::atomic<uint32_t>& word) {
  ::syscall(SYS_futex, &word, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// The mount point of the cgroup v1 hierarchy with `controller`: the first one, a
// whole-hierarchy mount over a partial one, as the collector's layout detection picks it.
std::string V1Root(const std::string& mountinfo, const std::string& controller) {
  std::istringstream lines(mountinfo);
  std::string found;
  bool whole = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, point, field, fs_type, source, options;
    fields >> id >> parent >> dev >> root >> point;
    while (fields >> field && field != "-") {
    }
    fields >> fs_type >> source >> options;
    if (fs_type != "cgroup" ||
        ("," + options + ",").find("," + controller + ",") == std::string::npos) {
      continue;
    }
    if (found.empty() || (root == "/" && !whole)) {
      found = point;
      whole = root == "/";
    }
  }
  return found;
}

// What follows runs in the children: no stdio, no allocation beyond pthread_create's, and
// _exit, so no static destructor or atexit handler of the bench runs there.

[[noreturn]] void Fail(Shared& s) {
  s.failed = 1;
  FutexWake(s.ready);
  ::_exit(1);
}

// Thread `slot` of the node: records its tid, then runs once per bump of its round word.
[[noreturn]] void Serve(Shared& s, size_t slot) {
  s.tids[slot] = static_cast<int>(::gettid());
  if (s.ready.fetch_add(1) + 1 == Shared::kThreads) FutexWake(s.ready);
  std::atomic<uint32_t>& round =
      slot % RealProcesses::kThreadsPerProcess < RealProcesses::kBusyWorkers ? s.worker_round
                                                                             : s.all_round;
  for (uint32_t seen = 0;;) {
    while (round == seen) FutexWait(round, seen, nullptr);
    seen = round;
    if (s.stop) ::_exit(0);
    volatile uint64_t work = 0;
    for (int k = 0; k < 2000; ++k) work = work + k;
    if (s.done.fetch_add(1) + 1 == s.target) FutexWake(s.done);
  }
}

struct ThreadArg {
  Shared* shared;
  size_t slot;
};

void* ThreadMain(void* arg) {
  const auto* a = static_cast<const ThreadArg*>(arg);
  Serve(*a->shared, a->slot);
}

// Container c's process: joins its cgroups first, so its threads are created in them.
[[noreturn]] void ChildMain(Shared& s, size_t c, const std::string* procs, size_t hierarchies) {
  char pid[16];
  const size_t len = std::to_chars(pid, pid + sizeof pid, ::getpid()).ptr - pid;
  for (size_t h = 0; h < hierarchies; ++h) {
    const int fd = ::open(procs[h].c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) Fail(s);
    const bool ok = ::write(fd, pid, len) == static_cast<ssize_t>(len);
    ::close(fd);
    if (!ok) Fail(s);
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 << 10);
  ThreadArg args[RealProcesses::kThreadsPerProcess];
  for (size_t t = 1; t < RealProcesses::kThreadsPerProcess; ++t) {
    args[t] = {&s, c * RealProcesses::kThreadsPerProcess + t};
    pthread_t thread;
    if (pthread_create(&thread, &attr, &ThreadMain, &args[t]) != 0) Fail(s);
  }
  Serve(s, c * RealProcesses::kThreadsPerProcess);
}

// A cgroup whose last process was just reaped can still count as populated for a moment.
void RemoveCgroup(const std::string& dir, std::chrono::steady_clock::time_point deadline) {
  while (::rmdir(dir.c_str()) != 0 && errno == EBUSY &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

RealProcesses& RealProcesses::Get() {
  static RealProcesses node;
  return node;
}

RealProcesses::RealProcesses() : name_("queuelens-bench-procs-" + std::to_string(::getpid())) {
  error_ = Make();
  if (!error_.empty()) TearDown();
}

std::string RealProcesses::Make() {
  std::ostringstream mountinfo;
  mountinfo << std::ifstream("/proc/self/mountinfo").rdbuf();
  const std::string cpu = V1Root(mountinfo.str(), "cpu");
  const std::string cpuacct = V1Root(mountinfo.str(), "cpuacct");
  if (cpu.empty() || cpuacct.empty()) {
    return "needs the cgroup v1 cpu and cpuacct hierarchies";
  }
  std::vector<std::string> roots = {cpu};
  if (cpuacct != cpu) roots.push_back(cpuacct);
  for (const std::string& root : roots) {
    if (::mkdir((root + "/" + name_).c_str(), 0755) != 0) {
      return "cannot create cgroups under " + root + " (needs root): " + std::strerror(errno);
    }
    parents_.push_back(root + "/" + name_);
  }
  for (size_t c = 0; c < kContainers; ++c) {
    char name[16];
    std::snprintf(name, sizeof name, "/p%04zu", c);
    for (const std::string& parent : parents_) {
      if (::mkdir((parent + name).c_str(), 0755) != 0) {
        return "cannot create " + parent + name + ": " + std::strerror(errno);
      }
      dirs_.push_back(parent + name);
      procs_.push_back(dirs_.back() + "/cgroup.procs");
    }
  }
  void* mem =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    return std::string("cannot map the shared words: ") + std::strerror(errno);
  }
  shared_ = new (mem) Shared;
  const pid_t parent = ::getpid();
  for (size_t c = 0; c < kContainers; ++c) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      return "cannot fork process " + std::to_string(c) + ": " + std::strerror(errno);
    }
    if (pid == 0) {
      // Dies with the bench; the getppid check covers a bench that died before the prctl.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ChildMain(*shared_, c, &procs_[c * parents_.size()], parents_.size());
    }
    tgids_.push_back(pid);
  }
  if (WaitFor(shared_->ready, Shared::kThreads)) return "";
  return shared_->failed ? "a child could not join its cgroups or start its threads"
                         : "the children did not start within 10 s";
}

RealProcesses::~RealProcesses() { TearDown(); }

void RealProcesses::Run(size_t ran) {
  if (ran == 0 || !error_.empty()) return;
  const uint32_t woken = ran == kThreadsPerProcess ? Shared::kThreads : kBusyWorkers * kContainers;
  shared_->done = 0;
  shared_->target = woken;
  Wake(ran);
  if (!WaitFor(shared_->done, woken)) error_ = "the threads did not finish a run within 10 s";
}

std::vector<std::string> RealProcesses::Files() const {
  std::vector<std::string> out;
  for (const std::string& dir : dirs_) {
    for (const char* f : {"/cpu.stat", "/cpu.cfs_quota_us", "/cpuacct.usage"}) {
      if (std::filesystem::exists(dir + f)) out.push_back(dir + f);
    }
  }
  for (size_t c = 0; c < tgids_.size(); ++c) {
    const std::string task = "/proc/" + std::to_string(tgids_[c]) + "/task/";
    for (size_t t = 0; t < kThreadsPerProcess; ++t) {
      out.push_back(task + std::to_string(shared_->tids[c * kThreadsPerProcess + t]) +
                    "/schedstat");
    }
  }
  return out;
}

// Wakes the workers, and with ran == kThreadsPerProcess every other thread too.
void RealProcesses::Wake(size_t ran) {
  ++shared_->worker_round;
  FutexWake(shared_->worker_round);
  if (ran < kThreadsPerProcess) return;
  ++shared_->all_round;
  FutexWake(shared_->all_round);
}

// Waits until `word` reaches `target`, for 10 s at most so that a benchmark never hangs.
bool RealProcesses::WaitFor(const std::atomic<uint32_t>& word, uint32_t target) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (uint32_t seen; (seen = word) < target;) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (shared_->failed || left <= std::chrono::nanoseconds(0)) return false;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec timeout = {static_cast<time_t>(ns / 1'000'000'000), ns % 1'000'000'000};
    FutexWait(word, seen, &timeout);
  }
  return true;
}

// Undoes whatever the constructor got to. Woken with stop set the children exit by themselves;
// SIGKILL covers one stuck before its threads wait.
void RealProcesses::TearDown() {
  if (shared_ != nullptr) {
    shared_->stop = 1;
    Wake(kThreadsPerProcess);
  }
  for (const int pid : tgids_) ::kill(pid, SIGKILL);
  for (const int pid : tgids_) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  tgids_.clear();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (const std::string& dir : dirs_) RemoveCgroup(dir, deadline);
  for (const std::string& parent : parents_) RemoveCgroup(parent, deadline);
  dirs_.clear();
  procs_.clear();
  parents_.clear();
  if (shared_ != nullptr) ::munmap(shared_, sizeof(Shared));
  shared_ = nullptr;
}

}  // namespace bench
