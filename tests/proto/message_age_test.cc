// MessageAge tells how long a peer's message waited, whatever the offset
// between the two nodes' monotonic clocks.
#include "proto/message_age.h"

#include <gtest/gtest.h>

namespace ringkv {
namespace {

constexpr int64_t kOffset = 987'654'321;  // receiver's clock minus sender's
constexpr int64_t kDelay = 200;           // one-way delay on a quiet link

TEST(MessageAgeTest, FirstAndPromptMessagesAreFresh) {
  MessageAge ages;
  int64_t sent = 1'000'000;
  EXPECT_EQ(ages.Observe("n1", 7, sent, sent + kOffset + kDelay), 0);
  // 1 ms apart, so the drift allowance (1 us per ms) is far below the jitter.
  for (int i = 1; i <= 10; ++i) {
    sent += 1'000;
    const int64_t jitter = (i % 3) * 100;
    EXPECT_NEAR(ages.Observe("n1", 7, sent, sent + kOffset + kDelay + jitter), jitter, 20) << i;
  }
}

TEST(MessageAgeTest, ABacklogReadAfterAPauseIsAsOldAsItWaited) {
  MessageAge ages;
  int64_t sent = 5'000'000;
  for (int i = 0; i < 5; ++i, sent += 1'000'000) {
    ASSERT_EQ(ages.Observe("n1", 7, sent, sent + kOffset + kDelay), 0);
  }
  // The receiver stops for 9 s; what the peer sent meanwhile is read at once.
  const int64_t resumed = sent + 9'000'000 + kOffset;
  const int64_t age = ages.Observe("n1", 7, sent, resumed);
  // Drift allowance: at most 1,000 ppm of the 10 s since the last sample.
  EXPECT_GE(age, 9'000'000 - kDelay - 10'000);
  EXPECT_LE(age, 9'000'000);
  // The backlog did not move the estimate: the next prompt message is fresh.
  EXPECT_EQ(ages.Observe("n1", 7, resumed - kOffset, resumed + kDelay), 0);
}

TEST(MessageAgeTest, FollowsASlowDriftWithoutCallingItAge) {
  MessageAge ages(1000);
  // The sender's clock runs 200 ppm slow: the offset grows 200 us a second.
  int64_t offset = kOffset;
  for (int64_t t = 0; t < 600; ++t) {
    const int64_t sent = t * 1'000'000;
    offset += 200;
    EXPECT_EQ(ages.Observe("n1", 7, sent, sent + offset + kDelay), 0) << t;
  }
}

TEST(MessageAgeTest, PeersAreJudgedApart) {
  MessageAge ages;
  ASSERT_EQ(ages.Observe("n1", 7, 0, kOffset), 0);
  ASSERT_EQ(ages.Observe("n2", 3, 0, -kOffset), 0);
  EXPECT_NEAR(ages.Observe("n1", 7, 1'000'000, kOffset + 1'006'000), 5'000, 10);
  EXPECT_NEAR(ages.Observe("n2", 3, 1'000'000, -kOffset + 1'008'000), 7'000, 10);
}

TEST(MessageAgeTest, ARestartedPeerStartsAFreshEstimate) {
  MessageAge ages;
  ASSERT_EQ(ages.Observe("n1", 7, 1'000'000, 1'000'000 + kOffset), 0);
  // A new process on another host: its clock's origin is elsewhere.
  EXPECT_EQ(ages.Observe("n1", 8, 50, 2'000'000 + kOffset), 0);
  // 1 s later, 5 ms late: 1 ms of that is the drift allowance.
  EXPECT_NEAR(ages.Observe("n1", 8, 1'000'050, 3'000'000 + kOffset + 5'000), 4'000, 10);
}

TEST(MessageAgeTest, AnEarlierLifeIsJudgedOnTheCurrentEstimate) {
  // Same host, same monotonic clock: a message the peer's previous process
  // wrote before it died is as old as it is.
  MessageAge ages;
  ASSERT_EQ(ages.Observe("n1", 8, 10'000'000, 10'000'000 + kOffset), 0);
  EXPECT_EQ(ages.Observe("n1", 7, 4'000'000, 10'000'100 + kOffset), 6'000'100 - 0);
}

}  // namespace
}  // namespace ringkv
