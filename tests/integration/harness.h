// Harness for tests with real processes on 127.0.0.1: run a command with a
// timeout capturing its output, find free ports, and a local cluster in a
// temporary directory driven through ringkv-cluster, cleaned up by PID even
// when a test fails.
//
// Binaries are found under $RINGKV_BIN_DIR (the build root; set by
// tests/integration/meson.build): tools/ringkv, tools/ringkv-cluster,
// tools/ringkv-admin, node/ringkv-node.
//
// Thread-compatible: one thread uses a fixture at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ringkv::testing {

struct CommandResult {
  std::string command;
  int exit_code = -1;  // 128+signal when killed by a signal
  bool timed_out = false;
  std::string out, err;
  std::chrono::milliseconds elapsed{0};
  // For assertion messages: the command, exit code and both outputs.
  std::string Describe() const;
};

// Runs argv (argv[0] a path) with stdin closed, capturing stdout and stderr.
// A command still running at `timeout` is killed (SIGKILL) and reported as
// timed out.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Connects to `address`, writes `bytes`, and waits (at most 5 s) for the
// node to close the connection or stay silent; for hostile-input tests.
void SendRaw(const std::string& address, const std::string& bytes);

// Path of a built binary: $RINGKV_BIN_DIR/<relative>.
std::string BinaryPath(const std::string& relative);

// A base port P such that every node i in 1..nodes can bind its local
// cluster address (LocalNodeAddress(P, i, distinct_hosts)) and its HTTP
// address (LocalHttpAddress) right now, below
// the kernel's ephemeral range so that no outgoing connection takes a
// node's port while it is down (ringkv-cluster refuses the range anyway).
Result<uint32_t> PickBasePort(int nodes, bool distinct_hosts);

// PickBasePort on 127.0.0.1 alone: P+1 .. P+count are free; throws when no
// such range is found.
uint16_t FindFreePortBase(int count);

// A temporary directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A cluster of ringkv-node processes in a fresh temporary directory on a free
// base port. The destructor stops it and then SIGKILLs every node PID it
// ever saw that still runs, so a failing test leaves nothing behind.
class LocalClusterFixture {
 public:
  explicit LocalClusterFixture(int nodes);
  ~LocalClusterFixture();
  LocalClusterFixture(const LocalClusterFixture&) = delete;
  LocalClusterFixture& operator=(const LocalClusterFixture&) = delete;

  // `ringkv-cluster start --nodes N --dir D --base-port P` plus `extra`.
  CommandResult Start(const std::vector<std::string>& extra = {});
  // `ringkv-cluster <args...> --dir D`.
  CommandResult Cluster(const std::vector<std::string>& args);
  // `ringkv --node <address of node i> <args...>` (i is 1-based).
  CommandResult Cli(int node, const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // `ringkv-admin --node <address of node i> <args...>`.
  CommandResult Admin(int node, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  std::string Address(int node) const;
  // Where node i serves HTTP: its port + kHttpPortOffset (tools/local_cluster.h).
  std::string HttpAddress(int node) const;
  uint16_t base_port() const { return base_port_; }
  const std::string& dir() const { return dir_; }
  int nodes() const { return nodes_; }
  // The last lines of every node's log, for failure messages.
  std::string LogTails() const;

 private:
  void RememberPids();

  TempDir temp_;
  std::string dir_;
  int nodes_;
  uint16_t base_port_;
  std::vector<pid_t> pids_;
};

}  // namespace ringkv::testing
