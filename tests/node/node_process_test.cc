// A real ringkv-node process (one-member cluster on a free 127.0.0.1 port)
// fed hostile input: an oversized frame and a garbage frame on separate
// connections are cut off and logged, and a valid ping still gets its pong.
// SIGTERM then ends it with exit code 0. Without a usable cluster secret a
// node of a larger cluster refuses to start. The binary comes from $RINGKV_NODE.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "proto/codec.h"
#include "proto/frame.h"

namespace ringkv {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until a whole frame arrives, EOF, or the deadline. Returns the
// decoded message, or nullopt; *eof tells whether the peer closed.
std::optional<Message> ReadMessage(int fd, int timeout_ms, bool* eof) {
  *eof = false;
  std::string in;
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    FrameParse p = ParseFrame(in);
    if (p.state == FrameParse::State::kFrame) {
      Result<Message> m = DecodeMessage(p.body);
      if (m.ok()) return std::move(m).value();
      return std::nullopt;
    }
    pollfd pfd{fd, POLLIN, 0};
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
    if (poll(&pfd, 1, std::max(left, 1)) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *eof = true;
      return std::nullopt;
    }
    in.append(buf, static_cast<size_t>(n));
  }
  return std::nullopt;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Polls (bounded) for `pid` to exit; its exit code, 128+signal when killed,
// or -1 when it still runs after 10 s.
int WaitExit(pid_t pid) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (Clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    poll(nullptr, 0, 20);
  }
  return -1;
}

class NodeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("RINGKV_NODE");
    if (bin == nullptr) GTEST_SKIP() << "RINGKV_NODE is not set (run through meson test)";
    dir_ = fs::temp_directory_path() / ("ringkv-node-test-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    port_ = FreePort();
    std::ofstream(dir_ / "cluster.toml")
        << "partitions = 8\nn = 1\n[[member]]\nid = \"n1\"\naddress = \"127.0.0.1:" << port_
        << "\"\n";
    log_ = dir_ / "node.log";
    // As ringkv-cluster does: a secret only the owner may read.
    secret_ = dir_ / "cluster-secret";
    std::ofstream(secret_) << std::string(64, 'a') << "\n";
    fs::permissions(secret_, fs::perms::owner_read | fs::perms::owner_write);
    Start(bin);
  }

  // Starts ringkv-node on dir_ (keeping its data) and waits until it serves.
  void Start(const char* bin) {
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // No --cluster-secret-file: the node finds cluster-secret beside the
      // cluster file, as one started by an older ringkv-cluster does.
      std::string cluster = (dir_ / "cluster.toml").string(), data = (dir_ / "data").string(),
                  log = log_.string();
      execl(bin, bin, "--cluster", cluster.c_str(), "--node", "n1", "--data", data.c_str(),
            "--log-file", log.c_str(), "--max-frame-bytes", "1048576", nullptr);
      _exit(127);
    }
    // Serving once a connection is accepted; fail fast if it died.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      int status;
      ASSERT_EQ(waitpid(pid_, &status, WNOHANG), 0) << "ringkv-node exited early:\n"
                                                    << ReadFile(log_);
      int fd = Connect(port_);
      if (fd >= 0) {
        close(fd);
        return;
      }
      poll(nullptr, 0, 20);
    }
    FAIL() << "ringkv-node did not start listening on " << port_;
  }

  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Sends SIGTERM and waits (bounded) for the exit status.
  int Terminate() {
    kill(pid_, SIGTERM);
    const int code = WaitExit(pid_);
    if (code >= 0) pid_ = -1;
    return code;
  }

  fs::path dir_, log_, secret_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(NodeProcessTest, BadFramesCloseTheirConnectionAndPingStillWorks) {
  // Connection 1: announces a 1 GiB frame and sends nothing more.
  int oversized = Connect(port_);
  ASSERT_GE(oversized, 0);
  ASSERT_TRUE(SendAll(oversized, std::string("\x00\x00\x00\x40" "xxxxxxxx", 12)));
  // Connection 2: an HTTP request instead of a frame.
  int garbage = Connect(port_);
  ASSERT_GE(garbage, 0);
  ASSERT_TRUE(SendAll(garbage, "GET / HTTP/1.1\r\nHost: ringkv\r\n\r\n"));
  // Connection 3: a frame with a valid checksum and a body that is not a message.
  int undecodable = Connect(port_);
  ASSERT_GE(undecodable, 0);
  std::string frame;
  AppendFrame(std::string(24, '\x55'), &frame);
  ASSERT_TRUE(SendAll(undecodable, frame));

  for (int fd : {oversized, garbage, undecodable}) {
    bool eof = false;
    EXPECT_FALSE(ReadMessage(fd, 5000, &eof).has_value());
    EXPECT_TRUE(eof) << "the node did not close a bad connection";
    close(fd);
  }

  int good = Connect(port_);
  ASSERT_GE(good, 0);
  Message ping;
  ping.request_id = 4242;
  ping.body = Ping{};
  std::string ping_frame;
  AppendFrame(EncodeMessage(ping), &ping_frame);
  ASSERT_TRUE(SendAll(good, ping_frame));
  bool eof = false;
  std::optional<Message> pong = ReadMessage(good, 5000, &eof);
  ASSERT_TRUE(pong.has_value()) << ReadFile(log_);
  EXPECT_EQ(pong->request_id, 4242u);
  EXPECT_EQ(std::get<Pong>(pong->body).node, "n1");
  close(good);

  EXPECT_EQ(Terminate(), 0);
  std::string log = ReadFile(log_);
  EXPECT_NE(log.find("serving on 127.0.0.1:" + std::to_string(port_)), std::string::npos) << log;
  EXPECT_NE(log.find("exceeds the cap of 1048576"), std::string::npos) << log;
  EXPECT_NE(log.find("undecodable message"), std::string::npos) << log;
  EXPECT_NE(log.find("closing connection from 127.0.0.1:"), std::string::npos) << log;
}

TEST_F(NodeProcessTest, RestartKeepsTheIncarnation) {
  // A second start on the same data directory reports the same incarnation
  // (only a new directory gets a new one).
  EXPECT_EQ(Terminate(), 0);
  std::string first = ReadFile(log_);
  auto at = first.find("incarnation ");
  ASSERT_NE(at, std::string::npos) << first;
  std::string incarnation = first.substr(at, 12 + 16);
  Start(std::getenv("RINGKV_NODE"));
  if (HasFatalFailure()) return;
  EXPECT_EQ(Terminate(), 0);
  std::string both = ReadFile(log_);
  EXPECT_NE(both.find(incarnation, at + 1), std::string::npos) << both;
}

// Runs ringkv-node with `extra` flags (on a copy of the fixture's cluster
// file, its own data directory) and returns its exit code, stderr in `*err`.
int RunToExit(const fs::path& dir, const std::vector<std::string>& extra, std::string* err) {
  const char* bin = std::getenv("RINGKV_NODE");
  const fs::path err_path = dir / "refused.err";
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<std::string> args = {bin, "--cluster", (dir / "cluster.toml").string(),
                                      "--node", "n1", "--data", (dir / "refused-data").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    FILE* f = freopen(err_path.c_str(), "w", stderr);
    (void)f;
    execv(bin, argv.data());
    _exit(127);
  }
  const int code = WaitExit(pid);
  if (code < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  *err = ReadFile(err_path);
  return code;
}

// Peers authenticate always: a node with no secret, or one others can
// read, refuses to start (exit 2, docs/cli.md) unless told it is insecure.
TEST_F(NodeProcessTest, WithoutAUsableSecretTheNodeRefusesToStart) {
  // A cluster with a second member, and no secret beside its file.
  const fs::path two = dir_ / "two";
  fs::create_directories(two);
  std::ofstream(two / "cluster.toml")
      << "partitions = 8\nn = 1\n[[member]]\nid = \"n1\"\naddress = \"127.0.0.1:" << port_
      << "\"\n[[member]]\nid = \"n2\"\naddress = \"127.0.0.1:" << FreePort() << "\"\n";
  std::string err;
  EXPECT_EQ(RunToExit(two, {}, &err), 2);
  EXPECT_NE(err.find("no cluster secret"), std::string::npos) << err;
  const fs::path open_secret = two / "cluster-secret";
  std::ofstream(open_secret) << std::string(64, 'b') << "\n";
  fs::permissions(open_secret, fs::perms::owner_read | fs::perms::owner_write |
                                   fs::perms::group_read | fs::perms::others_read);
  EXPECT_EQ(RunToExit(two, {}, &err), 2) << "the secret beside the cluster file is the one used";
  EXPECT_NE(err.find("group and others must have no access"), std::string::npos) << err;
  EXPECT_EQ(RunToExit(two, {"--cluster-secret-file", open_secret.string()}, &err), 2);
  EXPECT_NE(err.find("group and others must have no access"), std::string::npos) << err;
  EXPECT_EQ(RunToExit(two, {"--cluster-secret-file", secret_.string(), "--insecure-no-peer-auth"},
                      &err),
            2);
  EXPECT_FALSE(fs::exists(two / "refused-data"));
}

// Off loopback, plain TCP is refused unless the operator says it is a
// development setup (docs/security.md).
TEST_F(NodeProcessTest, ANonLoopbackListenerWithoutTlsRefusesToStart) {
  const std::string wildcard = "0.0.0.0:" + std::to_string(FreePort());
  std::string err;
  EXPECT_EQ(RunToExit(dir_, {"--listen", wildcard}, &err), 2);
  EXPECT_NE(err.find("refusing to listen on " + wildcard + " without TLS"), std::string::npos)
      << err;
  EXPECT_NE(err.find("--insecure-dev"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "refused-data"));
  // With the flag it starts and serves.
  const fs::path two = dir_ / "dev";
  fs::create_directories(two);
  fs::copy_file(dir_ / "cluster.toml", two / "cluster.toml");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const char* bin = std::getenv("RINGKV_NODE");
    std::string cluster = (two / "cluster.toml").string(), data = (two / "data").string();
    execl(bin, bin, "--cluster", cluster.c_str(), "--node", "n1", "--data", data.c_str(),
          "--listen", wildcard.c_str(), "--insecure-dev", nullptr);
    _exit(127);
  }
  const uint16_t port = static_cast<uint16_t>(std::stoi(wildcard.substr(8)));
  bool served = false;
  for (auto deadline = Clock::now() + std::chrono::seconds(10);
       !served && Clock::now() < deadline; poll(nullptr, 0, 20)) {
    int fd = Connect(port);
    served = fd >= 0;
    if (served) close(fd);
  }
  kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
  EXPECT_TRUE(served) << "ringkv-node --insecure-dev did not listen on " << wildcard;
}

TEST_F(NodeProcessTest, StorageFlagsOutOfRangeAreUsageErrors) {
  const std::vector<std::vector<std::string>> bad = {
      {"--compression", "zstd"},      {"--compression", ""},
      {"--write-buffer-mb", "0"},     {"--write-buffer-mb", "1025"},
      {"--write-buffer-mb", "-1"},    {"--write-buffer-mb", "99999999999999999999"}};
  for (const std::vector<std::string>& args : bad) {
    std::string err;
    EXPECT_EQ(RunToExit(dir_, args, &err), 2) << args[0] << " " << args[1] << ": " << err;
    EXPECT_NE(err.find(args[0]), std::string::npos) << err;
    EXPECT_FALSE(fs::exists(dir_ / "refused-data")) << args[0] << " " << args[1];
  }
}

TEST_F(NodeProcessTest, ANodeWithNoOtherMemberStartsWithoutASecret) {
  ASSERT_EQ(Terminate(), 0);
  fs::remove(secret_);
  Start(std::getenv("RINGKV_NODE"));
  int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  close(fd);
}

// Everything a node takes as a flag it takes from one TOML file too (as a
// container's config map gives it), and writes JSON lines a collector reads.
TEST_F(NodeProcessTest, AConfigFileStartsTheNodeAndJsonLogsParseLineByLine) {
  ASSERT_EQ(Terminate(), 0);
  const fs::path json_log = dir_ / "node.json.log";
  std::ofstream(dir_ / "node.toml") << "cluster = \"" << (dir_ / "cluster.toml").string()
                                    << "\"\nnode = \"n1\"\ndata = \"" << (dir_ / "data").string()
                                    << "\"\nlog-format = \"json\"\nlog-file = \""
                                    << json_log.string() << "\"\nmax-frame-bytes = 1048576\n";
  pid_ = fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    const char* bin = std::getenv("RINGKV_NODE");
    std::string config = (dir_ / "node.toml").string();
    execl(bin, bin, "--config", config.c_str(), nullptr);
    _exit(127);
  }
  int fd = -1;
  for (auto deadline = Clock::now() + std::chrono::seconds(10);
       fd < 0 && Clock::now() < deadline; poll(nullptr, 0, 20)) {
    fd = Connect(port_);
  }
  ASSERT_GE(fd, 0) << "ringkv-node --config did not listen:\n" << ReadFile(json_log);
  // The frame cap came from the file: 2 MiB is refused.
  ASSERT_TRUE(SendAll(fd, std::string("\x00\x00\x20\x00" "xxxxxxxx", 12)));
  bool eof = false;
  EXPECT_FALSE(ReadMessage(fd, 5000, &eof).has_value());
  EXPECT_TRUE(eof);
  close(fd);
  ASSERT_EQ(Terminate(), 0);

  std::istringstream lines(ReadFile(json_log));
  std::vector<std::string> messages;
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(record.is_discarded()) << "not one JSON record: " << line;
    ASSERT_TRUE(record.contains("time") && record.contains("level")) << line;
    messages.push_back(record["msg"]);
  }
  auto logged = [&](const std::string& part) {
    for (const std::string& m : messages) {
      if (m.find(part) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(logged("serving on 127.0.0.1:" + std::to_string(port_)));
  EXPECT_TRUE(logged("exceeds the cap of 1048576"));
  EXPECT_TRUE(logged("stopped"));

  // A key the node does not know is refused, naming it.
  std::ofstream(dir_ / "bad.toml") << "log-format = \"json\"\nno-such-option = 1\n";
  std::string err;
  EXPECT_EQ(RunToExit(dir_, {"--config", (dir_ / "bad.toml").string()}, &err), 2);
  EXPECT_NE(err.find("no-such-option"), std::string::npos) << err;
}

}  // namespace
}  // namespace ringkv
