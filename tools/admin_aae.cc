#include "tools/admin_aae.h"

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tools/exit_codes.h"

namespace ringkv {
namespace {

std::string Hex(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

// "2026-12-01T21:05:03Z", or "never".
std::string WallTime(int64_t us) {
  if (us == 0) return "never";
  const time_t secs = static_cast<time_t>(us / 1'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json TimeJson(int64_t us) {
  return us == 0 ? nlohmann::json() : nlohmann::json(WallTime(us));
}

void PrintJson(const nlohmann::json& out) {
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

uint64_t Kept(const AaeReapPass& p) {
  return p.kept_hint_here + p.kept_replica + p.kept_hint_elsewhere + p.kept_changed;
}

}  // namespace

AaeCommands::AaeCommands(CLI::App* app) {
  CLI::App* aae = app->add_subcommand("aae", "active anti-entropy (docs/anti-entropy.md)");
  aae->require_subcommand(1, 1);
  status_ = aae->add_subcommand(
      "status", "per partition: tree state, root, last exchange and with whom, keys repaired, "
                "bytes, tombstones pending and reaped");
  status_->add_flag("--json", json_,
                    "print {node, enabled, partitions: [{partition, state, root, "
                    "last_exchange, last_exchange_us, last_peer, last_result, keys_repaired, "
                    "bytes_sent, tombstones_pending, tombstones_reaped, last_reap, "
                    "last_reap_us[, recomputed_root]}]}");
  status_->add_flag("--verify", verify_, "also recompute each root from the stored objects (slow)");
  exchange_ =
      aae->add_subcommand("exchange", "run one exchange of PARTITION now and print its result");
  exchange_->add_option("PARTITION", partition_, "partition number")->required();
  exchange_->add_option("--peer", peer_, "the replica to exchange with (default: next)");
  exchange_->add_flag("--json", json_,
                      "print {partition, peer, segments_differing, keys_differing, "
                      "keys_repaired, bytes}");
  reap_ = aae->add_subcommand(
      "reap", "reap tombstones now: a full pass over PARTITION (default: every partition the "
              "node is a primary of); what was reaped, what was kept and why");
  reap_->add_option("PARTITION", partition_, "partition number");
  reap_->add_flag("--json", json_,
                  "print {node, partitions: [{partition, result, rounds, checked, reaped, "
                  "reaped_peers, kept, kept_hint_here, kept_replica, kept_hint_elsewhere, "
                  "kept_changed}]}");
}

bool AaeCommands::parsed() const {
  return status_->parsed() || exchange_->parsed() || reap_->parsed();
}

int AaeCommands::Run(const Ask& ask, const Fail& fail) const {
  if (status_->parsed()) return ShowStatus(ask, fail);
  if (exchange_->parsed()) return RunExchange(ask, fail);
  return RunReap(ask, fail);
}

int AaeCommands::ShowStatus(const Ask& ask, const Fail& fail) const {
  Result<MessageBody> body = ask(AaeStatusRequest{verify_});
  if (!body.ok()) return fail(body.status());
  auto* reply = std::get_if<AaeStatusReply>(&*body);
  if (reply == nullptr) return fail(Status::Corruption("unexpected reply to aae status"));
  if (!reply->status.ok()) return fail(reply->status);
  if (json_) {
    nlohmann::json parts = nlohmann::json::array();
    for (const AaePartitionStatus& p : reply->partitions) {
      nlohmann::json j = {{"partition", p.partition},
                          {"state", p.state},
                          {"root", Hex(p.root)},
                          {"last_exchange", TimeJson(p.last_exchange_us)},
                          {"last_exchange_us", p.last_exchange_us},
                          {"last_peer", p.last_peer},
                          {"last_result", p.last_result},
                          {"keys_repaired", p.keys_repaired},
                          {"bytes_sent", p.bytes_sent},
                          {"tombstones_pending", p.last_reap_us == 0
                                                     ? nlohmann::json()
                                                     : nlohmann::json(p.tombstones_pending)},
                          {"tombstones_reaped", p.tombstones_reaped},
                          {"last_reap", TimeJson(p.last_reap_us)},
                          {"last_reap_us", p.last_reap_us}};
      if (p.verified) j["recomputed_root"] = Hex(p.recomputed);
      parts.push_back(std::move(j));
    }
    PrintJson({{"node", reply->node}, {"enabled", reply->enabled}, {"partitions", parts}});
    return kExitOk;
  }
  std::printf("node %s  anti-entropy %s\n", reply->node.c_str(), reply->enabled ? "on" : "off");
  for (const AaePartitionStatus& p : reply->partitions) {
    std::printf("  partition %-4u %-8s root %s", p.partition, p.state.c_str(), Hex(p.root).c_str());
    if (p.verified) std::printf(" recomputed %s", Hex(p.recomputed).c_str());
    std::printf("  last %s", WallTime(p.last_exchange_us).c_str());
    if (!p.last_peer.empty()) {
      std::printf(" with %s: %s", p.last_peer.c_str(), p.last_result.c_str());
    }
    std::printf("  repaired %" PRIu64 "  bytes %" PRIu64, p.keys_repaired, p.bytes_sent);
    if (p.last_reap_us == 0) {
      std::printf("  tombstones ?");
    } else {
      std::printf("  tombstones %" PRIu64, p.tombstones_pending);
    }
    std::printf(" (reaped %" PRIu64 ")\n", p.tombstones_reaped);
  }
  return kExitOk;
}

int AaeCommands::RunExchange(const Ask& ask, const Fail& fail) const {
  Result<MessageBody> body = ask(AaeExchangeRequest{partition_, peer_});
  if (!body.ok()) return fail(body.status());
  auto* reply = std::get_if<AaeExchangeReply>(&*body);
  if (reply == nullptr) return fail(Status::Corruption("unexpected reply to aae exchange"));
  if (!reply->status.ok()) return fail(reply->status);
  if (json_) {
    PrintJson({{"partition", partition_},
               {"peer", reply->peer},
               {"segments_differing", reply->segments_differing},
               {"keys_differing", reply->keys_differing},
               {"keys_repaired", reply->keys_repaired},
               {"bytes", reply->bytes}});
  } else {
    std::printf("partition %u with %s: %" PRIu64 " segments and %" PRIu64
                " keys differing, %" PRIu64 " keys repaired, %" PRIu64 " bytes\n",
                partition_, reply->peer.c_str(), reply->segments_differing,
                reply->keys_differing, reply->keys_repaired, reply->bytes);
  }
  return kExitOk;
}

int AaeCommands::RunReap(const Ask& ask, const Fail& fail) const {
  const bool all = reap_->count("PARTITION") == 0;
  Result<MessageBody> body = ask(AaeReapNowRequest{partition_, all});
  if (!body.ok()) return fail(body.status());
  auto* reply = std::get_if<AaeReapNowReply>(&*body);
  if (reply == nullptr) return fail(Status::Corruption("unexpected reply to aae reap"));
  if (!reply->status.ok()) return fail(reply->status);
  // A pass that stopped (a member down, a peer's error) kept its
  // tombstones: that is an answer, not a failure of the command, unless
  // the one partition asked for could not be passed at all.
  if (json_) {
    nlohmann::json parts = nlohmann::json::array();
    for (const AaeReapPass& p : reply->passes) {
      parts.push_back({{"partition", p.partition},
                       {"result", p.status.ok() ? "done" : "stopped: " + p.status.ToString()},
                       {"rounds", p.rounds},
                       {"checked", p.checked},
                       {"reaped", p.reaped_here},
                       {"reaped_peers", p.reaped_peers},
                       {"kept", Kept(p)},
                       {"kept_hint_here", p.kept_hint_here},
                       {"kept_replica", p.kept_replica},
                       {"kept_hint_elsewhere", p.kept_hint_elsewhere},
                       {"kept_changed", p.kept_changed}});
    }
    PrintJson({{"node", reply->node}, {"partitions", parts}});
  } else {
    std::printf("node %s\n", reply->node.c_str());
    for (const AaeReapPass& p : reply->passes) {
      std::printf("  partition %-4u %s: %" PRIu64 " tombstones checked in %u rounds, %" PRIu64
                  " reaped (%" PRIu64 " on peers), %" PRIu64 " kept",
                  p.partition, p.status.ok() ? "done" : "stopped", p.checked, p.rounds,
                  p.reaped_here, p.reaped_peers, Kept(p));
      if (Kept(p) > 0) {
        std::printf(" (hint here %" PRIu64 ", replica behind or hinting %" PRIu64
                    ", hint on another member %" PRIu64 ", changed %" PRIu64 ")",
                    p.kept_hint_here, p.kept_replica, p.kept_hint_elsewhere, p.kept_changed);
      }
      if (!p.status.ok()) std::printf("  [%s]", p.status.ToString().c_str());
      std::printf("\n");
    }
  }
  if (!all && reply->passes.size() == 1 && !reply->passes[0].status.ok()) {
    return ExitCodeFor(reply->passes[0].status);
  }
  return kExitOk;
}

}  // namespace ringkv
