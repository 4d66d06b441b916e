// Netfilter: network partitions between local nodes, as iptables rules.
//
// Each node of a --distinct-hosts cluster has its own loopback address and
// its peer connections leave from it (docs/chaos.md), so the traffic between
// two nodes is exactly the TCP traffic between their two addresses to or
// from their two ports. Cut(a, b) drops that (both directions, both
// connections) and nothing else: the harness's own connections from
// 127.0.0.1 and any other cluster on the machine are untouched.
//
// Rules live in a chain of this process's own (RINGKV-CHAOS-<pid>) jumped
// to from OUTPUT (loopback traffic passes OUTPUT once). HealAll flushes the
// chain; the destructor removes it and its jump, so rules never outlive the
// run, also when it fails. Open also removes chains left by runs whose
// process is gone (killed with SIGKILL).
//
// Needs root (CAP_NET_ADMIN) and iptables (Debian package iptables). Open
// says why when it cannot work, and the harness then skips partitions.
// Thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace ringkv::chaos {

struct Endpoint {
  std::string host;  // numeric IPv4
  int port = 0;
};

class Netfilter {
 public:
  // Unavailable, saying why, when partitions cannot be made here.
  static Result<std::unique_ptr<Netfilter>> Open();
  ~Netfilter();
  Netfilter(const Netfilter&) = delete;
  Netfilter& operator=(const Netfilter&) = delete;

  // Drops every packet between the two nodes' endpoints.
  Status Cut(const Endpoint& a, const Endpoint& b);
  // Removes every rule of this run.
  Status HealAll();
  const std::string& chain() const { return chain_; }

 private:
  explicit Netfilter(std::string chain) : chain_(std::move(chain)) {}
  std::string chain_;
};

// Runs iptables (with -w, waiting for the xtables lock) with `args`;
// the command's stderr on failure.
Status RunIptables(const std::vector<std::string>& args);

}  // namespace ringkv::chaos
