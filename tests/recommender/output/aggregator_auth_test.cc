#include "recommender/output/aggregator_auth.h"

#include <gtest/gtest.h>

#include "tests/recommender/output/kubernetes_api.h"

namespace recommender::output {
namespace {

TEST(AggregatorAuthTest, RefusesWithoutAVerifiedAllowedCertificate) {
  common::HttpRequest r = Get("/apis");
  std::optional<common::HttpResponse> refusal = RefuseUnauthenticated(r, {});
  ASSERT_TRUE(refusal);
  ExpectStatus(*refusal, 401, "Unauthorized", "client certificate");
  r.client_cert_cn = "front-proxy-client";  // a name alone, unverified, counts for nothing
  ASSERT_TRUE(RefuseUnauthenticated(r, {}));
  EXPECT_EQ(RefuseUnauthenticated(r, {})->status, 401);

  r.client_cert_verified = true;
  EXPECT_FALSE(RefuseUnauthenticated(r, {}));  // no allowed names: any the CA signed
  EXPECT_FALSE(RefuseUnauthenticated(r, {"aggregator", "front-proxy-client"}));
  refusal = RefuseUnauthenticated(r, {"aggregator"});
  ASSERT_TRUE(refusal);
  ExpectStatus(*refusal, 403, "Forbidden", "\"front-proxy-client\" is not one of");
}

}  // namespace
}  // namespace recommender::output
