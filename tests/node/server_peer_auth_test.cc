// The server's peer gate (docs/security.md): messages with a non-empty
// `from` pass only on a connection that completed the peer handshake as that
// member; everything else a hostile or broken peer can send is refused with
// an error, closes its connection and is counted.
#include <gtest/gtest.h>

#include <memory>
#include <set>
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
using testing::MetricValue;
using testing::PumpUntil;
using testing::TestClient;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test";

Message From(const NodeId& from, MessageBody body, uint64_t id = 9) {
  Message m;
  m.request_id = id;
  m.from = from;
  m.body = std::move(body);
  return m;
}

Message Bare(MessageBody body) {
  Message m;
  m.body = std::move(body);
  return m;
}

ReplicaPutRequest ForgedPut() {
  ReplicaPutRequest put;
  put.bucket = "b";
  put.key = "k";
  put.hint_for = "n9";
  return put;
}

class ServerPeerAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_ = std::make_unique<PeerAuthenticator>(
        "n1", kSecret, [this](const NodeId& id) { return members_.count(id) > 0; });
    ServerOptions options;
    options.peer_auth = auth_.get();
    options.handshake_timeout_ms = 300;
    server_ = std::make_unique<Server>(&loop_, options, &sink_, &metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }

  // Runs the opener's side as `as` holding `secret`. The proof goes out
  // even when the challenge does not verify, as a forger would send one.
  void Authenticate(TestClient* c, const NodeId& as, const std::string& secret) {
    PeerAuthenticator opener(as, secret, [](const NodeId&) { return true; });
    PeerAuthenticator::Opening opening;
    Result<PeerHello> hello = opener.Hello("n1", &opening);
    ASSERT_TRUE(c->SendMessage(Bare(*hello)));
    std::optional<Message> reply = AwaitMessage(&loop_, c);
    ASSERT_TRUE(reply.has_value());
    auto* challenge = std::get_if<PeerChallenge>(&reply->body);
    ASSERT_NE(challenge, nullptr) << MessageName(reply->body);
    Result<PeerProof> proof = opener.Answer(opening, *challenge);
    ASSERT_TRUE(c->SendMessage(Bare(proof.ok() ? *proof : PeerProof{std::string(32, 'x')})));
  }

  // The error the server answered with before closing `c`.
  Status RefusedWith(TestClient* c) {
    std::optional<Message> reply = AwaitMessage(&loop_, c);
    EXPECT_TRUE(AwaitClosed(&loop_, c));
    if (!reply.has_value()) return Status::OK();
    auto* error = std::get_if<ErrorReply>(&reply->body);
    return error == nullptr ? Status::OK() : error->status;
  }

  double Handshakes(const char* result) const {
    return MetricValue(metrics_, "ringkv_server_peer_handshakes_total", {{"result", result}});
  }
  double Refused() const {
    return MetricValue(metrics_, "ringkv_server_peer_messages_refused_total");
  }

  void ExpectServing() {
    TestClient c(server_->port());
    ASSERT_TRUE(c.SendMessage(Bare(Ping{})));
    std::optional<Message> reply = AwaitMessage(&loop_, &c);
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(std::holds_alternative<Pong>(reply->body));
  }

  std::set<NodeId> members_ = {"n1", "n2", "n3"};
  EventLoop loop_;
  FakeSink sink_;
  MetricsRegistry metrics_;
  std::unique_ptr<PeerAuthenticator> auth_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerPeerAuthTest, PeerMessagesOnAClientConnectionAreRefusedAndCounted) {
  Gossip forged;
  forged.heartbeats.push_back({"n2", ~uint64_t{0}, ~uint64_t{0}});
  const std::vector<MessageBody> bodies = {ForgedPut(), forged, PutRequest{}, ReplicaGetRequest{},
                                           Ping{}};
  for (const MessageBody& body : bodies) {
    TestClient c(server_->port());
    ASSERT_TRUE(c.SendMessage(From("n2", body)));
    Status why = RefusedWith(&c);
    EXPECT_TRUE(why.IsInvalidArgument()) << MessageName(body);
    EXPECT_NE(why.message().find("did not authenticate"), std::string::npos) << why.message();
  }
  EXPECT_TRUE(sink_.peer.empty());
  EXPECT_EQ(Refused(), static_cast<double>(bodies.size()));
  ExpectServing();
}

TEST_F(ServerPeerAuthTest, AnAuthenticatedPeerIsHeardInItsOwnNameOnly) {
  TestClient c(server_->port());
  Authenticate(&c, "n2", kSecret);
  ASSERT_TRUE(c.SendMessage(From("n2", Gossip{})));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.peer.size() == 1; }));
  EXPECT_EQ(sink_.peer[0].from, "n2");
  EXPECT_EQ(Handshakes("ok"), 1);
  // The same connection speaking for n3 is cut off.
  ASSERT_TRUE(c.SendMessage(From("n3", ForgedPut())));
  Status why = RefusedWith(&c);
  EXPECT_NE(why.message().find("authenticated as 'n2'"), std::string::npos) << why.message();
  EXPECT_EQ(sink_.peer.size(), 1u);
  EXPECT_EQ(Refused(), 1);
}

TEST_F(ServerPeerAuthTest, AWrongSecretIsRefusedBeforeAnyMessage) {
  TestClient c(server_->port());
  Authenticate(&c, "n2", std::string(40, 'w'));
  // Pipelined right behind the bad proof, as an eager forger would.
  ASSERT_TRUE(c.SendMessage(From("n2", ForgedPut())));
  Status why = RefusedWith(&c);
  EXPECT_NE(why.message().find("does not hold"), std::string::npos) << why.message();
  EXPECT_TRUE(sink_.peer.empty());
  EXPECT_EQ(Handshakes("refused"), 1);
  EXPECT_EQ(Handshakes("ok"), 0);
}

TEST_F(ServerPeerAuthTest, NonMembersAndOutOfOrderStepsAreRefused) {
  {
    TestClient c(server_->port());
    PeerAuthenticator n9("n9", kSecret, [](const NodeId&) { return true; });
    PeerAuthenticator::Opening opening;
    ASSERT_TRUE(c.SendMessage(Bare(*n9.Hello("n1", &opening))));
    EXPECT_NE(RefusedWith(&c).message().find("not a member"), std::string::npos);
  }
  {
    TestClient c(server_->port());
    ASSERT_TRUE(c.SendMessage(Bare(PeerProof{std::string(32, 'p')})));
    EXPECT_NE(RefusedWith(&c).message().find("without a hello"), std::string::npos);
  }
  {
    TestClient c(server_->port());
    ASSERT_TRUE(c.SendMessage(Bare(PeerChallenge{"n2", std::string(32, 'n'), ""})));
    EXPECT_TRUE(RefusedWith(&c).IsInvalidArgument());
  }
  {
    TestClient c(server_->port());
    Authenticate(&c, "n2", kSecret);
    PeerAuthenticator n2("n2", kSecret, [](const NodeId&) { return true; });
    PeerAuthenticator::Opening opening;
    ASSERT_TRUE(c.SendMessage(Bare(*n2.Hello("n1", &opening))));
    EXPECT_NE(RefusedWith(&c).message().find("second hello"), std::string::npos);
  }
  {
    TestClient c(server_->port());
    ASSERT_TRUE(c.SendMessage(Bare(PeerHello{"n2", "short nonce"})));
    EXPECT_TRUE(RefusedWith(&c).IsInvalidArgument());
  }
  EXPECT_EQ(Handshakes("refused"), 5);
  EXPECT_TRUE(sink_.peer.empty());
  ExpectServing();
}

TEST_F(ServerPeerAuthTest, AHandshakeLeftUnfinishedIsCutOff) {
  TestClient c(server_->port());
  PeerAuthenticator n2("n2", kSecret, [](const NodeId&) { return true; });
  PeerAuthenticator::Opening opening;
  ASSERT_TRUE(c.SendMessage(Bare(*n2.Hello("n1", &opening))));
  std::optional<Message> challenge = AwaitMessage(&loop_, &c);
  ASSERT_TRUE(challenge.has_value());
  // No proof: closed after the handshake timeout (300 ms here).
  EXPECT_TRUE(AwaitClosed(&loop_, &c, 5000));
  EXPECT_EQ(Handshakes("timeout"), 1);
  ExpectServing();
}

TEST_F(ServerPeerAuthTest, AMemberRemovedFromTheRingLosesItsConnection) {
  TestClient c(server_->port());
  Authenticate(&c, "n2", kSecret);
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return Handshakes("ok") == 1; }));
  members_.erase("n2");
  server_->DropFormerMembers();
  EXPECT_TRUE(AwaitClosed(&loop_, &c));
}

TEST_F(ServerPeerAuthTest, ClientRequestsNeedNoHandshake) { ExpectServing(); }

}  // namespace
}  // namespace ringkv
