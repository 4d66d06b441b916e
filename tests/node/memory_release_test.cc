// MemoryReleaser: trims the heap once enough was freed, at the end of the
// loop turn, and no more often than its interval.
#include "node/memory_release.h"

#include <gtest/gtest.h>

#include <optional>
#include <utility>

#include "tests/node/test_client.h"

namespace ringkv {
namespace {

using testing::PumpUntil;

// PumpUntil checks before it pumps; this pumps exactly one turn.
void RunOneTurn(EventLoop* loop) {
  bool turned = false;
  PumpUntil(loop, [&] { return std::exchange(turned, true); });
}

TEST(MemoryReleaserTest, TrimsAfterTheThresholdAtMostOncePerInterval) {
  EventLoop loop;
  MemoryReleaser releaser(&loop, /*threshold_bytes=*/1000, /*min_interval_ms=*/200);
  releaser.Freed(600);
  RunOneTurn(&loop);
  EXPECT_EQ(releaser.trims(), 0u);
  releaser.Freed(600);
  ASSERT_TRUE(PumpUntil(&loop, [&] { return releaser.trims() == 1; }));
  // Enough again at once: it waits for the interval, then trims once.
  const auto freed_again = std::chrono::steady_clock::now();
  releaser.Freed(5000);
  releaser.Freed(5000);
  ASSERT_TRUE(PumpUntil(&loop, [&] { return releaser.trims() == 2; }));
  EXPECT_GE(std::chrono::steady_clock::now() - freed_again, std::chrono::milliseconds(150));
  EXPECT_EQ(releaser.trims(), 2u);
}

TEST(MemoryReleaserTest, APendingTrimDiesWithTheReleaser) {
  EventLoop loop;
  std::optional<MemoryReleaser> releaser;
  releaser.emplace(&loop, 10, 0);
  releaser->Freed(100);
  // A successor in the same storage: a trim that outlived its releaser
  // would run on this one and count.
  releaser.reset();
  releaser.emplace(&loop, 1u << 30, 0);
  RunOneTurn(&loop);
  EXPECT_EQ(releaser->trims(), 0u);
}

}  // namespace
}  // namespace ringkv
