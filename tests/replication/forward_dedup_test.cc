#include "replication/forward_dedup.h"

#include <gtest/gtest.h>

namespace ringkv {
namespace {

TEST(ForwardDedupTest, DuplicatesAreDroppedThenAnsweredFromMemory) {
  ForwardDedup d(1'000'000);
  PutReply reply;
  EXPECT_EQ(d.Begin("n1", 7, 0, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.Begin("n1", 7, 10, &reply), ForwardDedup::Seen::kInProgress);
  EXPECT_EQ(d.Begin("n2", 7, 10, &reply), ForwardDedup::Seen::kNew);
  PutReply done;
  done.status = Status::Unavailable("1 of 2 required replicas answered");
  d.Finish("n1", 7, done);
  EXPECT_EQ(d.Begin("n1", 7, 20, &reply), ForwardDedup::Seen::kDone);
  EXPECT_EQ(reply, done);
}

TEST(ForwardDedupTest, ForgetsAfterTheTtl) {
  ForwardDedup d(100);
  PutReply reply;
  EXPECT_EQ(d.Begin("n1", 1, 0, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.Begin("n1", 2, 50, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.Begin("n1", 3, 120, &reply), ForwardDedup::Seen::kNew);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.Begin("n1", 1, 121, &reply), ForwardDedup::Seen::kNew);
}

}  // namespace
}  // namespace ringkv
