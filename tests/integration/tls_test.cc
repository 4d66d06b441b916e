// Issue 12, TLS: `ringkv-cluster start --tls` makes a cluster CA and node
// certificates and runs every node with TLS; the CLI and ringkv-admin
// connect with the CA (flag or environment), and replication between the
// nodes goes over mutual TLS. A plain connection to a TLS node gets nothing;
// a client presenting a certificate that names a node outside the cluster is
// cut off. `ringkv-admin cert init-ca` and `cert issue` write the CA and
// certificates with private keys only the owner may read, and never replace
// one. A node started with --client-tokens serves only requests whose token
// (made by `ringkv-admin token create`, kept hashed) has the grant: the CLI
// exits 6 without a known token and 7 without the grant.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.h"

namespace ringkv::testing {
namespace {

namespace fs = std::filesystem;

unsigned Mode(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

TEST(TlsIntegrationTest, ATlsClusterServesTlsClientsOnly) {
  LocalClusterFixture cluster(3);
  CommandResult start = cluster.Start({"--tls"});
  ASSERT_EQ(start.exit_code, 0) << start.Describe() << cluster.LogTails();
  const std::string ca = cluster.dir() + "/tls/ca.crt";
  ASSERT_TRUE(fs::exists(ca));
  EXPECT_EQ(Mode(cluster.dir() + "/tls/n2.key"), 0600u);

  CommandResult put = cluster.Cli(1, {"--tls-ca", ca, "put", "b", "k", "over-tls", "--w", "all"});
  ASSERT_EQ(put.exit_code, 0) << put.Describe() << cluster.LogTails();
  // Written through n1 to all three replicas over the peers' TLS, read back
  // through n3 with r=all; the CA from the environment this time.
  CommandResult get = RunCommand({"/usr/bin/env", "RINGKV_TLS_CA=" + ca,
                                  BinaryPath("tools/ringkv"), "--node", cluster.Address(3),
                                  "get", "b", "k", "--r", "all"});
  ASSERT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_EQ(get.out, "over-tls\n");

  // Plain TCP to a TLS port: no answer, exit 3 (unavailable), nothing written.
  CommandResult plain = cluster.Cli(1, {"put", "b", "plain", "x"});
  EXPECT_EQ(plain.exit_code, 3) << plain.Describe();
  CommandResult missing = cluster.Cli(2, {"--tls-ca", ca, "get", "b", "plain"});
  EXPECT_EQ(missing.exit_code, 1) << missing.Describe();

  // --tls without a CA is a usage error.
  CommandResult no_ca = cluster.Cli(1, {"--tls", "get", "b", "k"});
  EXPECT_EQ(no_ca.exit_code, 2) << no_ca.Describe();

  CommandResult status = cluster.Admin(2, {"--tls-ca", ca, "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  const nlohmann::json view = nlohmann::json::parse(status.out);
  for (const auto& peer : view["peers"]) EXPECT_TRUE(peer["up"].get<bool>()) << status.out;
  double tls_ok = 0;
  for (const auto& m : view["metrics"]) {
    if (m["name"] == "ringkv_server_tls_handshakes_total" && m["labels"]["result"] == "ok") {
      tls_ok = m["value"].get<double>();
    }
  }
  EXPECT_GE(tls_ok, 2) << "n1 and n3 connect to n2 over TLS";

  // A certificate of the cluster CA naming a node that is not a member,
  // presented by a client: cut off at the end of the handshake.
  CommandResult issue = RunCommand({BinaryPath("tools/ringkv-admin"), "cert", "issue", "n9",
                                    "--dir", cluster.dir() + "/tls"});
  ASSERT_EQ(issue.exit_code, 0) << issue.Describe();
  const std::string n9 = cluster.dir() + "/tls/n9";
  CommandResult impostor = cluster.Cli(
      1, {"--tls-ca", ca, "--tls-cert", n9 + ".crt", "--tls-key", n9 + ".key", "put", "b",
          "impostor", "x"});
  EXPECT_EQ(impostor.exit_code, 3) << impostor.Describe();
  CommandResult untouched = cluster.Cli(1, {"--tls-ca", ca, "get", "b", "impostor"});
  EXPECT_EQ(untouched.exit_code, 1) << untouched.Describe();

  // Restarted, a node keeps TLS (the cluster has a CA).
  CommandResult restart = cluster.Cluster({"restart", "n2"});
  ASSERT_EQ(restart.exit_code, 0) << restart.Describe() << cluster.LogTails();
  CommandResult again = cluster.Cli(2, {"--tls-ca", ca, "get", "b", "k"});
  EXPECT_EQ(again.exit_code, 0) << again.Describe();
}

// ringkv-bench with the cluster CA (issue 12's TLS cost figure) loads and
// runs workload A against a TLS cluster with every operation answered. A CA
// that did not sign the nodes fails at the start (exit 3, OpenSSL's
// reason); a plain run against TLS nodes counts every operation as an error;
// credentials for a target other than ringkv://, or --tls without a CA, are
// usage errors.
TEST(TlsIntegrationTest, BenchRunsOverTls) {
  LocalClusterFixture cluster(3);
  ASSERT_EQ(cluster.Start({"--tls"}).exit_code, 0) << cluster.LogTails();
  const std::string ca = cluster.dir() + "/tls/ca.crt";
  const std::string bench = BinaryPath("tools/bench/ringkv-bench");
  const std::string target =
      "ringkv://" + cluster.Address(1) + "," + cluster.Address(2) + "," + cluster.Address(3);
  const std::string report = cluster.dir() + "/bench.json";
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bench, "--target", target, "--records", "300", "--concurrency",
                               "8", "--quiet", "--json", report});
    CommandResult r = RunCommand(args, std::chrono::seconds(120));
    std::ifstream in(report);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return j.is_object() ? j : nlohmann::json::object();
  };
  // Right after start a node may not reach its peers yet: wait until a
  // write at W=all goes through.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (cluster.Cli(1, {"--tls-ca", ca, "put", "b", "warm", "1", "--w", "all"}).exit_code != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // poll interval
  }
  nlohmann::json load = run({"--tls-ca", ca, "--load", "--w", "all"});
  EXPECT_EQ(load["ops"], 300) << load.dump();
  EXPECT_EQ(load["errors"], 0) << load.dump();
  nlohmann::json a = run({"--tls-ca", ca, "--workload", "a", "--ops", "2000"});
  EXPECT_EQ(a["ops"], 2000) << a.dump();
  EXPECT_EQ(a["errors"], 0) << a.dump();
  EXPECT_GT(a["read"]["count"].get<int>(), 0) << a.dump();

  const std::string other_ca = cluster.dir() + "/other-ca";
  ASSERT_EQ(RunCommand({BinaryPath("tools/ringkv-admin"), "cert", "init-ca", "--dir", other_ca})
                .exit_code,
            0);
  CommandResult stranger = RunCommand(
      {bench, "--target", target, "--tls-ca", other_ca + "/ca.crt", "--ops", "10", "--quiet"});
  EXPECT_EQ(stranger.exit_code, 3) << stranger.Describe();
  EXPECT_NE(stranger.err.find("certificate verify failed"), std::string::npos)
      << stranger.Describe();
  nlohmann::json plain = run({"--workload", "c", "--ops", "20", "--client-timeout", "2"});
  EXPECT_EQ(plain["errors"], 20) << plain.dump();

  CommandResult redis = RunCommand(
      {bench, "--target", "redis://127.0.0.1:1", "--tls-ca", ca, "--ops", "1", "--quiet"});
  EXPECT_EQ(redis.exit_code, 2) << redis.Describe();
  CommandResult no_ca = RunCommand({bench, "--target", target, "--tls", "--ops", "1", "--quiet"});
  EXPECT_EQ(no_ca.exit_code, 2) << no_ca.Describe();
  EXPECT_NE(no_ca.err.find("CA"), std::string::npos) << no_ca.Describe();
}

TEST(TlsIntegrationTest, CertCommandsWriteKeysOwnerOnlyAndNeverReplace) {
  TempDir dir;
  const std::string ca_dir = dir.path() + "/ca";
  const std::string admin = BinaryPath("tools/ringkv-admin");
  CommandResult init = RunCommand({admin, "cert", "init-ca", "--dir", ca_dir});
  ASSERT_EQ(init.exit_code, 0) << init.Describe();
  EXPECT_EQ(Mode(ca_dir + "/ca.key"), 0600u);
  CommandResult again = RunCommand({admin, "cert", "init-ca", "--dir", ca_dir});
  EXPECT_EQ(again.exit_code, 2) << again.Describe();
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.Describe();

  CommandResult issue = RunCommand({admin, "cert", "issue", "n1", "--dir", ca_dir, "--host",
                                    "127.0.0.1", "--out", dir.path() + "/n1"});
  ASSERT_EQ(issue.exit_code, 0) << issue.Describe();
  EXPECT_EQ(Mode(dir.path() + "/n1/n1.key"), 0600u);
  EXPECT_TRUE(fs::exists(dir.path() + "/n1/n1.crt"));
  CommandResult bad = RunCommand({admin, "cert", "issue", "../n1", "--dir", ca_dir});
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  CommandResult no_ca = RunCommand({admin, "cert", "issue", "n1", "--dir", dir.path() + "/none"});
  EXPECT_EQ(no_ca.exit_code, 2) << no_ca.Describe();
}

// A node refuses TLS files that are incomplete or do not fit together.
TEST(TlsIntegrationTest, ANodeChecksItsTlsFiles) {
  LocalClusterFixture cluster(1);
  ASSERT_EQ(cluster.Start({"--tls"}).exit_code, 0) << cluster.LogTails();
  ASSERT_EQ(cluster.Cluster({"stop"}).exit_code, 0);
  const std::string tls = cluster.dir() + "/tls/";
  const std::string node = BinaryPath("node/ringkv-node");
  const std::vector<std::string> base = {node, "--cluster", cluster.dir() + "/cluster.toml",
                                         "--node", "n1", "--data", cluster.dir() + "/n1/data"};
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = base;
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv, std::chrono::seconds(10));
  };
  CommandResult half = run({"--tls-cert", tls + "n1.crt", "--tls-ca", tls + "ca.crt"});
  EXPECT_EQ(half.exit_code, 2) << half.Describe();
  EXPECT_NE(half.err.find("--tls-key"), std::string::npos) << half.Describe();
  CommandResult wrong_key = run({"--tls-cert", tls + "n1.crt", "--tls-key", tls + "ca.key",
                                 "--tls-ca", tls + "ca.crt"});
  EXPECT_EQ(wrong_key.exit_code, 2) << wrong_key.Describe();
  EXPECT_NE(wrong_key.err.find("private key"), std::string::npos) << wrong_key.Describe();
}

// Issue 15: `ringkv-node --join` over TLS, as `ringkv-cluster add` runs it
// for a TLS cluster: the new node joins, receives its partitions and
// serves TLS clients. A node whose CA did not sign the members'
// certificates, or without TLS, cannot join.
TEST(TlsIntegrationTest, ANodeJoinsATlsClusterWithJoin) {
  LocalClusterFixture cluster(3);
  CommandResult start =
      cluster.Start({"--tls", "--gossip-interval-ms", "100", "--ring-tick-ms", "200",
                     "--transfer-settle-ms", "1500", "--transfer-cleanup-delay-ms", "1500"});
  ASSERT_EQ(start.exit_code, 0) << start.Describe() << cluster.LogTails();
  const std::string ca = cluster.dir() + "/tls/ca.crt";
  CommandResult put = RunCommand({});
  for (int i = 0; i < 50; ++i) {
    put = cluster.Cli(1, {"--tls-ca", ca, "put", "b", "k", "joined-over-tls", "--w", "all"});
    if (put.exit_code == 0) break;
    ::poll(nullptr, 0, 100);
  }
  ASSERT_EQ(put.exit_code, 0) << put.Describe();

  CommandResult added = cluster.Cluster({"add"});
  ASSERT_EQ(added.exit_code, 0) << added.Describe() << cluster.LogTails();
  nlohmann::json state;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    CommandResult r = cluster.Admin(1, {"--tls-ca", ca, "ring", "state", "--json"});
    if (r.exit_code == 0) {
      state = nlohmann::json::parse(r.out);
      if (state["change"].is_null() && state["members"].size() == 4 &&
          state["members"][3]["status"] == "valid") {
        break;
      }
    }
    ::poll(nullptr, 0, 250);
  }
  ASSERT_EQ(state["members"].size(), 4u) << state.dump() << cluster.LogTails();
  EXPECT_EQ(state["members"][3]["node"], "n4");
  EXPECT_EQ(state["members"][3]["status"], "valid") << state.dump();
  EXPECT_GT(state["members"][3]["partitions"].get<int>(), 0);
  CommandResult got = cluster.Cli(4, {"--tls-ca", ca, "get", "b", "k", "--r", "all"});
  EXPECT_EQ(got.exit_code, 0) << got.Describe();
  EXPECT_NE(got.out.find("joined-over-tls"), std::string::npos) << got.Describe();

  // Another CA's node, and a node without TLS: refused at the join, exit 1,
  // and no member of the ring.
  const std::string other = cluster.dir() + "/other-ca";
  const std::string admin = BinaryPath("tools/ringkv-admin");
  ASSERT_EQ(RunCommand({admin, "cert", "init-ca", "--dir", other}).exit_code, 0);
  ASSERT_EQ(RunCommand({admin, "cert", "issue", "n5", "--dir", other, "--host", "127.0.0.1"})
                .exit_code,
            0);
  const uint16_t port = FindFreePortBase(1) + 1;
  auto join = [&](const std::string& id, std::vector<std::string> extra) {
    std::vector<std::string> argv = {BinaryPath("node/ringkv-node"),
                                     "--node", id,
                                     "--data", cluster.dir() + "/" + id + "-data",
                                     "--listen", "127.0.0.1:" + std::to_string(port),
                                     "--join", cluster.Address(1),
                                     "--join-timeout-ms", "3000",
                                     "--cluster-secret-file", cluster.dir() + "/cluster-secret"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunCommand(argv, std::chrono::seconds(20));
  };
  CommandResult foreign = join("n5", {"--tls-cert", other + "/n5.crt", "--tls-key",
                                      other + "/n5.key", "--tls-ca", other + "/ca.crt"});
  EXPECT_EQ(foreign.exit_code, 1) << foreign.Describe();
  std::cout << "another CA's node: " << foreign.err;
  EXPECT_NE(foreign.err.find("TLS handshake with " + cluster.Address(1)), std::string::npos)
      << foreign.Describe();
  CommandResult plain = join("n6", {});
  EXPECT_EQ(plain.exit_code, 1) << plain.Describe();
  CommandResult after = cluster.Admin(2, {"--tls-ca", ca, "ring", "state", "--json"});
  ASSERT_EQ(after.exit_code, 0) << after.Describe();
  EXPECT_EQ(nlohmann::json::parse(after.out)["members"].size(), 4u) << after.out;
}

// One ringkv-node with --client-tokens, started and killed by PID.
class TokenNode {
 public:
  explicit TokenNode(const std::string& dir) : dir_(dir) {
    port_ = FindFreePortBase(1) + 1;
    std::ofstream(dir_ + "/cluster.toml")
        << "partitions = 8\nn = 1\n[[member]]\nid = \"n1\"\naddress = \"" << address()
        << "\"\n";
  }
  ~TokenNode() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Starts it with `extra` flags and waits (bounded) until it answers a
  // ping, sent with `ping_flags` (a TLS node's CA).
  bool Start(const std::string& tokens, std::vector<std::string> extra = {},
             const std::vector<std::string>& ping_flags = {}) {
    std::vector<std::string> argv = {BinaryPath("node/ringkv-node"), "--cluster",
                                     dir_ + "/cluster.toml", "--node", "n1", "--data",
                                     dir_ + "/data", "--log-file", dir_ + "/node.log",
                                     "--client-tokens", tokens};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> args;
      for (std::string& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    std::vector<std::string> ping = {BinaryPath("tools/ringkv"), "--node", address()};
    ping.insert(ping.end(), ping_flags.begin(), ping_flags.end());
    ping.push_back("ping");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (RunCommand(ping).exit_code == 0) return true;
      ::poll(nullptr, 0, 50);
    }
    return false;
  }

 private:
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

// `ringkv-admin token create NAME --grant G...` into `file`; the token.
std::string CreateToken(const std::string& file, const std::string& name,
                        const std::vector<std::string>& grants) {
  std::vector<std::string> argv = {BinaryPath("tools/ringkv-admin"), "token", "create", name,
                                   "--file", file};
  for (const std::string& g : grants) argv.insert(argv.end(), {"--grant", g});
  CommandResult made = RunCommand(argv);
  EXPECT_EQ(made.exit_code, 0) << made.Describe();
  return made.out.substr(0, made.out.find('\n'));
}

TEST(ClientTokenIntegrationTest, TokensAndGrantsGateEveryRequest) {
  TempDir dir;
  const std::string tokens = dir.path() + "/tokens";
  const std::string admin = BinaryPath("tools/ringkv-admin");
  auto create = [&](const std::string& name, const std::vector<std::string>& grants) {
    return CreateToken(tokens, name, grants);
  };
  const std::string reader = create("reader", {"kv.get:carts"});
  const std::string writer = create("writer", {"kv.get:carts", "kv.put:carts"});
  const std::string ops = create("ops", {"cluster.admin"});
  EXPECT_EQ(RunCommand({admin, "token", "create", "x", "--grant", "kv.write:b", "--file", tokens})
                .exit_code,
            2);
  EXPECT_EQ(Mode(tokens), 0600u);
  std::stringstream file;
  file << std::ifstream(tokens).rdbuf();
  for (const std::string& token : {reader, writer, ops}) {
    ASSERT_EQ(token.rfind("rkv_", 0), 0u) << token;
    EXPECT_EQ(file.str().find(token), std::string::npos) << "tokens are stored hashed only";
  }

  TokenNode node(dir.path());
  ASSERT_TRUE(node.Start(tokens));
  const std::string cli = BinaryPath("tools/ringkv");
  auto run = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {cli, "--node", node.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  };
  CommandResult none = run({"get", "carts", "k"});
  EXPECT_EQ(none.exit_code, 6) << none.Describe();
  EXPECT_NE(none.err.find("unauthenticated"), std::string::npos) << none.Describe();
  CommandResult forged = run({"--token", "rkv_" + std::string(64, '0'), "put", "carts", "k", "x"});
  EXPECT_EQ(forged.exit_code, 6) << forged.Describe();
  CommandResult read_only = run({"--token", reader, "put", "carts", "k", "x"});
  EXPECT_EQ(read_only.exit_code, 7) << read_only.Describe();
  EXPECT_NE(read_only.err.find("token 'reader' lacks kv.put on bucket 'carts'"),
            std::string::npos)
      << read_only.Describe();
  CommandResult put = run({"--token", writer, "put", "carts", "k", "milk"});
  EXPECT_EQ(put.exit_code, 0) << put.Describe();
  CommandResult other_bucket = run({"--token", writer, "put", "other", "k", "x"});
  EXPECT_EQ(other_bucket.exit_code, 7) << other_bucket.Describe();
  CommandResult no_delete = run({"--token", writer, "del", "carts", "k"});
  EXPECT_EQ(no_delete.exit_code, 7) << no_delete.Describe();
  // The token from the environment, and from a file.
  CommandResult get = RunCommand({"/usr/bin/env", "RINGKV_TOKEN=" + reader, cli, "--node",
                                  node.address(), "get", "carts", "k"});
  EXPECT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_EQ(get.out, "milk\n");
  const std::string token_file = dir.path() + "/reader.token";
  std::ofstream(token_file) << reader << "\n";
  EXPECT_EQ(run({"--token-file", token_file, "get", "carts", "k"}).exit_code, 0);
  // Status needs cluster.admin.
  CommandResult status = RunCommand({admin, "--node", node.address(), "--token", reader, "status"});
  EXPECT_EQ(status.exit_code, 7) << status.Describe();
  status = RunCommand({admin, "--node", node.address(), "--token", ops, "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.Describe();
  double refused = 0;
  const nlohmann::json view = nlohmann::json::parse(status.out);
  for (const auto& m : view["metrics"]) {
    if (m["name"] == "ringkv_client_auth_refused_total") refused += m["value"].get<double>();
  }
  EXPECT_EQ(refused, 6) << "2 unauthenticated and 4 forbidden requests";
}

// The HTTP API of a node with TLS and client tokens is HTTPS with bearer
// tokens: the same grants as the binary protocol, the probes open to
// anyone, everything else an administrator's; plain HTTP gets nothing.
TEST(ClientTokenIntegrationTest, HttpsWithBearerTokensGatesTheHttpApiAsTheBinaryProtocol) {
  TempDir dir;
  const std::string admin = BinaryPath("tools/ringkv-admin");
  const std::string tls = dir.path() + "/tls";
  ASSERT_EQ(RunCommand({admin, "cert", "init-ca", "--dir", tls}).exit_code, 0);
  CommandResult issued =
      RunCommand({admin, "cert", "issue", "n1", "--dir", tls, "--host", "127.0.0.1"});
  ASSERT_EQ(issued.exit_code, 0) << issued.Describe();
  const std::string tokens = dir.path() + "/tokens";
  const std::string writer = CreateToken(tokens, "writer", {"kv.get:carts", "kv.put:carts"});
  const std::string ops = CreateToken(tokens, "ops", {"cluster.admin"});
  const uint16_t http_port = FindFreePortBase(1) + 1;
  TokenNode node(dir.path());
  ASSERT_TRUE(node.Start(tokens,
                         {"--tls-cert", tls + "/n1.crt", "--tls-key", tls + "/n1.key", "--tls-ca",
                          tls + "/ca.crt", "--http", "127.0.0.1:" + std::to_string(http_port)},
                         {"--tls-ca", tls + "/ca.crt"}));

  // One request through Python's ssl module (Debian's python3): prints the
  // status, a tab, the WWW-Authenticate header and the body; "0" when the
  // connection failed.
  const std::string script =
      "import ssl, sys, urllib.request, urllib.error\n"
      "method, url, token, body, ca = sys.argv[1:6]\n"
      "req = urllib.request.Request(url, method=method, data=body.encode() if body else None)\n"
      "if token: req.add_header('Authorization', 'Bearer ' + token)\n"
      "ctx = ssl.create_default_context(cafile=ca)\n"
      "try:\n"
      "  r = urllib.request.urlopen(req, timeout=5, context=ctx)\n"
      "  print(r.status, '', r.read().decode(), sep='\\t')\n"
      "except urllib.error.HTTPError as e:\n"
      "  print(e.code, e.headers.get('WWW-Authenticate', ''), e.read().decode(), sep='\\t')\n"
      "except Exception as e:\n"
      "  print(0, '', type(e).__name__, sep='\\t')\n";
  auto https = [&](const std::string& method, const std::string& path, const std::string& token,
                   const std::string& body = "", const std::string& scheme = "https") {
    CommandResult r = RunCommand(
        {"/usr/bin/python3", "-c", script, method,
         scheme + "://127.0.0.1:" + std::to_string(http_port) + path, token, body,
         tls + "/ca.crt"});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return r.out;
  };
  auto status = [](const std::string& out) { return std::atoi(out.c_str()); };

  EXPECT_EQ(status(https("GET", "/livez", "")), 200);
  const std::string key = "/v1/buckets/carts/keys/k";
  const std::string anonymous = https("PUT", key, "", "milk");
  EXPECT_EQ(status(anonymous), 401) << anonymous;
  EXPECT_NE(anonymous.find("Bearer realm=\"ringkv\""), std::string::npos) << anonymous;
  EXPECT_NE(anonymous.find("\"error\":\"unauthenticated\""), std::string::npos) << anonymous;
  EXPECT_EQ(status(https("PUT", key, "rkv_" + std::string(64, '0'), "milk")), 401);
  const std::string put = https("PUT", key, writer, "milk");
  EXPECT_EQ(status(put) / 100, 2) << put;
  const std::string got = https("GET", key, writer);
  EXPECT_EQ(status(got), 200) << got;
  EXPECT_NE(got.find("\tmilk"), std::string::npos) << got;
  const std::string no_delete = https("DELETE", key, writer);
  EXPECT_EQ(status(no_delete), 403) << no_delete;
  EXPECT_NE(no_delete.find("token 'writer' lacks kv.delete on bucket 'carts'"), std::string::npos)
      << no_delete;
  EXPECT_EQ(status(https("GET", "/v1/buckets/other/keys/k", writer)), 403);
  EXPECT_EQ(status(https("GET", "/metrics", writer)), 403);
  EXPECT_EQ(status(https("GET", "/v1/ring", "")), 401);
  EXPECT_EQ(status(https("GET", "/metrics", ops)), 200);
  EXPECT_EQ(status(https("GET", "/readyz", "")), 200);
  // Refusals count with the binary protocol's: 3 unauthenticated, 3 forbidden.
  const std::string metrics = https("GET", "/metrics", ops);
  EXPECT_NE(metrics.find("ringkv_client_auth_refused_total{reason=\"unauthenticated\"} 3"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("ringkv_client_auth_refused_total{reason=\"forbidden\"} 3"),
            std::string::npos)
      << metrics;
  // Plain HTTP to the HTTPS port gets no answer.
  EXPECT_EQ(status(https("GET", "/livez", "", "", "http")), 0);
}

// Off loopback, HTTP without TLS is refused unless --insecure-dev says it
// is a development setup.
TEST(ClientTokenIntegrationTest, PlainHttpOffLoopbackIsRefused) {
  TempDir dir;
  std::ofstream(dir.path() + "/cluster.toml")
      << "partitions = 8\nn = 1\n[[member]]\nid = \"n1\"\naddress = \"127.0.0.1:"
      << FindFreePortBase(1) + 1 << "\"\n";
  CommandResult refused = RunCommand(
      {BinaryPath("node/ringkv-node"), "--cluster", dir.path() + "/cluster.toml", "--node", "n1",
       "--data", dir.path() + "/data", "--http", "0.0.0.0:" + std::to_string(FindFreePortBase(1) + 1)},
      std::chrono::seconds(10));
  EXPECT_EQ(refused.exit_code, 2) << refused.Describe();
  EXPECT_NE(refused.err.find("without TLS"), std::string::npos) << refused.Describe();
}

}  // namespace
}  // namespace ringkv::testing
