#include "http/route.h"

#include <gtest/gtest.h>

#include "common/quorum.h"

namespace ringkv::http {
namespace {

TEST(RouteTest, FixedRoutes) {
  EXPECT_EQ(ParseRoute("/")->kind, RouteKind::kPage);
  EXPECT_EQ(ParseRoute("/livez")->kind, RouteKind::kLivez);
  EXPECT_EQ(ParseRoute("/readyz")->kind, RouteKind::kReadyz);
  EXPECT_EQ(ParseRoute("/metrics")->kind, RouteKind::kMetrics);
  EXPECT_EQ(ParseRoute("/v1/ring")->kind, RouteKind::kRing);
}

TEST(RouteTest, SegmentsAreSplitBeforeTheyAreDecoded) {
  Result<Route> r = ParseRoute("/v1/buckets/a%2Fb/keys/c%2Fd+e%25");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, RouteKind::kKey);
  EXPECT_EQ(r->bucket, "a/b");
  EXPECT_EQ(r->key, "c/d+e%");
  Result<Route> props = ParseRoute("/v1/buckets/%C3%A9/props");
  ASSERT_TRUE(props.ok());
  EXPECT_EQ(props->kind, RouteKind::kProps);
  EXPECT_EQ(props->bucket, "\xc3\xa9");
}

TEST(RouteTest, BadPathsAreRefusedOrNotFound) {
  for (const char* bad : {"/v1/buckets//keys/k", "/v1/buckets/b/keys/", "/v1/buckets/b/keys/a/b",
                          "/v1/buckets/b/keys/%zz", "/v1/buckets/%/props"}) {
    Result<Route> r = ParseRoute(bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad << " " << r.status().ToString();
  }
  for (const char* missing : {"/x", "/v1", "/v1/buckets/b", "/v2/buckets/b/keys/k",
                              "/v1/buckets/b/other/k", "/livez/"}) {
    EXPECT_TRUE(ParseRoute(missing).status().IsNotFound()) << missing;
  }
}

TEST(RouteTest, QueriesTakeTheirMethodsParameters) {
  Result<KeyQuery> q = ParseKeyQuery("r=2&pr=one&timeout_ms=250", QueryFor::kRead);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->r, 2u);
  EXPECT_EQ(q->pr, 1u);
  EXPECT_EQ(q->timeout_ms, 250u);
  Result<KeyQuery> w = ParseKeyQuery("w=all&pw=quorum", QueryFor::kWrite);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->w, kQuorumAll);
  EXPECT_EQ(w->pw, kQuorumQuorum);
  EXPECT_TRUE(ParseKeyQuery("r=1&w=1", QueryFor::kDelete).ok());
  EXPECT_TRUE(ParseKeyQuery("", QueryFor::kRead).ok());
}

TEST(RouteTest, BadQueriesAreRefused) {
  for (const char* bad : {"r=x", "r=0", "r=", "r=-1", "w=1", "zz=1", "r=1&r=1", "timeout_ms=0",
                          "timeout_ms=3600001", "timeout_ms=12ms", "r=%zz", "%zz=1"}) {
    Result<KeyQuery> r = ParseKeyQuery(bad, QueryFor::kRead);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
  }
  EXPECT_TRUE(ParseKeyQuery("r=1", QueryFor::kWrite).status().IsInvalidArgument());
}

}  // namespace
}  // namespace ringkv::http
