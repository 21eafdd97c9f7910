#include "exporter/kernel/pod_mapping.h"

#include <gtest/gtest.h>

#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::kernel {
namespace {

using fixtures::FakeKubelet;
using fixtures::FixturePath;

constexpr char kUidA[] = "0b6e5ec8-1f3a-4c1b-9f0e-2d7a4c8b9e10";
constexpr char kUidB[] = "5f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5";
const std::string kB1 = "5b950e77941d01cdf246d00b1ece546bc95234b77d98b44c9187e2733afa696a";

TEST(ParseKubeletPodsTest, ReadsNamesAndEveryKindOfContainerId) {
  std::string error;
  const auto pods = ParseKubeletPods(fixtures::ReadText(FixturePath("kubelet_pods.json")), &error);
  ASSERT_TRUE(pods) << error;
  EXPECT_EQ(pods->size(), 4u);
  const KubeletPod& b = pods->at(kUidB);
  EXPECT_EQ(b.k8s_namespace, "shop");
  EXPECT_EQ(b.name, "cart-0");
  ASSERT_EQ(b.containers.size(), 3u);     // cart, redis and the init container
  EXPECT_EQ(b.containers[0].first, kB1);  // "containerd://" stripped
  EXPECT_EQ(b.containers[0].second, "cart");
  EXPECT_EQ(b.containers[2].second, "init-schema");
  EXPECT_TRUE(pods->at("00000000-0000-4000-8000-000000000000").containers.empty());  // pending
}

TEST(ParseKubeletPodsTest, RejectsWhatIsNotAPodList) {
  std::string error;
  EXPECT_FALSE(ParseKubeletPods("{\"items\": [", &error));
  EXPECT_NE(error.find("not JSON"), std::string::npos);
  EXPECT_FALSE(ParseKubeletPods("{\"kind\": \"Status\"}", &error));
  EXPECT_EQ(error, "pod list has no \"items\" array");
  // Items without the fields we need are skipped, not fatal.
  const auto pods = ParseKubeletPods(R"({"items": [{"metadata": {"name": "x"}}, 3]})", &error);
  ASSERT_TRUE(pods);
  EXPECT_TRUE(pods->empty());
}

TEST(ParseKubeletPodsTest, ReadsTheCaptainAnnotations) {
  std::string error;
  const auto pods = ParseKubeletPods(
      R"({"items": [
        {"metadata": {"uid": "a", "name": "a", "annotations": {
          "queuelens.io/cpu-control": "captain", "queuelens.io/captain-min-cpu": "250m",
          "queuelens.io/captain-max-cpu": "2"}}},
        {"metadata": {"uid": "b", "name": "b", "annotations": {
          "queuelens.io/cpu-control": "off", "queuelens.io/captain-max-cpu": "lots"}}},
        {"metadata": {"uid": "c", "name": "c", "annotations": {
          "queuelens.io/cpu-control": "captain", "queuelens.io/captain-min-cpu": "-1"}}},
        {"metadata": {"uid": "d", "name": "d"}}]})",
      &error);
  ASSERT_TRUE(pods) << error;
  const CpuControl& a = pods->at("a").cpu_control;
  EXPECT_TRUE(a.captain);
  EXPECT_EQ(a.min_cores, 0.25);
  EXPECT_EQ(a.max_cores, 2.0);
  EXPECT_FALSE(pods->at("b").cpu_control.captain);  // only "captain" opts in
  EXPECT_FALSE(pods->at("b").cpu_control.max_cores);
  EXPECT_TRUE(pods->at("c").cpu_control.captain);  // a bad bound is ignored, not the opt-in
  EXPECT_FALSE(pods->at("c").cpu_control.min_cores);
  EXPECT_FALSE(pods->at("d").cpu_control.captain);
}

TEST(ParseCpuQuantityTest, CoresAndMillicores) {
  EXPECT_EQ(ParseCpuQuantity("2"), 2.0);
  EXPECT_EQ(ParseCpuQuantity("1.5"), 1.5);
  EXPECT_EQ(ParseCpuQuantity("250m"), 0.25);
  EXPECT_EQ(ParseCpuQuantity(".5"), 0.5);
  for (const char* bad : {"", "m", "0", "-1", "1Ki", "1e400", "x", "+1", " 1"}) {
    EXPECT_FALSE(ParseCpuQuantity(bad)) << bad;
  }
}

PodContainer Container(std::string uid, std::string id) {
  return {.pod_uid = std::move(uid), .container_id = std::move(id)};
}

TEST(PodMapperTest, KubeletNamesWin) {
  FakeKubelet kubelet;
  PodMapper mapper(FsRoot(FixturePath("v2_systemd/proc")), "http://kubelet.test/pods",
                   kubelet.Get());
  ASSERT_TRUE(mapper.RefreshFromKubelet().ok);
  const auto r = mapper.Resolve(Container(kUidB, kB1));
  EXPECT_TRUE(r.final);
  EXPECT_EQ(r.labels.k8s_namespace, "shop");
  EXPECT_EQ(r.labels.pod, "cart-0");
  EXPECT_EQ(r.labels.container, "cart");
  // Known pod, unknown container (a sandbox): the short id, and asked again later.
  const auto sandbox = mapper.Resolve(Container(kUidB, std::string(64, 'c')));
  EXPECT_FALSE(sandbox.final);
  EXPECT_EQ(sandbox.labels.pod, "cart-0");
  EXPECT_EQ(sandbox.labels.container, "cccccccccccc");
}

TEST(PodMapperTest, KubeletFailuresKeepThePreviousList) {
  FakeKubelet kubelet;
  PodMapper mapper(FsRoot(FixturePath("v2_systemd/proc")), "http://kubelet.test/pods",
                   kubelet.Get());
  ASSERT_TRUE(mapper.RefreshFromKubelet().ok);
  kubelet.status = 503;
  const auto failed = mapper.RefreshFromKubelet();
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ(failed.reason, "fetch");
  EXPECT_EQ(failed.error, "GET http://kubelet.test/pods answered HTTP 503");
  EXPECT_EQ(mapper.Resolve(Container(kUidB, kB1)).labels.container, "cart");
}

TEST(PodMapperTest, EnvironmentThenUid) {
  PodMapper mapper(FsRoot(FixturePath("v2_systemd/proc")), "", nullptr);
  // Not learned yet: the UID.
  auto r = mapper.Resolve(Container(kUidA, kB1));
  EXPECT_FALSE(r.final);
  EXPECT_EQ(r.labels.pod, kUidA);
  EXPECT_EQ(r.labels.k8s_namespace, "");

  mapper.Learn(Container(kUidA, kB1), 100);  // the sandbox: no HOSTNAME
  EXPECT_EQ(mapper.Resolve(Container(kUidA, kB1)).labels.pod, kUidA);
  mapper.Learn(Container(kUidA, kB1), 101);
  r = mapper.Resolve(Container(kUidA, kB1));
  EXPECT_TRUE(r.final);  // no kubelet to ask later
  EXPECT_EQ(r.labels.pod, "frontend-7d9f8b6c5-x2k4p");
  EXPECT_EQ(r.labels.k8s_namespace, "shop");
  EXPECT_EQ(r.labels.container, kB1.substr(0, 12));

  mapper.Retain({});
  EXPECT_EQ(mapper.Resolve(Container(kUidA, kB1)).labels.pod, kUidA);
}

TEST(PodMapperTest, WithAKubeletTheEnvironmentIsOnlyAStopgap) {
  FakeKubelet kubelet;
  kubelet.status = 500;
  PodMapper mapper(FsRoot(FixturePath("v2_systemd/proc")), "http://kubelet.test/pods",
                   kubelet.Get());
  EXPECT_FALSE(mapper.RefreshFromKubelet().ok);
  mapper.Learn(Container(kUidA, kB1), 101);
  const auto r = mapper.Resolve(Container(kUidA, kB1));
  EXPECT_EQ(r.labels.pod, "frontend-7d9f8b6c5-x2k4p");
  EXPECT_FALSE(r.final);
}

TEST(PodMapperTest, MalformedKubeletAnswerIsReportedAsSuch) {
  PodMapper mapper(FsRoot(FixturePath("v2_systemd/proc")), "http://kubelet.test/pods",
                   [](const std::string&) {
                     common::HttpResult r;
                     r.status = 200;
                     r.body = "<html>login</html>";
                     return r;
                   });
  const auto r = mapper.RefreshFromKubelet();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.reason, "malformed");
}

}  // namespace
}  // namespace exporter::kernel
