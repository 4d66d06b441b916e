// The server with a fake MessageSink: valid traffic is answered, and every
// kind of bad frame closes only its own connection (testing.md tier 4).
#include "node/server.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

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

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.max_frame_bytes = 1 << 20;
    server_ = std::make_unique<Server>(&loop_, options, &sink_, &metrics_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_NE(server_->port(), 0);
  }

  // A fresh connection's ping is answered: the server is still serving.
  void ExpectServing() {
    TestClient c(server_->port());
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.SendMessage(PingWithId(77)));
    auto reply = AwaitMessage(&loop_, &c);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->request_id, 77u);
    EXPECT_EQ(std::get<Pong>(reply->body).node, "fake");
  }

  // Connections closed for bad input with `reason`, by the fixture's server.
  double Rejected(const char* reason) const {
    return MetricValue(metrics_, "ringkv_server_connections_rejected_total",
                       {{"reason", reason}});
  }

  EventLoop loop_;
  FakeSink sink_;
  MetricsRegistry metrics_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, PingIsAnswered) { ExpectServing(); }

TEST_F(ServerTest, MetricsCountConnectionsMessagesRepliesAndBytes) {
  TestClient client(server_->port());
  TestClient peer(server_->port());
  const std::string sent = PingFrames(3);
  ASSERT_TRUE(client.SendRaw(sent));
  std::string replies;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto reply = AwaitMessage(&loop_, &client);
    ASSERT_TRUE(reply.has_value());
    replies += FrameOf(*reply);
  }
  Message gossip = PingWithId(4);
  gossip.from = "n2";
  std::string peer_frame = FrameOf(gossip);
  ASSERT_TRUE(peer.SendRaw(peer_frame));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.peer.size() == 1; }));

  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_connections_accepted_total"), 2);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_connections_open"), 2);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_messages_received_total",
                        {{"sender", "client"}}),
            3);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_messages_received_total",
                        {{"sender", "peer"}}),
            1);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_replies_total"), 3);
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_received_bytes_total"),
            sent.size() + peer_frame.size());
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_sent_bytes_total"), replies.size());
  EXPECT_EQ(MetricValue(metrics_, "ringkv_server_pending_output_bytes"), 0);
  EXPECT_EQ(server_->rejected_connections(), 0u);
  // Every client request answered is timed once, under its operation; the
  // peer message is not a request of this server.
  auto timed = [&](const char* op) {
    auto s = testing::FindMetric(metrics_, "ringkv_server_frame_to_reply_seconds", {{"op", op}});
    return s ? static_cast<int64_t>(s->count) : -1;
  };
  EXPECT_EQ(timed("other"), 3);
  EXPECT_EQ(timed("get"), 0);
  EXPECT_EQ(timed("put"), 0);
}

TEST_F(ServerTest, PipelinedRequestsAreAllAnswered) {
  TestClient c(server_->port());
  ASSERT_TRUE(c.SendRaw(PingFrames(20)));
  for (uint64_t id = 1; id <= 20; ++id) {
    auto reply = AwaitMessage(&loop_, &c);
    ASSERT_TRUE(reply.has_value()) << id;
    EXPECT_EQ(reply->request_id, id);
  }
}

// Replies far beyond the socket buffers and the pending-output cap: the
// server stops reading, waits for the socket to drain, and in the end every
// reply arrives whole and in order.
TEST_F(ServerTest, ClientThatReadsLateGetsEveryReplyInOrder) {
  ServerOptions options;
  options.limits.max_output_bytes = 256u << 10;
  MetricsRegistry metrics;
  Server server(&loop_, options, &sink_, &metrics);
  ASSERT_TRUE(server.Start().ok());
  sink_.reply_padding = 256u << 10;
  constexpr uint64_t kRequests = 200;  // about 52 MB of replies
  TestClient c(server.port());
  ASSERT_TRUE(c.SendRaw(PingFrames(kRequests)));
  // With nobody reading, the socket fills and the server holds the rest
  // unsent: it must stall there, not drop or close.
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return server.pending_output_bytes() > 0; }));
  EXPECT_GT(MetricValue(metrics, "ringkv_server_pending_output_bytes"), 0);
  for (uint64_t id = 1; id <= kRequests; ++id) {
    auto reply = AwaitMessage(&loop_, &c);
    ASSERT_TRUE(reply.has_value()) << id;
    EXPECT_EQ(reply->request_id, id);
    EXPECT_EQ(std::get<Pong>(reply->body).node.size(), 4 + sink_.reply_padding);
  }
  EXPECT_FALSE(c.closed());
  // 52 MB of replies against a 256 KiB cap: reading stopped at least once.
  EXPECT_GE(MetricValue(metrics, "ringkv_server_read_pauses_total", {{"reason", "replies"}}), 1);
}

TEST_F(ServerTest, FrameSplitAcrossWritesIsReassembled) {
  TestClient c(server_->port());
  std::string frame = FrameOf(PingWithId(5));
  for (char ch : frame) {
    ASSERT_TRUE(c.SendRaw(std::string(1, ch)));
    PumpUntil(&loop_, [] { return true; });
  }
  auto reply = AwaitMessage(&loop_, &c);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->request_id, 5u);
}

TEST_F(ServerTest, PeerMessageGoesToSinkAndIsNotAnsweredInline) {
  TestClient c(server_->port());
  Message m = PingWithId(9);
  m.from = "n2";
  ASSERT_TRUE(c.SendMessage(m));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.peer.size() == 1; }));
  EXPECT_EQ(sink_.peer[0], m);
  c.Poll();
  EXPECT_FALSE(c.TakeMessage().has_value());
  EXPECT_FALSE(c.closed());
}

TEST_F(ServerTest, GarbageFrameClosesOnlyThatConnection) {
  TestClient bystander(server_->port());
  TestClient bad(server_->port());
  ASSERT_TRUE(bad.SendRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(AwaitClosed(&loop_, &bad));
  EXPECT_EQ(server_->rejected_connections(), 1u);
  EXPECT_EQ(Rejected("bad_frame"), 1);
  ExpectServing();
  // The bystander connection opened before is still usable.
  ASSERT_TRUE(bystander.SendMessage(PingWithId(3)));
  EXPECT_TRUE(AwaitMessage(&loop_, &bystander).has_value());
}

TEST_F(ServerTest, OversizedHeaderClosesWithoutWaitingForTheBody) {
  TestClient bad(server_->port());
  // Announces 1 GiB and sends nothing more.
  ASSERT_TRUE(bad.SendRaw(std::string("\x00\x00\x00\x40" "checksum", 12)));
  ASSERT_TRUE(AwaitClosed(&loop_, &bad));
  EXPECT_EQ(server_->rejected_connections(), 1u);
  ExpectServing();
}

TEST_F(ServerTest, BadChecksumClosesTheConnection) {
  TestClient bad(server_->port());
  std::string frame = FrameOf(PingWithId(1));
  frame[6] = static_cast<char>(frame[6] ^ 0x01);
  ASSERT_TRUE(bad.SendRaw(frame));
  ASSERT_TRUE(AwaitClosed(&loop_, &bad));
  EXPECT_EQ(Rejected("bad_frame"), 1);
  ExpectServing();
}

TEST_F(ServerTest, UndecodableBodyClosesTheConnection) {
  TestClient bad(server_->port());
  std::string frame;
  AppendFrame(std::string(64, '\x7f'), &frame);  // good checksum, not capnp
  ASSERT_TRUE(bad.SendRaw(frame));
  ASSERT_TRUE(AwaitClosed(&loop_, &bad));
  EXPECT_EQ(Rejected("undecodable"), 1);
  EXPECT_EQ(Rejected("bad_frame"), 0);
  ExpectServing();
}

TEST_F(ServerTest, FramesBeforeTheBadOneAreServed) {
  TestClient c(server_->port());
  std::string bytes = FrameOf(PingWithId(1));
  AppendFrame("not a message", &bytes);
  ASSERT_TRUE(c.SendRaw(bytes));
  auto reply = AwaitMessage(&loop_, &c);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->request_id, 1u);
  EXPECT_TRUE(AwaitClosed(&loop_, &c));
}

TEST_F(ServerTest, TruncatedThenCloseIsCleanedUp) {
  {
    TestClient c(server_->port());
    std::string frame = FrameOf(PingWithId(1));
    ASSERT_TRUE(c.SendRaw(frame.substr(0, frame.size() / 2)));
    ASSERT_TRUE(PumpUntil(&loop_, [&] { return server_->connection_count() == 1; }));
  }  // closed here, mid-frame
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return server_->connection_count() == 0; }));
  EXPECT_EQ(Rejected("truncated"), 1);
  EXPECT_EQ(server_->rejected_connections(), 1u);
  ExpectServing();
}

TEST_F(ServerTest, StalledPartialFrameIsCutOffIdleConnectionIsNot) {
  ServerOptions options;
  options.limits.frame_deadline_ms = 50;
  MetricsRegistry metrics;
  Server server(&loop_, options, &sink_, &metrics);
  ASSERT_TRUE(server.Start().ok());
  TestClient idle(server.port());
  TestClient stalled(server.port());
  ASSERT_TRUE(stalled.SendRaw(std::string("\x30\x00\x00\x00\x01", 5)));
  ASSERT_TRUE(AwaitClosed(&loop_, &stalled));
  // The idle one, which never started a frame, outlived the timeout.
  ASSERT_TRUE(idle.SendMessage(PingWithId(8)));
  auto reply = AwaitMessage(&loop_, &idle);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->request_id, 8u);
  EXPECT_EQ(server.rejected_connections(), 1u);
  EXPECT_EQ(MetricValue(metrics, "ringkv_server_connections_rejected_total",
                        {{"reason", "slowloris"}}),
            1);
}

TEST_F(ServerTest, ReplyAfterTheClientLeftIsDropped) {
  sink_.hold_replies = true;
  {
    TestClient c(server_->port());
    ASSERT_TRUE(c.SendMessage(PingWithId(1)));
    ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.held.size() == 1; }));
  }
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return server_->connection_count() == 0; }));
  sink_.AnswerHeld(0);  // must be a no-op
  sink_.hold_replies = false;
  ExpectServing();
}

TEST_F(ServerTest, ReplyAfterTheServerIsGoneIsDropped) {
  sink_.hold_replies = true;
  TestClient c(server_->port());
  ASSERT_TRUE(c.SendMessage(PingWithId(1)));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.held.size() == 1; }));
  server_.reset();
  sink_.held[0](PingWithId(1));  // must be a no-op
}

TEST_F(ServerTest, ManyIdleConnectionsDoNotBreakIt) {
  std::vector<std::unique_ptr<TestClient>> idle;
  for (int i = 0; i < 300; ++i) {
    idle.push_back(std::make_unique<TestClient>(server_->port()));
    ASSERT_TRUE(idle.back()->connected());
    // Accept as we go: the client's connect blocks once the backlog is full.
    size_t want = idle.size();
    ASSERT_TRUE(PumpUntil(&loop_, [&] { return server_->connection_count() == want; }));
  }
  // Half of them sent a partial header and stalled (slowloris).
  for (int i = 0; i < 300; i += 2) ASSERT_TRUE(idle[i]->SendRaw("\x10\x00"));
  ExpectServing();
  idle.clear();
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return server_->connection_count() == 0; }));
}

TEST_F(ServerTest, BusyPortIsAnIOError) {
  ServerOptions options;
  options.port = server_->port();
  MetricsRegistry metrics;
  Server second(&loop_, options, &sink_, &metrics);
  Status st = second.Start();
  EXPECT_TRUE(st.IsIOError()) << st.ToString();
}

TEST_F(ServerTest, BadListenAddressIsInvalidArgument) {
  ServerOptions options;
  options.host = "not an address";
  MetricsRegistry metrics;
  Server bad(&loop_, options, &sink_, &metrics);
  EXPECT_TRUE(bad.Start().IsInvalidArgument());
}

}  // namespace
}  // namespace ringkv
