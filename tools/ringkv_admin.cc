// ringkv-admin: operator commands against one node. `status` prints that
// node's view: its id and incarnation, each peer up or down with phi (the
// gossip failure detector), its pending hints per target and how many it has
// delivered. Command-line contract: docs/cli.md.
//
// Exit status, as for `ringkv`: 0 success, 2 usage or bad input,
// 3 unavailable (node unreachable or no answer by the deadline), 4 any other
// error; on failure one line on stderr says why.
#include <CLI/CLI.hpp>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "client/client.h"
#include "common/host_port.h"
#include "tools/exit_codes.h"

namespace ringkv {
namespace {

int Fail(const Status& status) {
  std::cerr << "ringkv-admin: " << status.ToString() << "\n";
  // Exit 1 means a missing key, which ringkv-admin never reads.
  return status.IsNotFound() ? kExitOther : ExitCodeFor(status);
}

struct Flags {
  std::string node = "127.0.0.1:7101";
  uint32_t timeout_ms = 5000;
  bool json = false;
};

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

uint64_t PendingHints(const NodeStatus& s) {
  uint64_t total = 0;
  for (const HintCount& h : s.hints) total += h.count;
  return total;
}

void PrintJson(const NodeStatus& s) {
  nlohmann::json peers = nlohmann::json::array();
  for (const PeerState& p : s.peers) {
    // phi is infinite for a peer never heard from; JSON has no infinity.
    peers.push_back({{"node", p.node},
                     {"up", p.up},
                     {"phi", std::isfinite(p.phi) ? nlohmann::json(p.phi) : nlohmann::json()}});
  }
  nlohmann::json hints = nlohmann::json::array();
  for (const HintCount& h : s.hints) hints.push_back({{"target", h.target}, {"count", h.count}});
  nlohmann::json out = {{"node", s.node},
                        {"incarnation", Hex(s.incarnation)},
                        {"ring_epoch", s.ring_epoch},
                        {"peers", peers},
                        {"hints", hints},
                        {"hints_pending", PendingHints(s)},
                        {"hints_delivered", s.hints_delivered},
                        {"hint_write_failures", s.hint_write_failures}};
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void PrintText(const NodeStatus& s) {
  std::printf("node %s  incarnation %s  ring epoch %" PRIu64 "\n", s.node.c_str(),
              Hex(s.incarnation).c_str(), s.ring_epoch);
  std::printf("peers (%zu):\n", s.peers.size());
  for (const PeerState& p : s.peers) {
    std::printf("  %-8s %-4s phi %.2f\n", p.node.c_str(), p.up ? "up" : "down", p.phi);
  }
  std::printf("hints pending: %" PRIu64 "\n", PendingHints(s));
  for (const HintCount& h : s.hints) {
    std::printf("  for %-8s %" PRIu64 "\n", h.target.c_str(), h.count);
  }
  std::printf("hints delivered: %" PRIu64 "\n", s.hints_delivered);
  std::printf("hint write failures: %" PRIu64 "\n", s.hint_write_failures);
}

int DoStatus(const Flags& flags) {
  Result<HostPort> address = ParseHostPort(flags.node);
  if (!address.ok()) return Fail(Status::InvalidArgument("--node: " + address.status().message()));
  if (flags.timeout_ms == 0) return Fail(Status::InvalidArgument("--timeout must be positive"));
  ClientOptions options;
  options.nodes = {flags.node};
  options.timeout_ms = flags.timeout_ms;
  Result<std::unique_ptr<Client>> client = Client::Connect(options);
  if (!client.ok()) return Fail(client.status());
  Result<NodeStatus> status = (*client)->StatusOf(flags.node);
  if (!status.ok()) return Fail(status.status());
  if (flags.json) {
    PrintJson(*status);
  } else {
    PrintText(*status);
  }
  return kExitOk;
}

}  // namespace
}  // namespace ringkv

int main(int argc, char** argv) {
  using namespace ringkv;
  Flags flags;
  CLI::App app{"ringkv-admin: inspect a ringkv node"};
  app.require_subcommand(1, 1);
  // Global options may also follow the subcommand.
  app.fallthrough();
  app.add_option("--node", flags.node, "node to ask, HOST:PORT")->capture_default_str();
  app.add_option("--timeout", flags.timeout_ms, "request deadline in milliseconds")
      ->capture_default_str();
  CLI::App* status = app.add_subcommand(
      "status", "the node's view: peers up/down with phi, pending hints per target");
  status->add_flag("--json", flags.json,
                   "print {node, incarnation, ring_epoch, peers: [{node, up, phi}], "
                   "hints: [{target, count}], hints_pending, hints_delivered, hint_write_failures}");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (status->parsed()) return DoStatus(flags);
  return kExitUsage;
}
