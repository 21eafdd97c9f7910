#include "exporter/state/trace_analysis.h"

#include <algorithm>

namespace exporter::state {
namespace {

constexpr uint32_t kNone = 0xffffffffu;
// Traces up to this many spans find parents by scanning: fewer steps than sorting an id index.
constexpr uint32_t kScanSpans = 32;

void IndexTrace(std::span<const SpanRecord> spans, TraceScratch& s) {
  const auto n = static_cast<uint32_t>(spans.size());
  s.parent.assign(n, kNone);
  s.child_begin.assign(n + 1, 0);
  // A span's parent is the first span (lowest index) with its parent id, unless that is itself.
  auto link = [&](uint32_t i, uint32_t p) {
    if (p == i) return;
    s.parent[i] = p;
    ++s.child_begin[p + 1];
  };
  if (n <= kScanSpans) {
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t pid = spans[i].parent_span_id;
      if (pid == 0) continue;
      for (uint32_t j = 0; j < n; ++j) {
        if (spans[j].span_id == pid) {
          link(i, j);
          break;
        }
      }
    }
  } else {
    s.by_id.clear();
    for (uint32_t i = 0; i < n; ++i) s.by_id.emplace_back(spans[i].span_id, i);
    std::sort(s.by_id.begin(), s.by_id.end());
    for (uint32_t i = 0; i < n; ++i) {
      const uint64_t pid = spans[i].parent_span_id;
      if (pid == 0) continue;
      auto it = std::lower_bound(s.by_id.begin(), s.by_id.end(), std::make_pair(pid, 0u));
      if (it != s.by_id.end() && it->first == pid) link(i, it->second);
    }
  }
  for (uint32_t i = 0; i < n; ++i) s.child_begin[i + 1] += s.child_begin[i];
  s.children.resize(s.child_begin[n]);
  // Fill children using `stack` as the per-parent write cursor.
  s.stack.assign(s.child_begin.begin(), s.child_begin.end() - 1);
  for (uint32_t i = 0; i < n; ++i) {
    if (s.parent[i] != kNone) s.children[s.stack[s.parent[i]]++] = i;
  }
  if (s.visited.size() < n) s.visited.resize(n, 0);
}

bool IsRequest(std::span<const SpanRecord> spans, const TraceScratch& s, uint32_t i) {
  const SpanRecord& span = spans[i];
  if (span.kind == spans::SpanKind::kServer || span.kind == spans::SpanKind::kConsumer) return true;
  return s.parent[i] == kNone || spans[s.parent[i]].service != span.service;
}

// Length of the union of intervals (sorted in place).
int64_t UnionLength(std::vector<std::pair<int64_t, int64_t>>& intervals) {
  std::sort(intervals.begin(), intervals.end());
  int64_t total = 0;
  int64_t cur_start = 0;
  int64_t cur_end = 0;
  bool open = false;
  for (const auto& [a, b] : intervals) {
    if (!open || a > cur_end) {
      if (open) total += cur_end - cur_start;
      cur_start = a;
      cur_end = b;
      open = true;
    } else {
      cur_end = std::max(cur_end, b);
    }
  }
  if (open) total += cur_end - cur_start;
  return total;
}

int64_t ExclusiveTime(std::span<const SpanRecord> spans, TraceScratch& s, uint32_t root) {
  const SpanRecord& r = spans[root];
  const int64_t duration = r.end_unix_nano - r.start_unix_nano;
  if (++s.stamp == 0) {  // stamp wrapped: forget old marks
    std::fill(s.visited.begin(), s.visited.end(), 0);
    s.stamp = 1;
  }
  s.intervals.clear();
  s.stack.clear();
  s.stack.push_back(root);
  s.visited[root] = s.stamp;
  while (!s.stack.empty()) {
    const uint32_t i = s.stack.back();
    s.stack.pop_back();
    for (uint32_t c = s.child_begin[i]; c < s.child_begin[i + 1]; ++c) {
      const uint32_t child = s.children[c];
      if (s.visited[child] == s.stamp) continue;
      s.visited[child] = s.stamp;
      const SpanRecord& d = spans[child];
      if (d.service != r.service) {
        const int64_t a = std::max(d.start_unix_nano, r.start_unix_nano);
        const int64_t b = std::min(d.end_unix_nano, r.end_unix_nano);
        if (a < b) s.intervals.emplace_back(a, b);
      } else {
        s.stack.push_back(child);
      }
    }
  }
  return std::clamp<int64_t>(duration - UnionLength(s.intervals), 0, duration);
}

}  // namespace

void FindRequests(std::span<const SpanRecord> spans, TraceScratch& scratch,
                  std::vector<Request>& out) {
  out.clear();
  if (spans.empty()) return;
  IndexTrace(spans, scratch);
  for (uint32_t i = 0; i < spans.size(); ++i) {
    if (!IsRequest(spans, scratch, i)) continue;
    Request req;
    req.span_index = i;
    req.duration_nano = std::max<int64_t>(0, spans[i].end_unix_nano - spans[i].start_unix_nano);
    req.exclusive_nano = req.duration_nano > 0 ? ExclusiveTime(spans, scratch, i) : 0;
    const uint32_t p = scratch.parent[i];
    if (p != kNone && spans[p].service != spans[i].service) req.caller_service = spans[p].service;
    out.push_back(req);
  }
}

}  // namespace exporter::state
