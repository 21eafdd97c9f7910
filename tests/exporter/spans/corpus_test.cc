#include "bench/corpus.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace bench {
namespace {

using exporter::spans::SpanFormat;
using exporter::spans::SpanKind;

TEST(Corpus, SameSeedSameBytes) {
  const CorpusOptions options{.traces = 50, .seed = 9};
  for (SpanFormat f : {SpanFormat::kJaegerJson, SpanFormat::kOtlpJson, SpanFormat::kOtlpProto}) {
    EXPECT_EQ(Serialize(GenerateCorpus(options), f), Serialize(GenerateCorpus(options), f));
  }
  EXPECT_NE(ToJaegerJson(GenerateCorpus(options)),
            ToJaegerJson(GenerateCorpus({.traces = 50, .seed = 10})));
}

TEST(Corpus, FollowsTheHotelReservationCallGraph) {
  const CorpusOptions options{.traces = 4000, .seed = 1};
  const Corpus corpus = GenerateCorpus(options);
  ASSERT_EQ(corpus.traces.size(), 4000u);
  std::map<std::string, int> roots;
  std::set<std::string> services;
  int64_t previous_start = 0;
  for (const CorpusTrace& trace : corpus.traces) {
    ASSERT_FALSE(trace.spans.empty());
    const CorpusSpan& root = trace.spans.front();
    EXPECT_EQ(root.parent_span_id, 0u);
    EXPECT_EQ(root.kind, SpanKind::kServer);
    EXPECT_EQ(corpus.processes[root.process].service, "frontend");
    EXPECT_GE(root.start_unix_nano, previous_start);
    previous_start = root.start_unix_nano;
    ++roots[root.operation];
    std::map<uint64_t, const CorpusSpan*> by_id;
    for (const CorpusSpan& s : trace.spans) by_id[s.span_id] = &s;
    EXPECT_EQ(by_id.size(), trace.spans.size()) << "span ids repeat within a trace";
    for (const CorpusSpan& s : trace.spans) {
      services.insert(corpus.processes[s.process].service);
      EXPECT_EQ(s.start_unix_nano % 1000, 0);
      EXPECT_EQ(s.end_unix_nano % 1000, 0);
      EXPECT_GT(s.end_unix_nano, s.start_unix_nano);
      if (s.parent_span_id == 0) continue;
      const auto parent = by_id.find(s.parent_span_id);
      ASSERT_NE(parent, by_id.end());
      EXPECT_GE(s.start_unix_nano, parent->second->start_unix_nano) << s.operation;
      EXPECT_LE(s.end_unix_nano, parent->second->end_unix_nano) << s.operation;
      if (s.kind == SpanKind::kServer) {
        // A server span is the callee side of its parent client span, in another service.
        EXPECT_EQ(parent->second->kind, SpanKind::kClient);
        EXPECT_EQ(parent->second->operation, s.operation);
        EXPECT_NE(corpus.processes[parent->second->process].service,
                  corpus.processes[s.process].service);
      } else {
        EXPECT_EQ(s.kind, SpanKind::kClient);
        EXPECT_EQ(parent->second->process, s.process) << "client spans belong to their caller";
      }
    }
  }
  // 60 / 39 / 0.5 / 0.5 % of 4000, within a few standard deviations.
  EXPECT_NEAR(roots["HTTP GET /hotels"], 2400, 120);
  EXPECT_NEAR(roots["HTTP GET /recommendations"], 1560, 120);
  EXPECT_NEAR(roots["HTTP POST /user"], 20, 15);
  EXPECT_NEAR(roots["HTTP POST /reservation"], 20, 15);
  EXPECT_EQ(services, (std::set<std::string>{"frontend", "search", "geo", "rate", "profile",
                                             "recommendation", "user", "reservation"}));
  const double spans_per_trace = static_cast<double>(corpus.SpanCount()) / 4000;
  EXPECT_GT(spans_per_trace, 8);
  EXPECT_LT(spans_per_trace, 16);
}

TEST(Corpus, JaegerPayloadIsAboutSixHundredBytesPerSpan) {
  const Corpus corpus = GenerateCorpus({.traces = 500, .seed = 2});
  const double bytes_per_span =
      static_cast<double>(ToJaegerJson(corpus).size()) / static_cast<double>(corpus.SpanCount());
  EXPECT_GT(bytes_per_span, 550);
  EXPECT_LT(bytes_per_span, 800);
}

TEST(Corpus, SeveralPodsPerServiceInOneNamespace) {
  const Corpus corpus = GenerateCorpus({.traces = 10, .seed = 4});
  std::map<std::string, int> pods;
  for (const CorpusProcess& p : corpus.processes) {
    ++pods[p.service];
    EXPECT_EQ(p.pod.rfind(p.service + "-", 0), 0u) << p.pod;
  }
  EXPECT_EQ(pods["frontend"], 3);
  EXPECT_EQ(pods["profile"], 3);
  EXPECT_EQ(pods["user"], 1);
  const auto expected = ExpectedSpans(corpus);
  for (const auto& s : expected) EXPECT_EQ(s.k8s_namespace, "hotel");
}

}  // namespace
}  // namespace bench
