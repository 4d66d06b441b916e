#include "tests/chaos/netfilter.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "tools/process.h"

namespace ringkv::chaos {
namespace {

constexpr const char* kChainPrefix = "RINGKV-CHAOS-";

// Runs `argv` (argv[0] found on PATH) with stdin closed, collecting stdout
// and stderr together; its exit status, or -1 when it could not run.
int RunCapture(const std::vector<std::string>& argv, std::string* output) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    *output = std::string("pipe: ") + std::strerror(errno);
    return -1;
  }
  std::vector<char*> cargv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    *output = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    ::execvp(cargv[0], cargv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", cargv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  output->clear();
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof(buf));
    if (n > 0) {
      output->append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Removes the jumps to `chain` from OUTPUT (one per run that hooked it),
// then the chain; each step may find nothing to remove.
void RemoveChain(const std::string& chain) {
  std::string ignored;
  for (int jumps = 0; jumps < 16; ++jumps) {
    if (RunCapture({"iptables", "-w", "-D", "OUTPUT", "-j", chain}, &ignored) != 0) break;
  }
  RunCapture({"iptables", "-w", "-F", chain}, &ignored);
  RunCapture({"iptables", "-w", "-X", chain}, &ignored);
}

// Chains of earlier runs whose process is gone (a run killed by SIGKILL
// cannot clean up after itself).
void RemoveOrphanChains() {
  std::string rules;
  if (RunCapture({"iptables", "-w", "-S"}, &rules) != 0) return;
  std::istringstream lines(rules);
  std::string line;
  const std::string declare = std::string("-N ") + kChainPrefix;
  while (std::getline(lines, line)) {
    if (line.rfind(declare, 0) != 0) continue;
    const std::string chain = line.substr(3);
    const pid_t owner = static_cast<pid_t>(std::atol(chain.c_str() + std::strlen(kChainPrefix)));
    if (owner > 0 && GetProcessState(owner) == ProcessState::kGone) RemoveChain(chain);
  }
}

}  // namespace

Status RunIptables(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"iptables", "-w"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string output;
  const int rc = RunCapture(argv, &output);
  if (rc == 0) return Status::OK();
  std::string command;
  for (const std::string& a : argv) command += (command.empty() ? "" : " ") + a;
  return Status::Unavailable(command + " failed" +
                             (rc == 127 ? " (is the iptables package installed?)" : "") + ": " +
                             Trim(output));
}

Result<std::unique_ptr<Netfilter>> Netfilter::Open() {
  if (::geteuid() != 0) {
    return Status::Unavailable("partitions need root (iptables rules); running as uid " +
                               std::to_string(::geteuid()));
  }
  RemoveOrphanChains();
  const std::string chain = kChainPrefix + std::to_string(::getpid());
  RemoveChain(chain);
  if (Status st = RunIptables({"-N", chain}); !st.ok()) {
    return Status::Unavailable("cannot create an iptables chain: " + st.message());
  }
  std::unique_ptr<Netfilter> netfilter(new Netfilter(chain));
  if (Status st = RunIptables({"-I", "OUTPUT", "-j", chain}); !st.ok()) {
    return Status::Unavailable("cannot hook an iptables chain into OUTPUT: " + st.message());
  }
  return netfilter;
}

Netfilter::~Netfilter() { RemoveChain(chain_); }

Status Netfilter::Cut(const Endpoint& a, const Endpoint& b) {
  // a's connection to b carries a -> b:port_b and b:port_b -> a; b's to a
  // carries b -> a:port_a and a:port_a -> b.
  const std::string pa = std::to_string(a.port), pb = std::to_string(b.port);
  const std::vector<std::vector<std::string>> rules = {{"-s", a.host, "-d", b.host, "--dport", pb},
                                                       {"-s", b.host, "-d", a.host, "--sport", pb},
                                                       {"-s", b.host, "-d", a.host, "--dport", pa},
                                                       {"-s", a.host, "-d", b.host, "--sport", pa}};
  for (const auto& match : rules) {
    std::vector<std::string> args = {"-A", chain_, "-p", "tcp"};
    args.insert(args.end(), match.begin(), match.end());
    args.insert(args.end(), {"-j", "DROP"});
    RINGKV_RETURN_IF_ERROR(RunIptables(args));
  }
  return Status::OK();
}

Status Netfilter::HealAll() { return RunIptables({"-F", chain_}); }

}  // namespace ringkv::chaos
