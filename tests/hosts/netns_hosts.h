// Hosts that are really separate network stacks, on one machine: each host
// is a network namespace with its own address on a private bridge, which
// lives in a namespace of its own (the machine's own namespace is never
// touched). Every host resolves every other by name through
// /etc/netns/<namespace>/hosts, which `ip netns exec` puts in place of
// /etc/hosts, as a cluster's DNS would. A host's link can be cut and
// restored. Needs root (CAP_NET_ADMIN); Available() says why not.
//
// The destructor kills every process it started (by PID) and removes the
// namespaces and their files, so a failing test leaves nothing behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/integration/harness.h"

namespace ringkv::testing {

class NetnsHosts {
 public:
  // OK when this process can create network namespaces.
  static Status Available();

  NetnsHosts();
  ~NetnsHosts();
  NetnsHosts(const NetnsHosts&) = delete;
  NetnsHosts& operator=(const NetnsHosts&) = delete;

  // Adds a host called `name` (what the others resolve) with the next
  // address of 10.77.0.0/24; returns its index.
  Result<int> AddHost(const std::string& name);
  const std::string& Address(int host) const { return hosts_[host].address; }
  const std::string& Name(int host) const { return hosts_[host].name; }

  // Starts argv on `host`, stdout and stderr appended to `log`; returns
  // its PID (the program replaces `ip netns exec`, keeping the PID).
  Result<pid_t> Spawn(int host, const std::vector<std::string>& argv, const std::string& log);
  // Runs argv on `host` to completion (RunCommand's contract).
  CommandResult Run(int host, const std::vector<std::string>& argv,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Takes the host's link to the bridge down or up: a cut host reaches no
  // one and no one reaches it; its processes keep running.
  Status SetLink(int host, bool up);

 private:
  struct Host {
    std::string name, ns, address, switch_side;
  };
  Status WriteHostsFiles() const;

  std::string prefix_;
  std::string switch_ns_;
  std::vector<Host> hosts_;
  std::vector<pid_t> pids_;
};

}  // namespace ringkv::testing
