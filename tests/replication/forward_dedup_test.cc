#include "replication/forward_dedup.h"

#include <gtest/gtest.h>

namespace ringkv {
namespace {

TEST(ForwardDedupTest, DuplicatesAreDroppedThenAnsweredFromMemory) {
  ForwardDedup d;
  PutReply reply;
  EXPECT_EQ(d.Begin("n1", 7, 99, 0, 1000, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.Begin("n1", 7, 99, 10, 1000, &reply), ForwardDedup::Seen::kInProgress);
  EXPECT_EQ(d.Begin("n2", 7, 99, 10, 1000, &reply), ForwardDedup::Seen::kNew);
  PutReply done;
  done.status = Status::Unavailable("1 of 2 required replicas answered");
  d.Finish("n1", 7, 99, done);
  EXPECT_EQ(d.Begin("n1", 7, 99, 20, 1000, &reply), ForwardDedup::Seen::kDone);
  EXPECT_EQ(reply, done);
}

TEST(ForwardDedupTest, AReusedIdWithOtherContentsIsANewPut) {
  PutRequest a;
  a.bucket = "b";
  a.key = "k";
  a.value = "v1";
  PutRequest b = a;
  b.value = "v2";
  PutRequest a_again = a;
  ASSERT_NE(ForwardDedup::Fingerprint(a), ForwardDedup::Fingerprint(b));
  EXPECT_EQ(ForwardDedup::Fingerprint(a), ForwardDedup::Fingerprint(a_again));
  ForwardDedup d;
  PutReply reply;
  EXPECT_EQ(d.Begin("n1", 1, ForwardDedup::Fingerprint(a), 0, 1000, &reply), ForwardDedup::Seen::kNew);
  d.Finish("n1", 1, ForwardDedup::Fingerprint(a), PutReply{});
  // The sender restarted and counts ids from 1 again.
  EXPECT_EQ(d.Begin("n1", 1, ForwardDedup::Fingerprint(b), 5, 1000, &reply), ForwardDedup::Seen::kNew);
}

TEST(ForwardDedupTest, ForgetsOncePastTheForwardersDeadline) {
  ForwardDedup d;
  PutReply reply;
  EXPECT_EQ(d.Begin("n1", 1, 0, 0, 100, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.Begin("n1", 2, 0, 50, 150, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.Begin("n1", 1, 0, 100, 200, &reply), ForwardDedup::Seen::kInProgress);
  EXPECT_EQ(d.Begin("n1", 3, 0, 120, 220, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.Begin("n1", 1, 0, 121, 221, &reply), ForwardDedup::Seen::kNew);
}

}  // namespace
}  // namespace ringkv
