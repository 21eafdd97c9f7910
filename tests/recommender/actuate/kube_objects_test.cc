#include "recommender/actuate/kube_objects.h"

#include <gtest/gtest.h>

#include "recommender/actuate/kube_client.h"

namespace recommender::actuate {
namespace {

TEST(ParseCpu, ReadsKubernetesQuantities) {
  EXPECT_EQ(ParseCpu("250m"), 0.25);
  EXPECT_EQ(ParseCpu("2"), 2.0);
  EXPECT_EQ(ParseCpu("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*ParseCpu("500u"), 0.0005);
  EXPECT_EQ(ParseCpu(""), std::nullopt);
  EXPECT_EQ(ParseCpu("m"), std::nullopt);
  EXPECT_EQ(ParseCpu("-1"), std::nullopt);
  EXPECT_EQ(ParseCpu("1Gi"), std::nullopt);
}

TEST(MicroTime, RoundTrips) {
  const common::TimePoint t =
      common::TimePoint{} + std::chrono::seconds{1796629010} + std::chrono::microseconds{123456};
  EXPECT_EQ(FormatMicroTime(t), "2026-12-07T07:36:50.123456Z");
  EXPECT_EQ(ParseTime("2026-12-07T07:36:50.123456Z"), t);
  EXPECT_EQ(ParseTime("2026-12-07T07:36:50Z"), t - std::chrono::microseconds{123456});
  EXPECT_EQ(ParseTime("2026-12-07T07:36:50+01:00"), std::nullopt);
}

TEST(ResizePatch, SetsTheChosenFields) {
  EXPECT_EQ(ResizePatch("app", 0.8, ResizeFields::kBoth),
            R"({"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"800m"},)"
            R"("limits":{"cpu":"800m"}}}]}})");
  EXPECT_EQ(ResizePatch("app", 2, ResizeFields::kRequests),
            R"({"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"2"}}}]}})");
  EXPECT_EQ(ResizePatch("app", 1.25, ResizeFields::kLimits),
            R"({"spec":{"containers":[{"name":"app","resources":{"limits":{"cpu":"1250m"}}}]}})");
}

TEST(DeletionCostPatch, AnnotatesTheMetadataOnly) {
  EXPECT_EQ(DeletionCostPatch(3),
            R"({"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"3"}}})");
  EXPECT_EQ(DeletionCostPatch(-2),
            R"({"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"-2"}}})");
}

TEST(ParsePodList, ReadsSpecAndResizeConditions) {
  std::string error;
  const auto pods = ParsePodList(R"({"kind":"PodList","items":[
    {"metadata":{"name":"p1","uid":"u1"},
     "spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"500m"},"limits":{"cpu":"1"}}},
                           {"name":"side"}]},
     "status":{"phase":"Running","conditions":[
        {"type":"PodResizePending","status":"True","reason":"Infeasible","message":"Node didn't have enough capacity"},
        {"type":"PodResizeInProgress","status":"False"}]}},
    {"metadata":{"name":"p2","uid":"u2"},"spec":{"containers":[]},
     "status":{"phase":"Pending","conditions":[{"type":"PodResizeInProgress","status":"True"}]}}]})",
                                 &error);
  ASSERT_TRUE(pods) << error;
  ASSERT_EQ(pods->size(), 2u);
  const PodState& p1 = (*pods)[0];
  EXPECT_EQ(p1.uid, "u1");
  EXPECT_EQ(p1.phase, "Running");
  ASSERT_NE(p1.Container("app"), nullptr);
  EXPECT_EQ(p1.Container("app")->cpu_request, 0.5);
  EXPECT_EQ(p1.Container("app")->cpu_limit, 1.0);
  EXPECT_EQ(p1.Container("side")->cpu_limit, std::nullopt);
  EXPECT_EQ(p1.Container("none"), nullptr);
  EXPECT_EQ(p1.resize_pending, "Infeasible");
  EXPECT_FALSE(p1.resize_in_progress);
  EXPECT_TRUE((*pods)[1].resize_in_progress);
  EXPECT_FALSE(ParsePodList("[]", &error));
  EXPECT_FALSE(ParsePodList(R"({"kind":"PodList"})", &error));
}

constexpr std::string_view kVpa =
    R"({"apiVersion":"autoscaling.k8s.io/v1","kind":"VerticalPodAutoscaler",
  "metadata":{"namespace":"shop","name":"cart","resourceVersion":"42"},
  "spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"cart"},
          "recommenders":[{"name":"queuelens"}],
          "resourcePolicy":{"containerPolicies":[
             {"containerName":"*","mode":"Off"},
             {"containerName":"cart","minAllowed":{"cpu":"100m"},"maxAllowed":{"cpu":2},
              "controlledResources":["cpu"]}]}},
  "status":{"recommendation":{"containerRecommendations":[{"containerName":"cart",
     "target":{"cpu":"500m","memory":"1Gi"},"lowerBound":{"cpu":"400m"},"upperBound":{"cpu":"600m"},
     "uncappedTarget":{"cpu":"500m"}}]},
   "conditions":[{"type":"RecommendationProvided","status":"True","lastTransitionTime":"2026-12-07T07:00:00Z"},
                 {"type":"ConfigUnsupported","status":"False","lastTransitionTime":"2026-12-07T07:00:00Z"}]}})";

TEST(ParseVpa, ReadsSelectionPoliciesAndStatus) {
  std::string error;
  const std::optional<Vpa> v = ParseVpa(kVpa, &error);
  ASSERT_TRUE(v) << error;
  EXPECT_EQ(v->k8s_namespace, "shop");
  EXPECT_EQ(v->resource_version, "42");
  EXPECT_EQ(v->recommenders, std::vector<std::string>{"queuelens"});
  EXPECT_EQ(v->target_kind, "Deployment");
  EXPECT_EQ(v->target_name, "cart");
  const VpaContainerPolicy* cart = v->PolicyFor("cart");
  ASSERT_NE(cart, nullptr);
  EXPECT_EQ(cart->min_cpu, 0.1);
  EXPECT_EQ(cart->max_cpu, 2.0);
  EXPECT_TRUE(cart->controls_cpu);
  EXPECT_TRUE(v->PolicyFor("other")->off);
  ASSERT_EQ(v->recommendation.size(), 1u);
  EXPECT_EQ(v->recommendation[0], (VpaRecommendation{"cart", "500m", "400m", "600m", "500m"}));
  EXPECT_EQ(v->provided, "True");
  EXPECT_EQ(
      v->conditions_json,
      R"([{"type":"ConfigUnsupported","status":"False","lastTransitionTime":"2026-12-07T07:00:00Z"}])");
}

TEST(VpaStatusPatch, KeepsOtherConditions) {
  std::string error;
  const Vpa v = *ParseVpa(kVpa, &error);
  const common::TimePoint now = common::TimePoint{} + std::chrono::seconds{1796629010};
  EXPECT_EQ(VpaStatusPatch(v, {{"cart", "1", "800m", "1200m", "1"}}, now),
            R"({"status":{"recommendation":{"containerRecommendations":[{"containerName":"cart",)"
            R"("target":{"cpu":"1"},"lowerBound":{"cpu":"800m"},"upperBound":{"cpu":"1200m"},)"
            R"("uncappedTarget":{"cpu":"1"}}]},"conditions":[{"type":"ConfigUnsupported",)"
            R"("status":"False","lastTransitionTime":"2026-12-07T07:00:00Z"},)"
            R"({"type":"RecommendationProvided","status":"True",)"
            R"("lastTransitionTime":"2026-12-07T07:36:50Z"}]}})");
}

TEST(ParseVpaWatchEvent, ReadsObjectsAndExpiry) {
  std::string error;
  auto e = ParseVpaWatchEvent(
      std::string(R"({"type":"MODIFIED","object":)") + std::string(kVpa) + "}", &error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->type, "MODIFIED");
  EXPECT_EQ(e->object.name, "cart");
  e = ParseVpaWatchEvent(
      R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}})json",
      &error);
  ASSERT_TRUE(e) << error;
  EXPECT_EQ(e->code, 410);
  EXPECT_FALSE(ParseVpaWatchEvent(R"({"type":"ADDED"})", &error));
}

TEST(Lease, BodyRoundTrips) {
  const common::TimePoint t = common::TimePoint{} + std::chrono::seconds{1796629010};
  const Lease lease{.holder = "r-1",
                    .duration_seconds = 15,
                    .acquire_time = t,
                    .renew_time = t + std::chrono::milliseconds{1500},
                    .transitions = 3,
                    .resource_version = "77"};
  const std::string body = LeaseBody("queuelens", "queuelens-recommender", lease);
  EXPECT_EQ(body,
            R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":)"
            R"("queuelens-recommender","namespace":"queuelens","resourceVersion":"77"},"spec":)"
            R"({"holderIdentity":"r-1","leaseDurationSeconds":15,"acquireTime":)"
            R"("2026-12-07T07:36:50.000000Z","renewTime":"2026-12-07T07:36:51.500000Z",)"
            R"("leaseTransitions":3}})");
  std::string error;
  EXPECT_EQ(ParseLease(body, &error), lease);
}

TEST(RetryDelay, HonoursRetryAfterAndBacksOff) {
  const auto max = std::chrono::seconds{30};
  KubeResponse r{.status = 429, .retry_after = std::chrono::seconds{3}};
  EXPECT_EQ(RetryDelay(r, 0, max), std::chrono::seconds{3});
  r.retry_after = std::chrono::seconds{300};
  EXPECT_EQ(RetryDelay(r, 0, max), max);
  r = KubeResponse{.status = 503};
  EXPECT_EQ(RetryDelay(r, 0, max), std::chrono::milliseconds{500});
  EXPECT_EQ(RetryDelay(r, 2, max), std::chrono::seconds{2});
  r = KubeResponse{.error = "Connection refused"};
  EXPECT_TRUE(RetryDelay(r, 0, max));
  EXPECT_FALSE(RetryDelay(KubeResponse{.status = 409}, 0, max));
  EXPECT_FALSE(RetryDelay(KubeResponse{.status = 422}, 0, max));
  EXPECT_FALSE(RetryDelay(KubeResponse{.status = 200}, 0, max));
  EXPECT_EQ(KubeResponse{.status = 502}.Reason(), "5xx");
  EXPECT_EQ(KubeResponse{.status = 429}.Reason(), "429");
}

}  // namespace
}  // namespace recommender::actuate
