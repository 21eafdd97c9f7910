#include "exporter/state/trace_analysis.h"

#include <gtest/gtest.h>

#include <vector>

namespace exporter::state {
namespace {

using spans::SpanKind;

constexpr uint32_t kA = 1, kB = 2, kC = 3;

SpanRecord MakeSpan(uint64_t id, uint64_t parent, uint32_t service, SpanKind kind, int64_t start,
                    int64_t end) {
  return SpanRecord{.span_id = id,
                    .parent_span_id = parent,
                    .start_unix_nano = start,
                    .end_unix_nano = end,
                    .service = service,
                    .kind = kind};
}

std::vector<Request> Analyse(const std::vector<SpanRecord>& spans) {
  TraceScratch scratch;
  std::vector<Request> out;
  FindRequests(spans, scratch, out);
  return out;
}

TEST(FindRequestsTest, LoneServerSpanIsAllExclusive) {
  const auto r = Analyse({MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].duration_nano, 100);
  EXPECT_EQ(r[0].exclusive_nano, 100);
  EXPECT_EQ(r[0].caller_service, 0u);
}

TEST(FindRequestsTest, SubtractsDownstreamCallBehindOwnClientSpan) {
  // A serves [0,100]; its client span [10,60] calls B, which serves [15,55].
  const auto r = Analyse({MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100),
                          MakeSpan(2, 1, kA, SpanKind::kClient, 10, 60),
                          MakeSpan(3, 2, kB, SpanKind::kServer, 15, 55)});
  ASSERT_EQ(r.size(), 2u);  // the client span of A is not a request
  EXPECT_EQ(r[0].span_index, 0u);
  EXPECT_EQ(r[0].exclusive_nano, 60);  // the gap between A's client and B's server stays A's
  EXPECT_EQ(r[1].span_index, 2u);
  EXPECT_EQ(r[1].exclusive_nano, 40);
  EXPECT_EQ(r[1].caller_service, kA);
}

TEST(FindRequestsTest, ParallelChildrenCountOnceByUnion) {
  const auto r = Analyse({MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100),
                          MakeSpan(2, 1, kB, SpanKind::kServer, 10, 50),
                          MakeSpan(3, 1, kC, SpanKind::kServer, 30, 70),
                          MakeSpan(4, 1, kB, SpanKind::kServer, 80, 90)});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].exclusive_nano, 100 - 60 - 10);
}

TEST(FindRequestsTest, NestedDescendantsOfOtherServicesAreCoveredByTheOutermost) {
  // B [10,90] calls C [20,30]; A only loses B's interval once.
  const auto r = Analyse({MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100),
                          MakeSpan(2, 1, kB, SpanKind::kServer, 10, 90),
                          MakeSpan(3, 2, kC, SpanKind::kServer, 20, 30)});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].exclusive_nano, 20);
  EXPECT_EQ(r[1].exclusive_nano, 70);
  EXPECT_EQ(r[2].exclusive_nano, 10);
  EXPECT_EQ(r[2].caller_service, kB);
}

TEST(FindRequestsTest, ChildOutlivingParentIsClippedAndExclusiveNeverNegative) {
  const auto r = Analyse({MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100),
                          MakeSpan(2, 1, kB, SpanKind::kServer, 90, 150),
                          MakeSpan(3, 0, kC, SpanKind::kServer, 0, 10),
                          MakeSpan(4, 3, kA, SpanKind::kServer, 0, 50)});
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].exclusive_nano, 90);
  EXPECT_EQ(r[2].exclusive_nano, 0);  // C's child A covers all of C
}

TEST(FindRequestsTest, SameServiceInternalSpansStayExclusiveAndAreNotRequests) {
  // A's own database client span (no server side) is A's time, as in hotel-reservation.
  const auto r = Analyse({MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100),
                          MakeSpan(2, 1, kA, SpanKind::kInternal, 5, 20),
                          MakeSpan(3, 2, kA, SpanKind::kClient, 6, 19)});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].exclusive_nano, 100);
}

TEST(FindRequestsTest, SpanWithAbsentParentOrOtherServiceParentIsARequest) {
  const auto r = Analyse({MakeSpan(1, 99, kA, SpanKind::kInternal, 0, 10),  // parent not here
                          MakeSpan(2, 1, kB, SpanKind::kInternal, 2, 8),    // parent in A
                          MakeSpan(3, 2, kB, SpanKind::kClient, 3, 4)});    // parent in B
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].span_index, 0u);
  EXPECT_EQ(r[0].exclusive_nano, 4);
  EXPECT_EQ(r[1].span_index, 1u);
  EXPECT_EQ(r[1].caller_service, kA);
}

TEST(FindRequestsTest, ReferenceCyclesTerminate) {
  const auto r = Analyse({MakeSpan(1, 2, kA, SpanKind::kServer, 0, 100),
                          MakeSpan(2, 1, kA, SpanKind::kServer, 0, 100),
                          MakeSpan(3, 3, kB, SpanKind::kServer, 0, 10)});  // its own parent
  EXPECT_EQ(r.size(), 3u);
}

TEST(FindRequestsTest, DeepChainIsWalkedWithoutRecursion) {
  std::vector<SpanRecord> spans;
  for (uint64_t i = 1; i <= 100'000; ++i) {
    spans.push_back(MakeSpan(i, i - 1, kA, SpanKind::kInternal, 0, 1000));
  }
  spans.push_back(MakeSpan(200'000, 100'000, kB, SpanKind::kServer, 100, 300));
  const auto r = Analyse(spans);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].exclusive_nano, 800);
}

TEST(FindRequestsTest, ScratchIsReusableAcrossTraces) {
  TraceScratch scratch;
  std::vector<Request> out;
  for (int round = 0; round < 3; ++round) {
    FindRequests(std::vector<SpanRecord>{MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100),
                                         MakeSpan(2, 1, kB, SpanKind::kServer, 0, 30)},
                 scratch, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].exclusive_nano, 70);
  }
}

// Small traces find parents by scanning, large ones through a sorted index: both take the first
// span (lowest index) with the parent's id, and a span never becomes its own parent.
TEST(FindRequestsTest, DuplicateIdsResolveToTheFirstSpanInSmallAndLargeTraces) {
  for (const int padding : {0, 40}) {
    std::vector<SpanRecord> spans = {
        MakeSpan(1, 0, kA, SpanKind::kServer, 0, 100),
        MakeSpan(2, 1, kB, SpanKind::kServer, 10, 50),
        MakeSpan(2, 1, kC, SpanKind::kServer, 60, 90),    // same id: never a parent
        MakeSpan(3, 2, kA, SpanKind::kInternal, 20, 30),  // parent: the kB span
        MakeSpan(7, 7, kC, SpanKind::kInternal, 0, 10),   // first id-7 span is itself
        MakeSpan(7, 0, kC, SpanKind::kInternal, 0, 10),
    };
    for (int i = 0; i < padding; ++i) {
      spans.push_back(MakeSpan(100 + static_cast<uint64_t>(i), 0, kA, SpanKind::kServer, 0, 1));
    }
    const auto r = Analyse(spans);
    SCOPED_TRACE(padding);
    ASSERT_EQ(r.size(), 6u + static_cast<size_t>(padding));
    EXPECT_EQ(r[0].exclusive_nano, 100 - 40 - 30);  // both id-2 spans are its children
    EXPECT_EQ(r[3].span_index, 3u);
    EXPECT_EQ(r[3].caller_service, kB);
    EXPECT_EQ(r[4].span_index, 4u);  // no parent, so a request although internal
    EXPECT_EQ(r[4].caller_service, 0u);
  }
}

}  // namespace
}  // namespace exporter::state
