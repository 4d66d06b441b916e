#include "tests/chaos/netfilter.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <sstream>

#include "tests/integration/harness.h"
#include "tools/process.h"

namespace ringkv::chaos {
namespace {

constexpr const char* kChainPrefix = "RINGKV-CHAOS-";

// Runs iptables -w with `args`; env finds iptables on PATH (and exits 127
// when there is none). A run stuck on the xtables lock is killed, not waited
// for forever.
testing::CommandResult Iptables(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/env", "iptables", "-w"};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunCommand(argv, std::chrono::seconds(60));
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Removes the jumps to `chain` from OUTPUT (one per run that hooked it),
// then the chain; each step may find nothing to remove.
void RemoveChain(const std::string& chain) {
  for (int jumps = 0; jumps < 16; ++jumps) {
    if (Iptables({"-D", "OUTPUT", "-j", chain}).exit_code != 0) break;
  }
  Iptables({"-F", chain});
  Iptables({"-X", chain});
}

// Chains of earlier runs whose process is gone (a run killed by SIGKILL
// cannot clean up after itself).
void RemoveOrphanChains() {
  const testing::CommandResult rules = Iptables({"-S"});
  if (rules.exit_code != 0) return;
  std::istringstream lines(rules.out);
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
  const testing::CommandResult r = Iptables(args);
  if (r.exit_code == 0 && !r.timed_out) return Status::OK();
  return Status::Unavailable(r.command + (r.timed_out ? " timed out" : " failed") +
                             (r.exit_code == 127 ? " (is the iptables package installed?)" : "") +
                             ": " + Trim(r.out + r.err));
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
