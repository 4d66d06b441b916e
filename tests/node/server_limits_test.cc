// The server's ConnectionLimits with a fake MessageSink: back-pressure
// before dispatch (requests in flight, unsent replies), the frame deadline
// whatever the sender's pace, the idle timeout, the connection cap closing
// the longest idle connection first, and the node-wide buffer budget.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <vector>

#include "node/server.h"
#include "tests/common/metric_value.h"
#include "tests/node/fake_sink.h"
#include "tests/node/test_client.h"

namespace ringkv {
namespace {

using testing::AwaitClosed;
using testing::AwaitMessage;
using testing::FakeSink;
using testing::FrameOf;
using testing::MetricValue;
using testing::PingFrames;
using testing::PingWithId;
using testing::PumpUntil;
using testing::TestClient;

// Runs the loop for about `ms` (pacing a sender, not waiting for a result).
void RunFor(EventLoop* loop, int ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  PumpUntil(loop, [&] { return std::chrono::steady_clock::now() >= until; }, ms + 1000);
}

class ServerLimitsTest : public ::testing::Test {
 protected:
  Server& StartServer(const ConnectionLimits& limits) {
    ServerOptions options;
    options.max_frame_bytes = 4 << 20;
    options.limits = limits;
    server_ = std::make_unique<Server>(&loop_, options, &sink_, &metrics_);
    EXPECT_TRUE(server_->Start().ok());
    return *server_;
  }

  // A connected client the server has accepted.
  std::unique_ptr<TestClient> Connect() {
    auto c = std::make_unique<TestClient>(server_->port());
    EXPECT_TRUE(c->connected());
    const size_t before = accepted_++;
    EXPECT_TRUE(PumpUntil(&loop_, [&] {
      return MetricValue(metrics_, "ringkv_server_connections_accepted_total") > before ||
             server_->shed_connections() > shed_seen_;
    }));
    return c;
  }

  // Sends `bytes` while running the loop, so the server reads as it goes.
  bool SendPumping(TestClient* c, const std::string& bytes, size_t chunk = 64 << 10) {
    for (size_t off = 0; off < bytes.size(); off += chunk) {
      if (!c->SendRaw(bytes.substr(off, chunk))) return false;
      PumpUntil(&loop_, [] { return true; });
    }
    return true;
  }

  // Sends `frames` and runs the loop until the server stops reading `c`.
  bool SendUntilPaused(TestClient* c, const std::string& frames) {
    return c->SendRaw(frames) &&
           PumpUntil(&loop_, [&] { return server_->paused_connections() == 1; });
  }

  double Metric(const char* name, const char* label, const char* value) const {
    return MetricValue(metrics_, name, {{label, value}});
  }

  EventLoop loop_;
  FakeSink sink_;
  MetricsRegistry metrics_;
  std::unique_ptr<Server> server_;
  size_t accepted_ = 0;
  uint64_t shed_seen_ = 0;
};

TEST_F(ServerLimitsTest, RequestsInFlightPauseReadingUntilHalfAreAnswered) {
  ConnectionLimits limits;
  limits.max_requests_in_flight = 4;
  Server& server = StartServer(limits);
  sink_.hold_replies = true;
  auto c = Connect();
  ASSERT_TRUE(SendUntilPaused(c.get(), PingFrames(10)));
  // The other six wait in the buffer, not in the sink.
  EXPECT_EQ(sink_.requests, 4);
  EXPECT_EQ(server.requests_in_flight(), 4u);
  EXPECT_EQ(Metric("ringkv_server_read_pauses_total", "reason", "requests"), 1);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_connections_paused"), 1);
  // One answer is not enough (4 -> 3, above half), two are.
  sink_.AnswerHeld(0);
  RunFor(&loop_, 20);
  EXPECT_EQ(sink_.requests, 4);
  sink_.AnswerHeld(1);
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.requests == 6; }));
  // Answering the rest as they come lets all ten through.
  sink_.hold_replies = false;
  size_t answered = 2;
  ASSERT_TRUE(PumpUntil(&loop_, [&] {
    while (answered < sink_.held.size()) sink_.AnswerHeld(answered++);
    return sink_.requests == 10;
  }));
  EXPECT_EQ(server.requests_in_flight(), 0u);
  int replies = 0;
  while (AwaitMessage(&loop_, c.get(), 1000).has_value() && ++replies < 10) {
  }
  EXPECT_EQ(replies, 10);
  EXPECT_FALSE(c->closed());
}

TEST_F(ServerLimitsTest, AReplyCallbackDroppedUnansweredFreesItsSlot) {
  ConnectionLimits limits;
  limits.max_requests_in_flight = 1;
  Server& server = StartServer(limits);
  sink_.hold_replies = true;
  auto c = Connect();
  ASSERT_TRUE(SendUntilPaused(c.get(), PingFrames(2)));
  EXPECT_EQ(sink_.requests, 1);
  sink_.held.clear();  // the sink gave up on it without answering
  EXPECT_EQ(server.requests_in_flight(), 0u);
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.requests == 2; }));
}

TEST_F(ServerLimitsTest, FrameDeadlineCutsOffASteadyTrickle) {
  ConnectionLimits limits;
  limits.frame_deadline_ms = 300;
  Server& server = StartServer(limits);
  auto slow = Connect();
  const std::string frame = FrameOf(PingWithId(1));
  // A byte every 20 ms never leaves a pause as long as the deadline, but
  // the whole frame would take over a second.
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < frame.size() && !slow->closed(); ++i) {
    slow->SendRaw(frame.substr(i, 1));
    RunFor(&loop_, 20);
    slow->Poll();
  }
  ASSERT_TRUE(AwaitClosed(&loop_, slow.get()));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(1000));
  EXPECT_EQ(Metric("ringkv_server_connections_rejected_total", "reason", "slowloris"), 1);
  EXPECT_EQ(server.rejected_connections(), 1u);
}

TEST_F(ServerLimitsTest, FramesCompletedInTimeKeepTheConnection) {
  ConnectionLimits limits;
  limits.frame_deadline_ms = 200;
  StartServer(limits);
  auto c = Connect();
  // Each frame arrives in two halves 50 ms apart; many frames together take
  // far longer than the deadline, each one less.
  for (uint64_t id = 1; id <= 8; ++id) {
    const std::string frame = FrameOf(PingWithId(id));
    ASSERT_TRUE(c->SendRaw(frame.substr(0, frame.size() / 2)));
    RunFor(&loop_, 50);
    ASSERT_TRUE(c->SendRaw(frame.substr(frame.size() / 2)));
    auto reply = AwaitMessage(&loop_, c.get());
    ASSERT_TRUE(reply.has_value()) << id;
    EXPECT_EQ(reply->request_id, id);
  }
  EXPECT_FALSE(c->closed());
}

TEST_F(ServerLimitsTest, IdleTimeoutClosesIdleConnectionsNotBusyOnes) {
  ConnectionLimits limits;
  limits.idle_timeout_ms = 150;
  Server& server = StartServer(limits);
  sink_.hold_replies = true;
  auto idle = Connect();
  auto busy = Connect();
  ASSERT_TRUE(busy->SendMessage(PingWithId(1)));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.requests == 1; }));
  ASSERT_TRUE(AwaitClosed(&loop_, idle.get()));
  EXPECT_EQ(Metric("ringkv_server_connections_shed_total", "reason", "idle_timeout"), 1);
  // The busy one waits for its reply however long it takes.
  RunFor(&loop_, 300);
  busy->Poll();
  EXPECT_FALSE(busy->closed());
  sink_.AnswerHeld(0, /*request_id=*/1);
  auto reply = AwaitMessage(&loop_, busy.get());
  ASSERT_TRUE(reply.has_value());
  // Then it is idle, and goes too.
  ASSERT_TRUE(AwaitClosed(&loop_, busy.get()));
  EXPECT_EQ(server.connection_count(), 0u);
}

TEST_F(ServerLimitsTest, AtTheCapTheLongestIdleConnectionMakesRoom) {
  ConnectionLimits limits;
  limits.max_connections = 3;
  Server& server = StartServer(limits);
  auto a = Connect();
  auto b = Connect();
  auto c = Connect();
  // a and c were active more recently than b.
  for (TestClient* t : {a.get(), c.get()}) {
    ASSERT_TRUE(t->SendMessage(PingWithId(1)));
    ASSERT_TRUE(AwaitMessage(&loop_, t).has_value());
  }
  auto d = Connect();
  ASSERT_TRUE(AwaitClosed(&loop_, b.get()));
  EXPECT_EQ(server.connection_count(), 3u);
  EXPECT_EQ(Metric("ringkv_server_connections_shed_total", "reason", "evicted"), 1);
  for (TestClient* t : {a.get(), c.get(), d.get()}) {
    ASSERT_TRUE(t->SendMessage(PingWithId(2)));
    EXPECT_TRUE(AwaitMessage(&loop_, t).has_value());
  }
}

TEST_F(ServerLimitsTest, AtTheCapWithNoneIdleTheNewConnectionIsRefused) {
  ConnectionLimits limits;
  limits.max_connections = 2;
  Server& server = StartServer(limits);
  sink_.hold_replies = true;
  auto a = Connect();
  auto b = Connect();
  for (TestClient* t : {a.get(), b.get()}) ASSERT_TRUE(t->SendMessage(PingWithId(1)));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.requests == 2; }));
  auto refused = Connect();
  ASSERT_TRUE(AwaitClosed(&loop_, refused.get()));
  EXPECT_EQ(Metric("ringkv_server_connections_shed_total", "reason", "refused"), 1);
  EXPECT_EQ(server.connection_count(), 2u);
  a->Poll();
  b->Poll();
  EXPECT_FALSE(a->closed());
  EXPECT_FALSE(b->closed());
}

TEST_F(ServerLimitsTest, BufferBudgetHoldsLargeFramesBackButServesSmallOnes) {
  ConnectionLimits limits;
  limits.max_buffered_bytes = 1 << 20;
  Server& server = StartServer(limits);
  // A fills most of the budget with the start of a 2 MiB frame.
  auto a = Connect();
  std::string big(kFrameHeaderSize, '\0');
  big[2] = 0x20;  // body of 2 MiB, little-endian
  ASSERT_TRUE(SendPumping(a.get(), big + std::string(900 << 10, 'a')));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return server.buffered_bytes() >= (900u << 10); }));
  // B's frame (a valid put of 300 KiB) must wait for memory beyond the
  // 64 KiB every connection may hold.
  auto b = Connect();
  Message put;
  put.request_id = 9;
  PutRequest request;
  request.bucket = "b";
  request.key = "k";
  request.value = std::string(300 << 10, 'v');
  put.body = std::move(request);
  ASSERT_TRUE(SendPumping(b.get(), FrameOf(put)));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return server.paused_connections() == 1; }));
  EXPECT_LE(server.buffered_bytes(), limits.max_buffered_bytes + kFreeBufferBytes);
  EXPECT_EQ(Metric("ringkv_server_read_pauses_total", "reason", "memory"), 1);
  // A small request on another connection is served meanwhile.
  auto small = Connect();
  ASSERT_TRUE(small->SendMessage(PingWithId(3)));
  EXPECT_TRUE(AwaitMessage(&loop_, small.get()).has_value());
  // A goes away: B gets the memory and its answer.
  a.reset();
  auto reply = AwaitMessage(&loop_, b.get());
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->request_id, 9u);
  EXPECT_EQ(server.paused_connections(), 0u);
}

TEST_F(ServerLimitsTest, AClientThatTakesNoneOfItsRepliesIsClosedAfterTheIdleTimeout) {
  ConnectionLimits limits;
  limits.idle_timeout_ms = 200;
  Server& server = StartServer(limits);
  sink_.reply_padding = 256 << 10;
  auto c = Connect();
  ASSERT_TRUE(c->SendRaw(PingFrames(80)));  // 20 MiB of replies
  // Never read: the socket fills, the rest waits unsent, then the node gives up.
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return server.connection_count() == 0; }));
  EXPECT_EQ(Metric("ringkv_server_connections_shed_total", "reason", "unread"), 1);
  EXPECT_EQ(server.pending_output_bytes(), 0u);
  EXPECT_EQ(server.buffered_bytes(), 0u);
}

TEST_F(ServerLimitsTest, OverTheBudgetAConnectionTakesOneRequestAtATime) {
  ConnectionLimits limits;
  limits.max_buffered_bytes = 8 << 10;  // less than one read buffer
  StartServer(limits);
  sink_.hold_replies = true;
  auto c = Connect();
  ASSERT_TRUE(SendUntilPaused(c.get(), PingFrames(3)));
  EXPECT_EQ(sink_.requests, 1);
  EXPECT_EQ(Metric("ringkv_server_read_pauses_total", "reason", "replies"), 1);
  sink_.AnswerHeld(0);
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.requests == 2; }));
  sink_.AnswerHeld(1);
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.requests == 3; }));
}

}  // namespace
}  // namespace ringkv
