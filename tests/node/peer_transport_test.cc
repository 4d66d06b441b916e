// PeerTransport: lazy connect, delivery to a peer's server, local delivery,
// dropping (counted) when the peer is unknown or down, and reconnecting at
// once when a peer we cannot reach is heard from.
#include "node/peer_transport.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
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
  void OnPeerMessage(Message&& message) override { got.push_back(std::move(message)); }
  void OnClientRequest(Message&&, std::function<void(Message)>) override { ++client_requests; }
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

// A listener on 127.0.0.1 whose accept queue (backlog 0) is kept full by one
// connection nobody accepts, so the kernel drops every further SYN, as a
// partition does: a connect there stalls until its SYN is retransmitted
// (1 s later) into a queue with room. Heal() makes room.
class SwallowingListener {
 public:
  SwallowingListener() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    filler_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    ok_ = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 &&
          ::listen(listen_fd_, 0) == 0 &&
          ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
          ::connect(filler_fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    port_ = ntohs(addr.sin_port);
  }
  ~SwallowingListener() {
    ::close(filler_fd_);
    ::close(listen_fd_);
  }
  bool ok() const { return ok_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Takes the filler connection off the queue: the next SYN gets through.
  bool Heal() {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }

 private:
  int listen_fd_ = -1;
  int filler_fd_ = -1;
  uint16_t port_ = 0;
  bool ok_ = false;
};

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

// A frame's header and body go into the connection apart (no framed copy):
// bodies of every size, queued before the connection or sent on it, arrive
// whole and in order, and the byte count is the frames'.
TEST(PeerTransportTest, FramesOfEverySizeArriveWholeQueuedOrDirect) {
  EventLoop loop;
  MetricsRegistry metrics;
  RecordingSink sink;
  MetricsRegistry server_metrics;
  Server server(&loop, ServerOptions{}, &sink, &server_metrics);
  ASSERT_TRUE(server.Start().ok());
  PeerTransport transport(&loop, "n1", {{"n2", "127.0.0.1:" + std::to_string(server.port())}},
                          nullptr, &metrics);
  const std::vector<size_t> sizes = {0, 1, 51, 4095, 4096, 65'536, 1u << 20};
  std::vector<Message> sent;
  size_t frame_bytes = 0;
  auto send_all = [&](char fill) {
    for (size_t size : sizes) {
      Message m;
      m.request_id = sent.size() + 1;
      m.from = "n1";
      m.body = PutRequest{"b", "k", std::string(size, fill)};
      std::string bytes = EncodeMessage(m);
      frame_bytes += kFrameHeaderSize + bytes.size();
      transport.Send("n2", std::move(bytes));
      sent.push_back(std::move(m));
    }
  };
  send_all('q');  // queued: the connection is not up yet
  ASSERT_FALSE(transport.connected("n2"));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == sizes.size(); }));
  ASSERT_TRUE(transport.connected("n2"));
  send_all('d');  // straight into the connection's output
  ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == 2 * sizes.size(); }));
  EXPECT_EQ(sink.got, sent);
  EXPECT_EQ(MetricValue(metrics, "ringkv_peer_sent_bytes_total", {{"peer", "n2"}}), frame_bytes);
  EXPECT_EQ(MetricValue(server_metrics, "ringkv_server_received_bytes_total"), frame_bytes);
  EXPECT_EQ(MetricValue(server_metrics, "ringkv_server_connections_accepted_total"), 1);
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

// A peer in a long back-off that is heard from gets a connection at once,
// without waiting for the back-off or for something to send.
TEST(PeerTransportTest, HeardFromCutsTheBackoffShortAndConnectsAtOnce) {
  EventLoop loop;
  uint16_t port = DeadPort(&loop);
  PeerTransportOptions options;
  options.min_backoff_us = 10'000'000;
  options.max_backoff_us = 10'000'000;
  options.stall_us = 10'000;
  MetricsRegistry metrics;
  PeerTransport transport(&loop, "n1", {{"n2", "127.0.0.1:" + std::to_string(port)}}, nullptr,
                          &metrics, options);
  transport.Send("n2", EncodeMessage(FromN1(1)));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return transport.stats().dropped_down >= 1; }));
  EXPECT_FALSE(transport.IsUp("n2"));

  RecordingSink sink;
  ServerOptions so;
  so.port = port;
  MetricsRegistry server_metrics;
  Server server(&loop, so, &sink, &server_metrics);
  ASSERT_TRUE(server.Start().ok());
  const auto start = std::chrono::steady_clock::now();
  // Evidence arrives as a peer's frames do, again and again.
  ASSERT_TRUE(PumpUntil(&loop, [&] {
    transport.HeardFrom("n2");
    return transport.connected("n2");
  }, 2000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2000));
  EXPECT_TRUE(transport.IsUp("n2"));
  transport.Send("n2", EncodeMessage(FromN1(2)));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == 1; }));
  EXPECT_EQ(sink.got[0], FromN1(2));
}

// Hearing from a peer is no proof that it can be reached: it stays down
// until a connection succeeds, and however often it is heard from, it is
// tried at most once per stall period.
TEST(PeerTransportTest, HeardFromDoesNotMakeAnUnreachablePeerUp) {
  EventLoop loop;
  uint16_t port = DeadPort(&loop);
  PeerTransportOptions options;
  options.stall_us = 50'000;
  MetricsRegistry metrics;
  PeerTransport transport(&loop, "n1", {{"n2", "127.0.0.1:" + std::to_string(port)}}, nullptr,
                          &metrics, options);
  transport.Send("n2", EncodeMessage(FromN1(1)));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return transport.stats().dropped_down >= 1; }));
  const auto start = std::chrono::steady_clock::now();
  bool ever_up = false;
  int heard = 0;
  PumpUntil(&loop, [&] {
    transport.HeardFrom("n2");
    ++heard;
    ever_up = ever_up || transport.IsUp("n2");
    return std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300);
  }, 2000);
  EXPECT_FALSE(ever_up);
  EXPECT_GT(heard, 10);
  // 300 ms at one try per 50 ms, plus the first Send's.
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LE(transport.stats().connect_attempts,
            1 + static_cast<uint64_t>(elapsed / std::chrono::milliseconds(50)) + 1);
  EXPECT_EQ(transport.stats().connects, 0u);
}

// A connect whose SYN was lost would complete only at the kernel's
// retransmission, a second or more later; heard from, the peer gets a fresh
// connect instead.
TEST(PeerTransportTest, AStalledConnectIsReplacedWhenThePeerIsHeardFrom) {
  EventLoop loop;
  SwallowingListener peer;
  ASSERT_TRUE(peer.ok());
  PeerTransportOptions options;
  options.stall_us = 50'000;
  MetricsRegistry metrics;
  PeerTransport transport(&loop, "n1", {{"n2", peer.address()}}, nullptr, &metrics, options);
  transport.Send("n2", EncodeMessage(FromN1(1)));
  const auto sent = std::chrono::steady_clock::now();
  // The SYN is swallowed: no connection for a while.
  PumpUntil(&loop, [&] {
    return std::chrono::steady_clock::now() - sent >= std::chrono::milliseconds(100);
  });
  EXPECT_FALSE(transport.connected("n2"));
  ASSERT_TRUE(peer.Heal());
  const auto healed = std::chrono::steady_clock::now();
  ASSERT_TRUE(PumpUntil(&loop, [&] {
    transport.HeardFrom("n2");
    return transport.connected("n2");
  }, 3000));
  // Well before the retransmitted SYN, due 1 s after the first.
  EXPECT_LT(std::chrono::steady_clock::now() - healed, std::chrono::milliseconds(500));
  EXPECT_EQ(transport.stats().connect_attempts, 2u);
}

bool AnyMember(const NodeId&) { return true; }

// Both sides hold the secret: the messages queued during the handshake are
// delivered, in order, after it, and the peer counts as up only then.
TEST(PeerTransportAuthTest, AuthenticatesThenDeliversWhatWasQueued) {
  const std::string secret(40, 'k');
  EventLoop loop;
  MetricsRegistry metrics, server_metrics;
  RecordingSink sink;
  PeerAuthenticator n2("n2", secret, AnyMember);
  ServerOptions server_options;
  server_options.peer_auth = &n2;
  Server server(&loop, server_options, &sink, &server_metrics);
  ASSERT_TRUE(server.Start().ok());
  PeerAuthenticator n1("n1", secret, AnyMember);
  PeerTransportOptions options;
  options.auth = &n1;
  PeerTransport transport(&loop, "n1",
                          {{"n1", "127.0.0.1:1"},
                           {"n2", "127.0.0.1:" + std::to_string(server.port())}},
                          nullptr, &metrics, options);
  for (uint64_t id = 1; id <= 20; ++id) transport.Send("n2", EncodeMessage(FromN1(id)));
  ASSERT_TRUE(PumpUntil(&loop, [&] { return sink.got.size() == 20; }));
  for (uint64_t id = 1; id <= 20; ++id) EXPECT_EQ(sink.got[id - 1], FromN1(id));
  EXPECT_TRUE(transport.connected("n2"));
  EXPECT_TRUE(transport.IsUp("n2"));
  EXPECT_EQ(transport.stats().handshake_failures, 0u);
  EXPECT_EQ(MetricValue(server_metrics, "ringkv_server_peer_handshakes_total",
                        {{"result", "ok"}}),
            1);
}

// A peer with another secret is never sent a message and stays down; so is
// a node that answers at the address but is not the member dialled, and one
// that does not authenticate peers at all.
TEST(PeerTransportAuthTest, APeerThatFailsTheHandshakeGetsNothing) {
  EventLoop loop;
  MetricsRegistry metrics, server_metrics;
  RecordingSink sink;
  PeerAuthenticator wrong_secret("n2", std::string(40, 'w'), AnyMember);
  PeerAuthenticator wrong_node("n3", std::string(40, 'k'), AnyMember);
  ServerOptions a, b, c;
  a.peer_auth = &wrong_secret;
  b.peer_auth = &wrong_node;
  Server s_a(&loop, a, &sink, &server_metrics), s_b(&loop, b, &sink, &server_metrics),
      s_c(&loop, c, &sink, &server_metrics);
  ASSERT_TRUE(s_a.Start().ok() && s_b.Start().ok() && s_c.Start().ok());
  PeerAuthenticator n1("n1", std::string(40, 'k'), AnyMember);
  PeerTransportOptions options;
  options.auth = &n1;
  options.max_backoff_us = 50'000;
  auto at = [](const Server& s) { return "127.0.0.1:" + std::to_string(s.port()); };
  PeerTransport transport(&loop, "n1",
                          {{"n1", "127.0.0.1:1"}, {"n2", at(s_a)}, {"n4", at(s_b)},
                           {"n5", at(s_c)}},
                          nullptr, &metrics, options);
  for (const char* peer : {"n2", "n4", "n5"}) {
    const MetricLabels labels = {{"peer", peer}};
    ASSERT_TRUE(PumpUntil(&loop, [&] {
      transport.Send(peer, EncodeMessage(FromN1(1)));
      return MetricValue(metrics, "ringkv_peer_handshake_failures_total", labels) >= 2;
    })) << peer;
    EXPECT_FALSE(transport.connected(peer)) << peer;
    EXPECT_FALSE(transport.IsUp(peer)) << peer;
  }
  EXPECT_TRUE(sink.got.empty());
  EXPECT_EQ(sink.client_requests, 0);
}

}  // namespace
}  // namespace ringkv
