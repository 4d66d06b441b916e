#include "replication/quorum.h"

#include <gtest/gtest.h>

#include "common/quorum.h"
#include "replication/bucket.h"

namespace ringkv {
namespace {

TEST(QuorumTrackerTest, MetAfterEnoughSuccesses) {
  QuorumTracker q(2, 0);
  for (int i = 0; i < 3; ++i) q.Expect(true);
  q.Succeeded(true);
  EXPECT_FALSE(q.Met());
  q.Succeeded(true);
  EXPECT_TRUE(q.Met());
  EXPECT_FALSE(q.AllAnswered());
  q.Failed(true);
  EXPECT_TRUE(q.AllAnswered());
}

TEST(QuorumTrackerTest, ImpossibleAsSoonAsTooManyFail) {
  QuorumTracker q(3, 0);
  for (int i = 0; i < 3; ++i) q.Expect(true);
  q.Succeeded(true);
  EXPECT_FALSE(q.Impossible());
  q.Failed(true);
  EXPECT_TRUE(q.Impossible());
  EXPECT_EQ(q.Shortfall(), "1 of 3 required replicas answered");
}

TEST(QuorumTrackerTest, FallbackAcksCountTowardWButNotPw) {
  QuorumTracker q(2, 2);
  q.Expect(true);
  q.Expect(true);
  q.Expect(false);
  q.Succeeded(true);
  q.Succeeded(false);
  EXPECT_FALSE(q.Met());
  q.Failed(true);
  EXPECT_TRUE(q.Impossible());
  EXPECT_EQ(q.Shortfall(), "1 of 2 required primary replicas answered");
}

TEST(QuorumTrackerTest, RequiredAboveReplicasIsImpossibleAtOnce) {
  QuorumTracker q(3, 0);
  q.Expect(true);
  q.Expect(true);
  EXPECT_TRUE(q.Impossible());
}

TEST(BucketPropsTest, ParsesSpecs) {
  auto p = ParseBucketProps("resolver=lww,n=5,r=quorum,w=all", BucketProps{});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->resolver, "lww");
  EXPECT_EQ(p->n, 5u);
  EXPECT_EQ(p->r, 3u);
  EXPECT_EQ(p->w, 5u);
  EXPECT_EQ(FormatBucketProps(*p), "resolver=lww,n=5,r=3,w=5");
}

TEST(BucketPropsTest, DefaultsFollowASmallerN) {
  auto p = ParseBucketProps("n=1", BucketProps{});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->r, 1u);
  EXPECT_EQ(p->w, 1u);
}

TEST(BucketPropsTest, RejectsBadSpecs) {
  EXPECT_TRUE(ParseBucketProps("resolver=max", {}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseBucketProps("n=0", {}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseBucketProps("n=3,r=4", {}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseBucketProps("color=red", {}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseBucketProps("n", {}).status().IsInvalidArgument());
  EXPECT_TRUE(ParseBucketProps("w=x", {}).status().IsInvalidArgument());
}

TEST(QuorumArgTest, NamedLevelsResolveAgainstN) {
  EXPECT_EQ(*ResolveQuorum(*ParseQuorumArg("one"), 2, 3, "r"), 1u);
  EXPECT_EQ(*ResolveQuorum(*ParseQuorumArg("quorum"), 1, 3, "r"), 2u);
  EXPECT_EQ(*ResolveQuorum(*ParseQuorumArg("quorum"), 1, 4, "r"), 3u);
  EXPECT_EQ(*ResolveQuorum(*ParseQuorumArg("all"), 1, 3, "r"), 3u);
  EXPECT_EQ(*ResolveQuorum(kQuorumDefault, 2, 3, "r"), 2u);
  EXPECT_TRUE(ResolveQuorum(4, 2, 3, "w").status().IsInvalidArgument());
  EXPECT_TRUE(ParseQuorumArg("0").status().IsInvalidArgument());
  EXPECT_TRUE(ParseQuorumArg("most").status().IsInvalidArgument());
}

// Issue 12: "--w 4294967295" used to be taken as all, since that number is
// all's wire value. No bucket has that many replicas: every spelling of a
// count too large for any n is refused, and counts above n by the node.
TEST(QuorumTest, CountsThatAreWireNamesOrOverflowAreRefused) {
  for (const char* text : {"4294967295", "4294967294", "4294967296", "99999999999", "-1", "+3",
                           " 3", "3 ", "0x3", "ALL"}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(ParseQuorumArg(text).status().IsInvalidArgument());
  }
  EXPECT_NE(ParseQuorumArg("4294967295").status().message().find("exceeds any bucket's n"),
            std::string::npos);
  EXPECT_EQ(*ParseQuorumArg("4294967293"), 4294967293u);
  Status above = ResolveQuorum(*ParseQuorumArg("99"), 2, 3, "r").status();
  EXPECT_EQ(above.message(), "r=99 exceeds the bucket's n=3");
}

}  // namespace
}  // namespace ringkv
