// Issue 12, peers authenticate: against a three-node ringkv-cluster (which
// creates the cluster secret and hands it to its nodes), what a hostile
// client connection claiming to be a peer, or a peer without the secret,
// can do. Each of these changed the cluster before peers authenticated: a
// forged replicaPut "from n2" stored a key, a forged object with an extra
// dot replaced a coordinated write, a hintFor a non-member left a hint, and
// one gossip message with n2's heartbeat at 2^64-1 marked n2 down for good.
// Now each is answered with an error, its connection closed, counted
// (ringkv_server_peer_messages_refused_total, _peer_handshakes_total) and
// logged; the data and every node's view stay as they were.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "causality/object.h"
#include "common/host_port.h"
#include "node/peer_handshake.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "tests/integration/harness.h"

namespace ringkv::testing {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// One TCP connection speaking frames, with blocking reads bounded by time.
class RawConnection {
 public:
  explicit RawConnection(const std::string& address) {
    Result<HostPort> hp = ParseHostPort(address);
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(hp->port);
    ::inet_pton(AF_INET, hp->host.c_str(), &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  // Bytes received and not yet returned by Receive().
  size_t buffered() const { return in_.size(); }

  bool Send(const Message& m) {
    std::string frame;
    AppendFrame(EncodeMessage(m), &frame);
    return ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(frame.size());
  }
  // The next message, or nullopt once the node closed the connection or
  // 5 s passed.
  std::optional<Message> Receive() {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      FrameParse p = ParseFrame(in_);
      if (p.state == FrameParse::State::kFrame) {
        Result<Message> m = DecodeMessage(p.body);
        in_.erase(0, p.consumed);
        if (m.ok()) return std::move(m).value();
        return std::nullopt;
      }
      if (!ReadSome(deadline)) return std::nullopt;
    }
  }
  // Whether the node closes the connection within 5 s; what it sends
  // meanwhile is kept (buffered()).
  bool Closed() {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (ReadSome(deadline)) {
    }
    return closed_;
  }

 private:
  bool ReadSome(Clock::time_point deadline) {
    if (closed_) return false;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string in_;
};

Message From(const std::string& from, MessageBody body) {
  Message m;
  m.request_id = 41;
  m.from = from;
  m.timeout_ms = 5000;
  m.body = std::move(body);
  return m;
}

class PeerAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CommandResult r = cluster_.Start({"--gossip-interval-ms", "100"});
    ASSERT_EQ(r.exit_code, 0) << r.Describe() << "\n" << cluster_.LogTails();
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_.LogTails();
  }

  // Sends `m` on a fresh connection to node i and expects the refusal: an
  // error naming the reason, then the connection closed.
  void ExpectRefused(int node, const Message& m, const std::string& reason) {
    RawConnection c(cluster_.Address(node));
    ASSERT_TRUE(c.connected());
    ASSERT_TRUE(c.Send(m));
    std::optional<Message> reply = c.Receive();
    ASSERT_TRUE(reply.has_value()) << MessageName(m.body);
    const auto* error = std::get_if<ErrorReply>(&reply->body);
    ASSERT_NE(error, nullptr) << MessageName(reply->body);
    EXPECT_NE(error->status.message().find(reason), std::string::npos)
        << error->status.ToString();
    EXPECT_TRUE(c.Closed());
  }

  Json Status(int node) {
    CommandResult r = cluster_.Admin(node, {"status", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    return j.is_object() ? j : Json::object();
  }
  static double Metric(const Json& status, const std::string& name, const Json& labels) {
    for (const Json& m : status["metrics"]) {
      if (m["name"] == name && m["labels"] == labels) return m["value"].get<double>();
    }
    return -1;
  }
  // The object node i holds for b/key, read as a client (no `from`).
  Object ReadObject(int node, const std::string& key) {
    RawConnection c(cluster_.Address(node));
    Message get;
    get.request_id = 5;
    get.body = GetRequest{"b", key, kQuorumAll, 0};
    EXPECT_TRUE(c.Send(get));
    std::optional<Message> reply = c.Receive();
    const auto* got = reply ? std::get_if<GetReply>(&reply->body) : nullptr;
    EXPECT_NE(got, nullptr);
    return got != nullptr ? got->object : Object{};
  }
  std::string Log(int node) {
    std::ifstream in(cluster_.dir() + "/n" + std::to_string(node) + "/node.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  LocalClusterFixture cluster_{3};
};

TEST_F(PeerAuthTest, AForgedReplicaPutFromAClientConnectionStoresNothing) {
  Object forged = Update(Object{}, VersionVector{}, Actor{"n2", 7}, 1, false, "forged");
  const std::string why = "did not authenticate as a peer";
  for (int node = 1; node <= 3; ++node) {
    ExpectRefused(node, From("n2", ReplicaPutRequest{"b", "planted", forged, "", false}), why);
  }
  CommandResult get = cluster_.Cli(1, {"get", "b", "planted", "--r", "all"});
  EXPECT_EQ(get.exit_code, 1) << get.Describe();
  for (int node = 1; node <= 3; ++node) {
    EXPECT_EQ(Metric(Status(node), "ringkv_server_peer_messages_refused_total", Json::object()),
              1)
        << node;
    EXPECT_NE(Log(node).find("peer message replicaPut claiming to be from 'n2'"),
              std::string::npos)
        << node;
  }
}

TEST_F(PeerAuthTest, AForgedObjectWithAnExtraDotReplacesNothing) {
  CommandResult put = cluster_.Cli(1, {"put", "b", "k", "real", "--w", "all"});
  ASSERT_EQ(put.exit_code, 0) << put.Describe();
  Object real = ReadObject(1, "k");
  ASSERT_EQ(real.Values().size(), 1u);
  // Its context covers the real write and one dot more: merged, it would
  // replace "real" on every replica.
  Object forged = Update(real, real.context, Actor{"n2", 99}, 1, false, "forged");
  for (int node = 1; node <= 3; ++node) {
    ExpectRefused(node, From("n2", ReplicaPutRequest{"b", "k", forged, "", false}),
                  "did not authenticate");
  }
  for (int node = 1; node <= 3; ++node) {
    CommandResult get = cluster_.Cli(node, {"get", "b", "k", "--r", "all"});
    EXPECT_EQ(get.exit_code, 0) << get.Describe();
    EXPECT_EQ(get.out, "real\n") << node;
  }
}

TEST_F(PeerAuthTest, AHintForANonMemberLeavesNoHint) {
  Object forged = Update(Object{}, VersionVector{}, Actor{"n2", 7}, 1, false, "v");
  ExpectRefused(1, From("n2", ReplicaPutRequest{"b", "h", forged, "n9", false}),
                "did not authenticate");
  const Json status = Status(1);
  EXPECT_TRUE(status["hints"].empty()) << status["hints"].dump();
}

TEST_F(PeerAuthTest, AForgedGossipMessageChangesNoPeerState) {
  Gossip forged;
  forged.heartbeats.push_back({"n2", ~uint64_t{0}, ~uint64_t{0}});
  ExpectRefused(1, From("n2", forged), "did not authenticate");
  ExpectRefused(3, From("n2", forged), "did not authenticate");
  // An observation window, not a wait: before peers authenticated, this
  // message held n2 down from about 2 s on (phi 8 at 100 ms gossip); n1 and
  // n3 must keep seeing it up for three times that.
  const auto until = Clock::now() + std::chrono::seconds(6);
  while (Clock::now() < until) {
    for (int node : {1, 3}) {
      const Json status = Status(node);
      for (const Json& p : status["peers"]) {
        if (p["node"] != "n2") continue;
        ASSERT_TRUE(p["up"].get<bool>()) << "n" << node << " " << p;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
  }
}

TEST_F(PeerAuthTest, APeerWithoutTheSecretIsRefusedAndOneWithItIsNot) {
  std::ifstream in(cluster_.dir() + "/cluster-secret");
  std::string secret;
  in >> secret;
  ASSERT_EQ(secret.size(), 64u);
  auto any = [](const NodeId&) { return true; };
  for (const std::string& key : {std::string(64, 'f'), secret}) {
    const bool right = key == secret;
    PeerAuthenticator n2("n2", key, any);
    RawConnection c(cluster_.Address(1));
    PeerAuthenticator::Opening opening;
    Message hello;
    hello.body = *n2.Hello("n1", &opening);
    ASSERT_TRUE(c.Send(hello));
    std::optional<Message> reply = c.Receive();
    ASSERT_TRUE(reply.has_value());
    const auto* challenge = std::get_if<PeerChallenge>(&reply->body);
    ASSERT_NE(challenge, nullptr);
    Result<PeerProof> proof = n2.Answer(opening, *challenge);
    // The node's proof tells a holder of the secret it is talking to n1.
    EXPECT_EQ(proof.ok(), right) << proof.status().ToString();
    Message answer;
    answer.body = proof.ok() ? *proof : PeerProof{std::string(32, 'x')};
    ASSERT_TRUE(c.Send(answer));
    ASSERT_TRUE(c.Send(From("n2", Ping{})));
    if (right) {
      // Authenticated: the ping is served as n2's and answered on n1's own
      // connection to n2, not here; this connection stays open and silent.
      EXPECT_FALSE(c.Closed());
      EXPECT_EQ(c.buffered(), 0u);
    } else {
      std::optional<Message> refused = c.Receive();
      ASSERT_TRUE(refused.has_value());
      const auto* error = std::get_if<ErrorReply>(&refused->body);
      ASSERT_NE(error, nullptr);
      EXPECT_NE(error->status.message().find("does not hold"), std::string::npos);
      EXPECT_TRUE(c.Closed());
    }
  }
  const Json status = Status(1);
  EXPECT_EQ(Metric(status, "ringkv_server_peer_handshakes_total", Json{{"result", "refused"}}),
            1);
  EXPECT_GE(Metric(status, "ringkv_server_peer_handshakes_total", Json{{"result", "ok"}}),
            3);
  EXPECT_NE(Log(1).find("peer handshake refused"), std::string::npos);
}

}  // namespace
}  // namespace ringkv::testing
