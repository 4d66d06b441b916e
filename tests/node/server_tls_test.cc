// TLS between the server and the peer transport (docs/security.md, "TLS"):
// mutual TLS 1.3 with a cluster CA, a certificate that names a non-member
// cut off before any message, wrong names, other CAs, expired certificates,
// plain TCP to a TLS port and a stalled TLS handshake. Certificates are
// made in process by the same code as ringkv-admin cert.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "common/tls.h"
#include "node/peer_transport.h"
#include "node/server.h"
#include "tests/common/metric_value.h"
#include "tests/node/fake_sink.h"
#include "tests/node/test_client.h"
#include "tools/certificates.h"

namespace ringkv {
namespace {

namespace fs = std::filesystem;
using testing::AwaitClosed;
using testing::FakeSink;
using testing::MetricValue;
using testing::PumpUntil;
using testing::TestClient;

const std::string kSecret(40, 'k');

Message FromNode(const NodeId& from, uint64_t id) {
  Message m;
  m.request_id = id;
  m.from = from;
  m.body = ReplicaGetRequest{"b", "k" + std::to_string(id)};
  return m;
}

// A CA and the PEM files of the certificates a test asks for, in a
// temporary directory.
class Pki {
 public:
  Pki() : dir_(fs::temp_directory_path() / ("ringkv-tls-test-" + std::to_string(getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Result<PemPair> ca = NewCertificateAuthority("test CA", 30);
    EXPECT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
    Result<PemPair> other = NewCertificateAuthority("another CA", 30);
    EXPECT_TRUE(other.ok());
    other_ca_ = *other;
    Write("ca.crt", ca_.cert);
  }
  ~Pki() { fs::remove_all(dir_); }

  // Files for `name` signed by the cluster CA (or `ca`), valid now unless
  // `expired`.
  TlsFiles Files(const std::string& name, bool expired = false, const PemPair* ca = nullptr,
                 const std::string& file = "") {
    CertificateRequest request;
    request.name = name;
    if (expired) {
      request.not_before_s = -7200;
      request.not_after_s = -3600;
    }
    Result<PemPair> issued = IssueCertificate(ca != nullptr ? *ca : ca_, request);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    const std::string base = file.empty() ? name : file;
    return TlsFiles{(dir_ / "ca.crt").string(), Write(base + ".crt", issued->cert),
                    Write(base + ".key", issued->key)};
  }
  const PemPair& other_ca() const { return other_ca_; }

 private:
  std::string Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  fs::path dir_;
  PemPair ca_, other_ca_;
};

std::shared_ptr<TlsContext> ServerContext(const TlsFiles& files, bool require = false) {
  Result<std::shared_ptr<TlsContext>> ctx = TlsContext::ForServer(files, require);
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
  return ctx.ok() ? *ctx : nullptr;
}

std::shared_ptr<TlsContext> ClientContext(const TlsFiles& files) {
  Result<std::shared_ptr<TlsContext>> ctx = TlsContext::ForClient(files);
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
  return ctx.ok() ? *ctx : nullptr;
}

// Node n2's server, members n1..n3, with TLS and the peer handshake on top.
class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_ = std::make_unique<PeerAuthenticator>("n2", kSecret, is_member_);
    server_tls_ = ServerContext(pki_.Files("n2"));
    ServerOptions options;
    options.peer_auth = auth_.get();
    options.tls = server_tls_.get();
    options.is_member = is_member_;
    options.handshake_timeout_ms = 300;
    server_ = std::make_unique<Server>(&loop_, options, &sink_, &server_metrics_);
    ASSERT_TRUE(server_->Start().ok());
  }

  // A transport of node `self` presenting `files`, dialling n2 at the server.
  std::unique_ptr<PeerTransport> Opener(const NodeId& self, const TlsFiles& files,
                                        std::map<NodeId, std::string> extra = {}) {
    opener_auth_ = std::make_unique<PeerAuthenticator>(self, kSecret,
                                                       [](const NodeId&) { return true; });
    opener_tls_ = ClientContext(files);
    PeerTransportOptions options;
    options.auth = opener_auth_.get();
    options.tls = opener_tls_.get();
    options.max_backoff_us = 50'000;
    options.handshake_timeout_us = 300'000;
    std::map<NodeId, std::string> addresses = {
        {self, "127.0.0.1:1"}, {"n2", "127.0.0.1:" + std::to_string(server_->port())}};
    addresses.insert(extra.begin(), extra.end());
    return std::make_unique<PeerTransport>(&loop_, self, addresses, nullptr, &opener_metrics_,
                                           options);
  }

  // Sends to `to` until the opener has failed `failures` handshakes with it.
  bool AwaitHandshakeFailures(PeerTransport* transport, const NodeId& self, const NodeId& to,
                              double failures) {
    return PumpUntil(&loop_, [&] {
      transport->Send(to, EncodeMessage(FromNode(self, 1)));
      return MetricValue(opener_metrics_, "ringkv_peer_handshake_failures_total",
                         {{"peer", to}}) >= failures;
    });
  }

  double Tls(const char* result) const {
    return MetricValue(server_metrics_, "ringkv_server_tls_handshakes_total",
                       {{"result", result}});
  }

  std::set<NodeId> members_ = {"n1", "n2", "n3"};
  std::function<bool(const NodeId&)> is_member_ = [this](const NodeId& id) {
    return members_.count(id) > 0;
  };
  Pki pki_;
  EventLoop loop_;
  FakeSink sink_;
  MetricsRegistry server_metrics_, opener_metrics_;
  std::unique_ptr<PeerAuthenticator> auth_, opener_auth_;
  std::shared_ptr<TlsContext> server_tls_, opener_tls_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTlsTest, APeerWithItsCertificateAndTheSecretIsHeard) {
  auto transport = Opener("n1", pki_.Files("n1"));
  for (uint64_t id = 1; id <= 20; ++id) transport->Send("n2", EncodeMessage(FromNode("n1", id)));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.peer.size() == 20; }));
  for (uint64_t id = 1; id <= 20; ++id) EXPECT_EQ(sink_.peer[id - 1], FromNode("n1", id));
  EXPECT_TRUE(transport->connected("n2"));
  EXPECT_EQ(Tls("ok"), 1);
  EXPECT_EQ(MetricValue(server_metrics_, "ringkv_server_peer_handshakes_total",
                        {{"result", "ok"}}),
            1);
}

TEST_F(ServerTlsTest, ACertificateNamingANonMemberIsCutOffBeforeAnyMessage) {
  auto transport = Opener("n1", pki_.Files("n9"));
  ASSERT_TRUE(PumpUntil(&loop_, [&] {
    transport->Send("n2", EncodeMessage(FromNode("n1", 1)));
    return Tls("not_member") >= 2;
  }));
  EXPECT_TRUE(sink_.peer.empty());
  EXPECT_EQ(sink_.requests, 0);
  EXPECT_EQ(MetricValue(server_metrics_, "ringkv_server_peer_handshakes_total",
                        {{"result", "ok"}}),
            0);
  EXPECT_FALSE(transport->IsUp("n2"));
}

TEST_F(ServerTlsTest, AMemberRemovedFromTheRingLosesItsTlsConnection) {
  auto transport = Opener("n3", pki_.Files("n3"));
  transport->Send("n2", EncodeMessage(FromNode("n3", 1)));
  ASSERT_TRUE(PumpUntil(&loop_, [&] { return sink_.peer.size() == 1; }));
  members_.erase("n3");
  server_->DropFormerMembers();
  EXPECT_EQ(server_->connection_count(), 0u);
}

// The certificate and the peer handshake must name the same member.
TEST_F(ServerTlsTest, AHelloInAnotherNameThanTheCertificateIsRefused) {
  auto transport = Opener("n3", pki_.Files("n1"));
  ASSERT_TRUE(AwaitHandshakeFailures(transport.get(), "n3", "n2", 1));
  EXPECT_TRUE(sink_.peer.empty());
  EXPECT_GE(MetricValue(server_metrics_, "ringkv_server_peer_handshakes_total",
                        {{"result", "refused"}}),
            1);
}

TEST_F(ServerTlsTest, TheOpenerRefusesAServerWhoseCertificateNamesAnotherNode) {
  // Node n3's certificate at the address n1 dials as n4's.
  auto n3_tls = ServerContext(pki_.Files("n3"));
  ServerOptions options;
  options.tls = n3_tls.get();
  options.is_member = is_member_;
  MetricsRegistry n3_metrics;
  Server n3(&loop_, options, &sink_, &n3_metrics);
  ASSERT_TRUE(n3.Start().ok());
  auto transport =
      Opener("n1", pki_.Files("n1"), {{"n4", "127.0.0.1:" + std::to_string(n3.port())}});
  members_.insert("n4");
  ASSERT_TRUE(AwaitHandshakeFailures(transport.get(), "n1", "n4", 2));
  EXPECT_FALSE(transport->IsUp("n4"));
  EXPECT_TRUE(sink_.peer.empty());
}

TEST_F(ServerTlsTest, CertificatesOfAnotherCaAreRefusedBothWays) {
  // The opener presents a certificate of another CA: the server refuses.
  auto stranger = Opener("n1", pki_.Files("n1", false, &pki_.other_ca(), "stranger"));
  ASSERT_TRUE(PumpUntil(&loop_, [&] {
    stranger->Send("n2", EncodeMessage(FromNode("n1", 1)));
    return Tls("failed") >= 1;
  }));
  EXPECT_TRUE(sink_.peer.empty());
  // A server of another CA: the opener refuses it.
  auto other_tls = ServerContext(pki_.Files("n4", false, &pki_.other_ca(), "other-n4"));
  ServerOptions options;
  options.tls = other_tls.get();
  options.is_member = [](const NodeId&) { return true; };
  MetricsRegistry other_metrics;
  Server other(&loop_, options, &sink_, &other_metrics);
  ASSERT_TRUE(other.Start().ok());
  auto transport =
      Opener("n1", pki_.Files("n1"), {{"n4", "127.0.0.1:" + std::to_string(other.port())}});
  ASSERT_TRUE(AwaitHandshakeFailures(transport.get(), "n1", "n4", 1));
  EXPECT_TRUE(sink_.peer.empty());
}

TEST_F(ServerTlsTest, AnExpiredCertificateIsRefused) {
  auto transport = Opener("n1", pki_.Files("n1", /*expired=*/true));
  ASSERT_TRUE(AwaitHandshakeFailures(transport.get(), "n1", "n2", 1));
  EXPECT_GE(Tls("failed"), 1);
  EXPECT_TRUE(sink_.peer.empty());
  EXPECT_FALSE(transport->IsUp("n2"));
}

TEST_F(ServerTlsTest, PlainTcpToATlsPortIsClosedUnread) {
  TestClient c(server_->port());
  ASSERT_TRUE(c.SendMessage(testing::PingWithId(1)));
  ASSERT_TRUE(c.SendMessage(FromNode("n1", 2)));
  EXPECT_TRUE(AwaitClosed(&loop_, &c));
  EXPECT_TRUE(c.TakeMessage() == std::nullopt);
  EXPECT_EQ(sink_.requests, 0);
  EXPECT_TRUE(sink_.peer.empty());
  EXPECT_EQ(Tls("failed"), 1);
}

TEST_F(ServerTlsTest, AStalledTlsHandshakeIsCutOff) {
  // The first bytes of a ClientHello, then nothing.
  TestClient c(server_->port());
  ASSERT_TRUE(c.SendRaw(std::string("\x16\x03\x01\x02\x00\x01", 6)));
  TestClient silent(server_->port());
  EXPECT_TRUE(AwaitClosed(&loop_, &c, 3000));
  EXPECT_TRUE(AwaitClosed(&loop_, &silent, 3000));
  EXPECT_EQ(Tls("timeout"), 2);
  EXPECT_EQ(server_->connection_count(), 0u);
}

}  // namespace
}  // namespace ringkv
