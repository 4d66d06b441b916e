// PeerTransport: lazy connect, delivery to a peer's server, local delivery,
// and dropping (counted) when the peer is unknown or down.
#include "node/peer_transport.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <map>
#include <vector>

#include "node/server.h"
#include "tests/common/metric_value.h"
#include "tests/node/test_client.h"

namespace ringkv {
namespace {

using testing::MetricValue;
using testing::PumpUntil;

class RecordingSink : public MessageSink {
 public:
  void OnPeerMessage(Message message) override { got.push_back(std::move(message)); }
  void OnClientRequest(Message, std::function<void(Message)>) override { ++client_requests; }
  std::vector<Message> got;
  int client_requests = 0;
};

Message FromN1(uint64_t id) {
  Message m;
  m.request_id = id;
  m.from = "n1";
  m.body = ReplicaGetRequest{"b", "k" + std::to_string(id)};
  return m;
}

// A port nobody listens on: bind, read the port, close.
uint16_t DeadPort(EventLoop* loop) {
  RecordingSink sink;
  MetricsRegistry metrics;
  Server s(loop, ServerOptions{}, &sink, &metrics);
  EXPECT_TRUE(s.Start().ok());
  return s.port();
}

TEST(PeerTransportTest, DeliversToPeerServerInOrder) {
  EventLoop loop;
  MetricsRegistry metrics;
  RecordingSink sink;
  MetricsRegistry server_metrics;
  Server server(&loop, ServerOptions{}, &sink, &server_metrics);
  ASSERT_TRUE(server.Start().ok());
  PeerTransport transport(&loop, "n1",
                          {{"n1", "127.0.0.1:1"},
                           {"n2", "127.0.0.1:" + std::to_string(server.port())}},
                          nullptr, &metrics);
  size_t frame_bytes = 0;
  for (uint64_t id = 1; id <= 100; ++id) {
    std::string bytes = EncodeMessage(FromN1(id));
    frame_bytes += kFrameHeaderSize + bytes.size();
    transport.Send("n2", std::move(bytes));
  }
  ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == 100; }));
  for (uint64_t id = 1; id <= 100; ++id) EXPECT_EQ(sink.got[id - 1], FromN1(id));
  EXPECT_TRUE(transport.connected("n2"));
  EXPECT_EQ(transport.stats().sent, 100u);
  EXPECT_EQ(transport.stats().connects, 1u);
  EXPECT_EQ(sink.client_requests, 0);
  const MetricLabels n2 = {{"peer", "n2"}};
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_messages_sent_total", n2), 100);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_sent_bytes_total", n2), frame_bytes);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_connects_total", n2), 1);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_connect_failures_total", n2), 0);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_connections_open"), 1);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_queued_bytes"), 0);
}

TEST(PeerTransportTest, SelfIsDeliveredLocallyOnTheNextTurn) {
  EventLoop loop;
  MetricsRegistry metrics;
  std::vector<std::string> local;
  PeerTransport transport(&loop, "n1", {{"n1", "127.0.0.1:1"}},
                          [&](std::string bytes) { local.push_back(std::move(bytes)); },
                          &metrics);
  transport.Send("n1", "abc");
  EXPECT_TRUE(local.empty());
  ASSERT_TRUE(PumpUntil(&loop, [&] { return local.size() == 1; }));
  EXPECT_EQ(local[0], "abc");
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_messages_sent_total", {{"peer", "n1"}}), 1);
}

TEST(PeerTransportTest, UnknownPeerIsDroppedAndCounted) {
  EventLoop loop;
  MetricsRegistry metrics;
  PeerTransport transport(&loop, "n1", {}, nullptr, &metrics);
  transport.Send("nobody", "x");
  EXPECT_EQ(transport.stats().dropped_unknown, 1u);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_messages_unknown_destination_total"), 1);
}

TEST(PeerTransportTest, DownPeerDropsAndRecoversWhenItComesUp) {
  EventLoop loop;
  MetricsRegistry metrics;
  uint16_t port = DeadPort(&loop);
  PeerTransportOptions options;
  options.min_backoff_us = 10'000;
  options.max_backoff_us = 20'000;
  PeerTransport transport(&loop, "n1", {{"n2", "127.0.0.1:" + std::to_string(port)}}, nullptr,
                          &metrics, options);
  transport.Send("n2", EncodeMessage(FromN1(1)));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return transport.stats().dropped_down >= 1; }));
  // In backoff: dropped at once.
  uint64_t before = transport.stats().dropped_down;
  transport.Send("n2", EncodeMessage(FromN1(2)));
  EXPECT_EQ(transport.stats().dropped_down, before + 1);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_messages_dropped_total",
                        {{"peer", "n2"}, {"reason", "down"}}),
            before + 1);
  EXPECT_GE(MetricValue(metrics, "ringkv_peer_connect_failures_total", {{"peer", "n2"}}), 1);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_connections_lost_total", {{"peer", "n2"}}), 0);

  // The peer comes up on that port; sends get through again after backoff.
  RecordingSink sink;
  MetricsRegistry server_metrics;
  ServerOptions so;
  so.port = port;
  Server server(&loop, so, &sink, &server_metrics);
  ASSERT_TRUE(server.Start().ok());
  uint64_t id = 100;
  ASSERT_TRUE(PumpUntil(&loop, [&] {
    if (!sink.got.empty()) return true;
    transport.Send("n2", EncodeMessage(FromN1(id++)));
    return false;
  }));
  EXPECT_TRUE(transport.connected("n2"));
}

TEST(PeerTransportTest, FullQueueDropsNewest) {
  EventLoop loop;
  MetricsRegistry metrics;
  uint16_t port = DeadPort(&loop);
  PeerTransportOptions options;
  options.max_queue_bytes = 200;
  PeerTransport transport(&loop, "n1", {{"n2", "127.0.0.1:" + std::to_string(port)}}, nullptr,
                          &metrics, options);
  // Queued while connecting (before the loop learns the port is dead).
  for (int i = 0; i < 10; ++i) transport.Send("n2", std::string(50, 'x'));
  EXPECT_GE(transport.stats().dropped_full, 7u);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_messages_dropped_total",
                        {{"peer", "n2"}, {"reason", "queue_full"}}),
            transport.stats().dropped_full);
  // Three 62-byte frames wait for the connection.
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_queued_bytes"), 3 * (kFrameHeaderSize + 50));
}

// After a burst that fills the socket (the bufferevent sends the rest once
// it drains), the turn's frames still leave through our own write, whatever
// errno an earlier call left behind. The bufferevent freezes the front of its
// output after each of its own writes; a write that does not thaw it sends
// nothing and returns -1 with errno untouched, and a stale errno then reads
// as a broken connection.
TEST(PeerTransportTest, FramesAfterABlockedBurstLeaveDespiteStaleErrno) {
  EventLoop loop;
  MetricsRegistry metrics;
  RecordingSink sink;
  MetricsRegistry server_metrics;
  Server server(&loop, ServerOptions{}, &sink, &server_metrics);
  ASSERT_TRUE(server.Start().ok());
  PeerTransport transport(&loop, "n1",
                          {{"n2", "127.0.0.1:" + std::to_string(server.port())}}, nullptr,
                          &metrics);
  transport.Send("n2", EncodeMessage(FromN1(1)));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == 1; }));
  // Far more than the socket buffers take in one turn.
  Message big = FromN1(2);
  std::get<ReplicaGetRequest>(big.body).key = std::string(8u << 20, 'k');
  transport.Send("n2", EncodeMessage(big));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == 2; }));
  for (uint64_t id = 3; id <= 4; ++id) {
    // Runs just before the transport's flush, in the same turn end.
    loop.AtTurnEnd([] { errno = ENOTTY; });
    transport.Send("n2", EncodeMessage(FromN1(id)));
    ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == id; })) << id;
  }
  EXPECT_TRUE(transport.connected("n2"));
  EXPECT_EQ(transport.stats().connects, 1u);
  EXPECT_EQ(sink.got[3], FromN1(4));
}

}  // namespace
}  // namespace ringkv
