// IoBuffer: grows as bytes come, never past the cap its caller gives, and
// charges the block it holds to the node's budget until it frees it.
#include "node/io_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace ringkv {
namespace {

TEST(IoBufferTest, GrowsByDoublingButNotPastTheCap) {
  IoBuffer buf;
  buf.Reserve(1000);
  EXPECT_EQ(buf.capacity(), 1000u);
  buf.Commit(1000);
  // Doubling would give 2000; the frame ends at 1500.
  EXPECT_EQ(buf.CapacityFor(100, 1500), 1500u);
  buf.Reserve(100, 1500);
  EXPECT_EQ(buf.capacity(), 1500u);
  buf.Commit(500);
  // The cap never shrinks what must fit: the readable bytes plus `min`.
  EXPECT_EQ(buf.CapacityFor(100, 1500), 1600u);
  EXPECT_EQ(buf.CapacityFor(100), 3000u);
  EXPECT_EQ(buf.size(), 1500u);
}

TEST(IoBufferTest, SlidesInsteadOfGrowingWhenConsumedRoomSuffices) {
  IoBuffer buf;
  buf.Append(std::string(1000, 'a'));
  buf.Append("tail");
  const size_t capacity = buf.capacity();
  buf.Consume(1000);
  EXPECT_EQ(buf.CapacityFor(capacity - 10), capacity);
  buf.Reserve(capacity - 10);
  EXPECT_EQ(buf.capacity(), capacity);
  EXPECT_EQ(buf.readable(), "tail");
}

TEST(IoBufferTest, ChargesItsBlockToTheBudgetUntilFreed) {
  BufferBudget budget(1 << 20);
  {
    IoBuffer buf(&budget);
    buf.Append(std::string(4096, 'x'));
    EXPECT_EQ(budget.used(), buf.capacity());
    buf.Append(std::string(8192, 'y'));
    EXPECT_EQ(budget.used(), buf.capacity());
    buf.Consume(buf.size());
    buf.ShrinkIfEmpty(1024);
    EXPECT_EQ(budget.used(), 0u);
    buf.Append("again");
    EXPECT_EQ(budget.used(), buf.capacity());
  }
  EXPECT_EQ(budget.used(), 0u);
}

TEST(IoBufferTest, BudgetTellsWhatStillFits) {
  BufferBudget budget(100);
  budget.Charge(60);
  EXPECT_TRUE(budget.Allows(40));
  EXPECT_FALSE(budget.Allows(41));
  EXPECT_FALSE(budget.exceeded());
  budget.Charge(50);
  EXPECT_TRUE(budget.exceeded());
  budget.Release(110);
  EXPECT_EQ(budget.used(), 0u);
}

}  // namespace
}  // namespace ringkv
