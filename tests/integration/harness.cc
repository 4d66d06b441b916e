#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "common/host_port.h"
#include "tools/local_cluster.h"
#include "tools/process.h"

namespace ringkv::testing {
namespace fs = std::filesystem;

std::string CommandResult::Describe() const {
  std::ostringstream s;
  s << "command: " << command << "\nexit: " << exit_code << (timed_out ? " (timed out)" : "")
    << " after " << elapsed.count() << " ms\nstdout: " << out << "\nstderr: " << err;
  return s.str();
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  CommandResult result;
  for (const std::string& a : argv) result.command += (result.command.empty() ? "" : " ") + a;
  const auto start = std::chrono::steady_clock::now();
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execv(cargv[0], cargv.data());
    std::fprintf(stderr, "exec %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  const auto deadline = start + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    const int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[4096];
      const ssize_t got = ::read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return result;
}

std::string BinaryPath(const std::string& relative) {
  const char* dir = std::getenv("RINGKV_BIN_DIR");
  if (dir == nullptr || *dir == '\0') {
    throw std::runtime_error("RINGKV_BIN_DIR is not set (run through meson or run_tests.py)");
  }
  return std::string(dir) + "/" + relative;
}

void SendRaw(const std::string& address, const std::string& bytes) {
  Result<HostPort> target = ParseHostPort(address);
  if (!target.ok()) throw std::runtime_error("SendRaw: " + target.status().ToString());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(target->port);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    (void)!::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    // Read until the node closes the connection (or a bounded wait passes).
    pollfd pfd{fd, POLLIN, 0};
    char buf[256];
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline && ::poll(&pfd, 1, 500) >= 0) {
      if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0) break;  // silent: done
      if (::recv(fd, buf, sizeof(buf), 0) <= 0) break;
    }
  }
  ::close(fd);
}

namespace {

// Whether host:port can be bound right now.
bool PortFree(const std::string& host, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1 &&
                  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// First port of the kernel's ephemeral range (32768 when unknown).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  return in >> low && low > 0 ? low : 32768;
}

}  // namespace

Result<uint32_t> PickBasePort(int nodes, bool distinct_hosts) {
  // HTTP ports (node port + kHttpPortOffset) stay below the range too.
  const int high = EphemeralLow() - static_cast<int>(kHttpPortOffset) - nodes - 1;
  if (high <= 20000) return Status::Unavailable("the ephemeral port range leaves no room below it");
  std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  std::uniform_int_distribution<int> pick(20000, high);
  for (int attempt = 0; attempt < 500; ++attempt) {
    const uint32_t base = static_cast<uint32_t>(pick(rng));
    bool free = true;
    for (int i = 1; i <= nodes && free; ++i) {
      const std::string node = LocalNodeAddress(base, i, distinct_hosts);
      Result<HostPort> address = ParseHostPort(node);
      Result<HostPort> http = ParseHostPort(LocalHttpAddress(node));
      free = address.ok() && PortFree(address->host, address->port) && http.ok() &&
             PortFree(http->host, http->port);
    }
    if (free) return base;
  }
  return Status::Unavailable("no free range of ports found below the ephemeral range");
}

uint16_t FindFreePortBase(int count) {
  Result<uint32_t> base = PickBasePort(count, /*distinct_hosts=*/false);
  if (!base.ok()) throw std::runtime_error(base.status().ToString());
  return static_cast<uint16_t>(*base);
}

TempDir::TempDir() {
  std::string templ = (fs::temp_directory_path() / "ringkv-it-XXXXXX").string();
  if (::mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

LocalClusterFixture::LocalClusterFixture(int nodes)
    : dir_(temp_.path() + "/cluster"), nodes_(nodes), base_port_(FindFreePortBase(nodes)) {}

LocalClusterFixture::~LocalClusterFixture() {
  RememberPids();
  RunCommand({BinaryPath("tools/ringkv-cluster"), "stop", "--dir", dir_, "--grace-ms", "3000"},
             std::chrono::seconds(30));
  for (pid_t pid : pids_) {
    // Only a process that still names this cluster's directory is ours.
    const std::vector<std::string> args = GetProcessArgs(pid);
    bool ours = false;
    for (const std::string& a : args) ours = ours || a.find(dir_) != std::string::npos;
    if (ours) {
      ::kill(pid, SIGKILL);
      WaitGone(pid, std::chrono::seconds(5));
    }
  }
}

void LocalClusterFixture::RememberPids() {
  for (int i = 1; i <= nodes_; ++i) {
    std::ifstream in(dir_ + "/n" + std::to_string(i) + "/pid");
    long pid = 0;
    if (in >> pid && pid > 0 &&
        std::find(pids_.begin(), pids_.end(), static_cast<pid_t>(pid)) == pids_.end()) {
      pids_.push_back(static_cast<pid_t>(pid));
    }
  }
}

CommandResult LocalClusterFixture::Start(const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {BinaryPath("tools/ringkv-cluster"),
                                   "start",
                                   "--nodes",
                                   std::to_string(nodes_),
                                   "--dir",
                                   dir_,
                                   "--base-port",
                                   std::to_string(base_port_),
                                   "--node-binary",
                                   BinaryPath("node/ringkv-node")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  CommandResult result = RunCommand(argv, std::chrono::seconds(60));
  RememberPids();
  return result;
}

CommandResult LocalClusterFixture::Cluster(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {BinaryPath("tools/ringkv-cluster")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--dir");
  argv.push_back(dir_);
  CommandResult result = RunCommand(argv, std::chrono::seconds(60));
  RememberPids();
  return result;
}

CommandResult LocalClusterFixture::Cli(int node, const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {BinaryPath("tools/ringkv"), "--node", Address(node)};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

CommandResult LocalClusterFixture::Admin(int node, const std::vector<std::string>& args,
                                         std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {BinaryPath("tools/ringkv-admin"), "--node", Address(node)};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, timeout);
}

std::string LocalClusterFixture::Address(int node) const {
  return "127.0.0.1:" + std::to_string(base_port_ + node);
}

std::string LocalClusterFixture::HttpAddress(int node) const {
  return "127.0.0.1:" + std::to_string(base_port_ + node + kHttpPortOffset);
}

std::string LocalClusterFixture::LogTails() const {
  std::string out;
  for (int i = 1; i <= nodes_; ++i) {
    const std::string path = dir_ + "/n" + std::to_string(i) + "/node.log";
    std::ifstream in(path);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    out += "--- " + path + "\n";
    const size_t from = lines.size() > 15 ? lines.size() - 15 : 0;
    for (size_t j = from; j < lines.size(); ++j) out += lines[j] + "\n";
  }
  return out;
}

}  // namespace ringkv::testing
