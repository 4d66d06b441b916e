// The load engine against a fake RESP server on 127.0.0.1: what it counts
// must equal what the server saw, in closed loop, open loop and load phase.
#include "tools/bench/runner.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tools/bench/redis_protocol.h"

namespace ringkv::bench {
namespace {

// Answers GET with a value of `value_size` bytes, SET with +OK, PING with
// +PONG; counts commands and remembers the keys SET. One thread, poll().
class FakeRedis {
 public:
  explicit FakeRedis(size_t value_size) : value_(value_size, 'x') {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(listen_fd_, 128), 0);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeRedis() {
    stop_ = true;
    thread_.join();
    for (auto& [fd, buf] : conns_) close(fd);
    close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  std::map<std::string, int> counts() {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }
  size_t distinct_keys_set() {
    std::lock_guard<std::mutex> lock(mu_);
    return keys_set_.size();
  }

 private:
  void Serve() {
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (auto& [fd, buf] : conns_) fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        const int fd = accept(listen_fd_, nullptr, nullptr);
        if (fd >= 0) conns_[fd];
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char chunk[65536];
        const ssize_t n = recv(fds[i].fd, chunk, sizeof(chunk), 0);
        if (n <= 0) {
          close(fds[i].fd);
          conns_.erase(fds[i].fd);
          continue;
        }
        std::string& buf = conns_[fds[i].fd];
        buf.append(chunk, static_cast<size_t>(n));
        std::string out;
        HandleCommands(&buf, &out);
        size_t sent = 0;
        while (sent < out.size()) {
          const ssize_t w = send(fds[i].fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
          if (w <= 0) break;
          sent += static_cast<size_t>(w);
        }
      }
    }
  }

  // Parses whole "*N\r\n($len\r\narg\r\n){N}" commands off the front of buf.
  void HandleCommands(std::string* buf, std::string* out) {
    size_t pos = 0;
    for (;;) {
      size_t p = pos;
      std::vector<std::string> args;
      if (p >= buf->size() || (*buf)[p] != '*') break;
      size_t eol = buf->find("\r\n", p);
      if (eol == std::string::npos) break;
      const int argc = std::stoi(buf->substr(p + 1, eol - p - 1));
      p = eol + 2;
      bool complete = true;
      for (int a = 0; a < argc; ++a) {
        eol = buf->find("\r\n", p);
        if (eol == std::string::npos) { complete = false; break; }
        const size_t len = std::stoul(buf->substr(p + 1, eol - p - 1));
        if (buf->size() < eol + 2 + len + 2) { complete = false; break; }
        args.push_back(buf->substr(eol + 2, len));
        p = eol + 2 + len + 2;
      }
      if (!complete) break;
      pos = p;
      std::lock_guard<std::mutex> lock(mu_);
      ++counts_[args[0]];
      if (args[0] == "GET") {
        *out += "$" + std::to_string(value_.size()) + "\r\n" + value_ + "\r\n";
      } else if (args[0] == "SET") {
        keys_set_.insert(args[1]);
        *out += "+OK\r\n";
      } else {
        *out += "+PONG\r\n";
      }
    }
    buf->erase(0, pos);
  }

  std::string value_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::map<int, std::string> conns_;  // owned by the server thread
  std::mutex mu_;
  std::map<std::string, int> counts_;  // guarded by mu_
  std::set<std::string> keys_set_;     // guarded by mu_
};

RunConfig BaseConfig(uint16_t port, ProtocolFactory* factory) {
  RunConfig config;
  config.endpoints = {Endpoint{"127.0.0.1", port}};
  config.protocols = factory;
  config.workload = *Workload::Named('a');
  config.records = 1000;
  config.value_size = 100;
  config.concurrency = 8;
  config.threads = 2;
  config.progress = false;
  return config;
}

// A fake server answering GETs with `value_size` bytes, and a config aimed
// at it.
struct FakeTarget {
  explicit FakeTarget(size_t value_size = 100) : server(value_size) {}
  FakeRedis server;
  std::unique_ptr<ProtocolFactory> factory = NewRedisProtocolFactory();
  RunConfig config = BaseConfig(server.port(), factory.get());
};

uint64_t Counted(const RunResult& r) {
  uint64_t n = 0;
  for (const Histogram& h : r.latency_ns) n += h.count();
  return n;
}

TEST(RunnerTest, ClosedLoopCountsExactlyTheRequestedOps) {
  FakeTarget target;
  target.config.ops = 2000;
  Result<RunResult> r = bench::Run(target.config);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ops, 2000u);
  EXPECT_EQ(Counted(*r), 2000u);
  EXPECT_EQ(r->error_count, 0u);
  auto counts = target.server.counts();
  EXPECT_EQ(counts["GET"] + counts["SET"], 2000);
  EXPECT_GT(r->latency_ns[static_cast<size_t>(OpType::kRead)].count(), 800u);
  EXPECT_GT(r->latency_ns[static_cast<size_t>(OpType::kUpdate)].count(), 800u);
  EXPECT_GT(r->seconds, 0);
}

TEST(RunnerTest, PipelinesWhenFewerConnectionsThanInFlight) {
  FakeTarget target;
  target.config.ops = 1000;
  target.config.concurrency = 16;
  target.config.connections = 2;
  Result<RunResult> r = bench::Run(target.config);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ops, 1000u);
  EXPECT_EQ(r->error_count, 0u);
}

TEST(RunnerTest, LoadPhaseInsertsEveryRecordOnce) {
  FakeTarget target;
  target.config.phase = RunConfig::Phase::kLoad;
  target.config.records = 500;
  Result<RunResult> r = bench::Run(target.config);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->latency_ns[static_cast<size_t>(OpType::kInsert)].count(), 500u);
  EXPECT_EQ(target.server.counts()["SET"], 500);
  EXPECT_EQ(target.server.distinct_keys_set(), 500u);
}

TEST(RunnerTest, OpenLoopIssuesOnScheduleForTheDuration) {
  FakeTarget target;
  target.config.rate = 2000;
  target.config.duration_s = 0.5;
  Result<RunResult> r = bench::Run(target.config);
  ASSERT_TRUE(r.ok());
  // Two threads at 1,000/s each, requests due in [0, 0.5 s): 500 each.
  EXPECT_EQ(r->ops, 1000u);
  EXPECT_EQ(r->error_count, 0u);
}

TEST(RunnerTest, ReportsServerCpuAndThroughputEachSecond) {
  // The fake server runs in this process, so its CPU is this process's.
  FakeTarget target;
  target.config.rate = 2000;
  target.config.duration_s = 2.5;
  target.config.server_pids = {static_cast<int>(::getpid())};
  Result<RunResult> r = bench::Run(target.config);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ops, 5000u);
  EXPECT_TRUE(r->server_cpu_known);
  EXPECT_GT(r->server_cpu_user_s + r->server_cpu_sys_s, 0);
  // One entry per whole second of the 2.5 s run.
  ASSERT_GE(r->per_second.size(), 1u);
  EXPECT_LE(r->per_second.size(), 3u);
  for (double rate : r->per_second) EXPECT_GT(rate, 0);
}

TEST(RunnerTest, ReadsOfTheWrongSizeAreErrors) {
  FakeTarget target(7);
  target.config.workload = *Workload::Named('c');
  target.config.ops = 100;
  Result<RunResult> r = bench::Run(target.config);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error_count, 100u);
  EXPECT_EQ(r->errors["wrong_value_size"], 100u);
}

TEST(RunnerTest, PingAndWarmupExcludedFromFigures) {
  FakeTarget target;
  target.config.phase = RunConfig::Phase::kPing;
  target.config.warmup_s = 0.2;
  target.config.ops = 300;
  Result<RunResult> r = bench::Run(target.config);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->latency_ns[static_cast<size_t>(OpType::kPing)].count(), 300u);
  EXPECT_GT(target.server.counts()["PING"], 300);  // warm-up pings were sent, not counted
}

TEST(RunnerTest, UnreachableTargetFailsAtStart) {
  // A port that was free a moment ago and has no listener.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  auto factory = NewRedisProtocolFactory();
  RunConfig config = BaseConfig(ntohs(addr.sin_port), factory.get());
  config.ops = 10;
  Result<RunResult> r = bench::Run(config);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace ringkv::bench
