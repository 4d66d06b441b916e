// EventLoop timers (the real Scheduler) and SystemClock.
#include "node/event_loop.h"

#include <gtest/gtest.h>

#include <ctime>
#include <set>
#include <string>
#include <vector>

#include "node/system_clock.h"
#include "tests/node/test_client.h"

namespace ringkv {
namespace {

using testing::PumpUntil;

TEST(EventLoopTest, TimersFireInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> order;
  loop.RunAfter(30000, [&] { order.push_back(30); });
  loop.RunAfter(10000, [&] { order.push_back(10); });
  loop.RunAfter(0, [&] { order.push_back(0); });
  loop.RunAfter(20000, [&] { order.push_back(20); });
  ASSERT_TRUE(PumpUntil(&loop, [&] { return order.size() == 4; }));
  EXPECT_EQ(order, (std::vector<int>{0, 10, 20, 30}));
  EXPECT_EQ(loop.pending_timers(), 0u);
}

TEST(EventLoopTest, ZeroDelayTimersRunInScheduleOrder) {
  EventLoop loop;
  std::vector<int> order;
  for (int i = 0; i < 50; ++i) loop.RunAfter(0, [&order, i] { order.push_back(i); });
  ASSERT_TRUE(PumpUntil(&loop, [&] { return order.size() == 50; }));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(EventLoopTest, TurnEndRunsAfterEverythingAlreadyDue) {
  EventLoop loop;
  std::vector<std::string> order;
  loop.RunAfter(0, [&] {
    order.push_back("t0");
    loop.AtTurnEnd([&] {
      order.push_back("end");
      loop.AtTurnEnd([&] { order.push_back("end again"); });
    });
    loop.AtTurnEnd([&] { order.push_back("end2"); });
  });
  loop.RunAfter(0, [&] { order.push_back("t1"); });
  loop.RunAfter(0, [&] { order.push_back("t2"); });
  ASSERT_TRUE(PumpUntil(&loop, [&] { return order.size() == 6; }));
  EXPECT_EQ(order, (std::vector<std::string>{"t0", "t1", "t2", "end", "end2", "end again"}));
}

TEST(EventLoopTest, CancelledTimerNeverFires) {
  EventLoop loop;
  bool cancelled_fired = false, other_fired = false;
  TimerId id = loop.RunAfter(5000, [&] { cancelled_fired = true; });
  TimerId zero = loop.RunAfter(0, [&] { cancelled_fired = true; });
  loop.RunAfter(20000, [&] { other_fired = true; });
  loop.Cancel(id);
  loop.Cancel(zero);
  loop.Cancel(id);      // twice: no-op
  loop.Cancel(999999);  // unknown: no-op
  ASSERT_TRUE(PumpUntil(&loop, [&] { return other_fired; }));
  EXPECT_FALSE(cancelled_fired);
}

TEST(EventLoopTest, IdsAreUniqueAndNonZero) {
  EventLoop loop;
  std::set<TimerId> ids;
  for (int i = 0; i < 100; ++i) {
    TimerId id = loop.RunAfter(1000000, [] {});
    EXPECT_NE(id, 0u);
    ids.insert(id);
    if (i % 2 == 0) loop.Cancel(id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(loop.pending_timers(), 50u);
}

TEST(EventLoopTest, CallbackMaySchedulAndCancel) {
  EventLoop loop;
  std::vector<std::string> log;
  TimerId victim = loop.RunAfter(15000, [&] { log.push_back("victim"); });
  loop.RunAfter(5000, [&] {
    log.push_back("first");
    loop.Cancel(victim);
    loop.RunAfter(0, [&] { log.push_back("chained"); });
  });
  ASSERT_TRUE(PumpUntil(&loop, [&] { return log.size() == 2; }));
  // Give the cancelled timer's deadline time to pass.
  bool waited = false;
  loop.RunAfter(25000, [&] { waited = true; });
  ASSERT_TRUE(PumpUntil(&loop, [&] { return waited; }));
  EXPECT_EQ(log, (std::vector<std::string>{"first", "chained"}));
}

TEST(EventLoopTest, StopEndsRun) {
  EventLoop loop;
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks == 3) {
      loop.Stop();
    } else {
      loop.RunAfter(1000, tick);
    }
  };
  loop.RunAfter(0, tick);
  // An unrelated far timer keeps the loop from running out of events.
  loop.RunAfter(60'000'000, [] {});
  loop.Run();
  EXPECT_EQ(ticks, 3);
}

TEST(SystemClockTest, MonotonicAndWall) {
  SystemClock clock;
  int64_t a = clock.MonoMicros();
  int64_t b = clock.MonoMicros();
  EXPECT_LE(a, b);
  int64_t wall = clock.WallMicros();
  int64_t now = static_cast<int64_t>(std::time(nullptr)) * 1000000;
  EXPECT_LT(std::abs(wall - now), 2000000);
}

}  // namespace
}  // namespace ringkv
