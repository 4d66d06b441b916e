#include "tools/admin_ring_changes.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>
#include <vector>

#include "client/client.h"
#include "common/host_port.h"
#include "proto/messages.h"
#include "replication/ring_state_codec.h"
#include "ring/ring_state.h"
#include "tools/exit_codes.h"
#include "tools/local_ring_change.h"

namespace ringkv {
namespace {

int Fail(const Status& status) {
  std::cerr << "ringkv-admin: " << status.ToString() << "\n";
  return status.IsNotFound() ? kExitOther : ExitCodeFor(status);
}

void PrintJson(const nlohmann::json& out) {
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

nlohmann::json StagedJson(const std::vector<StagedChange>& staged) {
  nlohmann::json out = nlohmann::json::array();
  for (const StagedChange& c : staged) {
    nlohmann::json change = {{"kind", StagedKindName(c.kind)}, {"node", c.node}};
    if (!c.with.empty()) change["with"] = c.with;
    out.push_back(std::move(change));
  }
  return out;
}

RingAdminRequest Request(const char* op) {
  RingAdminRequest r;
  r.op = op;
  return r;
}

// The ring's transfer limits; null where each node's flag applies.
nlohmann::json LimitsJson(const TransferLimits& limits) {
  return {{"max", limits.per_node > 0 ? nlohmann::json(limits.per_node) : nlohmann::json()},
          {"mib_per_s",
           limits.mib_per_sec >= 0 ? nlohmann::json(limits.mib_per_sec) : nlohmann::json()}};
}

std::string LimitsText(const TransferLimits& limits) {
  char mib[32];
  std::snprintf(mib, sizeof(mib), "%g", limits.mib_per_sec);
  return "max " + (limits.per_node > 0 ? std::to_string(limits.per_node) : "each node's flag") +
         ", mib-per-s " +
         (limits.mib_per_sec > 0    ? std::string(mib)
          : limits.mib_per_sec == 0 ? "unpaced"
                                    : "each node's flag");
}

std::string StagedText(const std::vector<StagedChange>& staged) {
  std::string out;
  for (const StagedChange& c : staged) {
    out += (out.empty() ? "" : ", ") + std::string(StagedKindName(c.kind)) + " " + c.node;
    if (!c.with.empty()) out += " with " + c.with;
  }
  return out.empty() ? "nothing" : out;
}

// The properties `name` has in `state`: its own, or the defaults (named
// false) when the ring does not name it.
BucketInfo BucketIn(const RingState& state, const std::string& name, bool* named) {
  *named = false;
  BucketInfo defaults;
  defaults.n = defaults.r = defaults.w = 0;
  for (const BucketInfo& b : state.buckets) {
    if (b.name == name) {
      *named = true;
      return b;
    }
    if (b.name.empty()) defaults = b;
  }
  defaults.name = name;
  return defaults;
}

}  // namespace

struct RingChangeCommands::Impl {
  const std::string* node;
  const uint32_t* timeout_ms;
  const CredentialFlags* credentials;
  bool json = false;
  bool watch = false;
  uint32_t interval_ms = 1000;
  std::string member, address, plan_id, replacement, settings;
  std::string bucket_name, bucket_spec;
  CLI::Option* bucket_set = nullptr;
  CLI::App* bucket = nullptr;
  CLI::App* state = nullptr;
  CLI::App* join = nullptr;
  CLI::App* leave = nullptr;
  CLI::App* plan = nullptr;
  CLI::App* commit = nullptr;
  CLI::App* clear = nullptr;
  CLI::App* replace = nullptr;
  CLI::App* force_remove = nullptr;
  CLI::App* force_replace = nullptr;
  CLI::App* mark_down = nullptr;
  CLI::App* transfers = nullptr;

  // One request to `address` and its RingAdminReply, whose status is the
  // result.
  Result<RingAdminReply> Ask(const std::string& at, RingAdminRequest request) const {
    Result<HostPort> parsed = ParseHostPort(at);
    if (!parsed.ok()) return Status::InvalidArgument("--node: " + parsed.status().message());
    if (*timeout_ms == 0) return Status::InvalidArgument("--timeout must be positive");
    ClientOptions options;
    RINGKV_RETURN_IF_ERROR(ApplyCredentials(*credentials, &options));
    return AskRing(at, std::move(request), std::chrono::milliseconds(*timeout_ms), options.tls,
                   options.token);
  }

  int State() const {
    Result<RingAdminReply> reply = Ask(*node, Request("ring"));
    if (!reply.ok()) return Fail(reply.status());
    Result<RingState> state = DecodeRingState(reply->state);
    if (!state.ok()) return Fail(state.status());
    std::map<NodeId, uint32_t> owned;
    for (const NodeId& o : state->owners) ++owned[o];
    const std::string claimant = Claimant(*state).value_or("");
    size_t done = 0;
    for (const Move& m : state->transfers) done += m.done ? 1 : 0;
    if (json) {
      nlohmann::json members = nlohmann::json::array();
      for (const StateMember& m : state->members) {
        members.push_back({{"node", m.id},
                           {"address", m.address},
                           {"status", MemberStatusName(m.status)},
                           {"partitions", owned[m.id]}});
      }
      nlohmann::json change = nullptr;
      if (state->changing()) {
        nlohmann::json moves = nlohmann::json::array();
        for (const Move& m : state->transfers) {
          moves.push_back({{"partition", m.partition},
                           {"from", m.from},
                           {"to", m.to},
                           {"done", m.done}});
        }
        change = {{"epoch", state->change_epoch}, {"transfers", moves}, {"done", done}};
      }
      PrintJson({{"epoch", state->epoch},
                 {"partitions", state->partitions},
                 {"n", state->n},
                 {"claimant", claimant},
                 {"members", members},
                 {"staged", StagedJson(state->staged)},
                 {"change", change},
                 {"owners", state->owners}});
      return kExitOk;
    }
    std::printf("ring epoch %" PRIu64 "  partitions %u  n %u  claimant %s\n", state->epoch,
                state->partitions, state->n, claimant.c_str());
    std::printf("members:\n");
    for (const StateMember& m : state->members) {
      std::printf("  %-8s %-21s %-8s %u partitions\n", m.id.c_str(), m.address.c_str(),
                  MemberStatusName(m.status), owned[m.id]);
    }
    std::printf("staged: %s\n", StagedText(state->staged).c_str());
    if (state->changing()) {
      std::printf("change committed at epoch %" PRIu64 ": %zu of %zu transfers done\n",
                  state->change_epoch, done, state->transfers.size());
    } else {
      std::printf("no change in flight\n");
    }
    return kExitOk;
  }

  // Every change: the state after.
  int Change(RingAdminRequest request, const std::string& what) const {
    Result<RingAdminReply> reply = Ask(*node, request);
    if (!reply.ok()) return Fail(reply.status());
    Result<RingState> state = DecodeRingState(reply->state);
    if (!state.ok()) return Fail(state.status());
    if (json) {
      PrintJson({{"op", request.op},
                 {"epoch", state->epoch},
                 {"staged", StagedJson(state->staged)},
                 {"transfers", state->transfers.size()},
                 {"limits", LimitsJson(state->limits)}});
    } else if (request.op == "limits") {
      std::printf("%s: ring epoch %" PRIu64 ", %s\n", what.c_str(), state->epoch,
                  LimitsText(state->limits).c_str());
    } else {
      std::printf("%s: ring epoch %" PRIu64 ", staged: %s, %zu transfers in flight\n",
                  what.c_str(), state->epoch, StagedText(state->staged).c_str(),
                  state->transfers.size());
    }
    return kExitOk;
  }

  int Plan() const {
    Result<RingAdminReply> reply = Ask(*node, Request("plan"));
    if (!reply.ok()) return Fail(reply.status());
    Result<PlanView> plan = DecodePlan(reply->plan);
    if (!plan.ok()) return Fail(plan.status());
    uint64_t keys = 0, bytes = 0;
    size_t unknown = 0;
    for (const PlanMove& m : plan->moves) {
      keys += m.keys;
      bytes += m.bytes;
      unknown += m.size_known ? 0 : 1;
    }
    if (json) {
      nlohmann::json moves = nlohmann::json::array();
      for (const PlanMove& m : plan->moves) {
        moves.push_back({{"partition", m.move.partition},
                         {"from", m.move.from},
                         {"to", m.move.to},
                         {"keys", m.keys},
                         {"bytes", m.bytes},
                         {"size_known", m.size_known}});
      }
      PrintJson({{"id", plan->id},
                 {"epoch", plan->epoch},
                 {"forced", plan->forced},
                 {"staged", StagedJson(plan->staged)},
                 {"moves", moves},
                 {"total",
                  {{"moves", plan->moves.size()},
                   {"keys", keys},
                   {"bytes", bytes},
                   {"moves_size_unknown", unknown}}},
                 {"balance_after",
                  {{"min", plan->after.min_partitions}, {"max", plan->after.max_partitions}}},
                 {"violations", plan->after.violations},
                 {"eta_sec", plan->eta_sec}});
      return kExitOk;
    }
    std::printf("plan %s at ring epoch %" PRIu64 ": %s\n", plan->id.c_str(), plan->epoch,
                StagedText(plan->staged).c_str());
    std::printf("  %9s  %-8s  %-8s  %10s  %12s\n", "partition", "from", "to", "keys", "bytes");
    for (const PlanMove& m : plan->moves) {
      if (!m.size_known) {
        std::printf("  %9u  %-8s  %-8s  %23s\n", m.move.partition, m.move.from.c_str(),
                    m.move.to.c_str(), "size unknown");
        continue;
      }
      std::printf("  %9u  %-8s  %-8s  %10" PRIu64 "  %12" PRIu64 "\n", m.move.partition,
                  m.move.from.c_str(), m.move.to.c_str(), m.keys, m.bytes);
    }
    std::printf("total: %zu moves, %" PRIu64 " keys, %" PRIu64 " bytes\n", plan->moves.size(),
                keys, bytes);
    if (unknown > 0) {
      std::printf("size unknown: %zu moves, their sender down or not answering in time; the "
                  "totals and the ETA leave them out\n",
                  unknown);
    }
    std::printf("balance after: %u to %u partitions per member; placement violations: %u\n",
                plan->after.min_partitions, plan->after.max_partitions, plan->after.violations);
    if (!plan->forced) {
      std::printf("ETA at the transfer limits: %.0f s%s\n", plan->eta_sec,
                  plan->eta_sec == 0 && bytes > 0 ? " (unpaced)" : "");
    }
    if (plan->forced) {
      std::printf("forced: nothing is streamed from the dead member; each new replica in its "
                  "place is filled by anti-entropy from the 'from' replica (until then it may "
                  "answer not-found; read at R >= 2); a move whose 'from' replica this plan "
                  "drops is streamed first, as in a leave\n");
    }
    std::printf("commit with: ringkv-admin ring commit %s\n", plan->id.c_str());
    return kExitOk;
  }

  // `bucket NAME [--set SPEC]`: the properties the ring state holds for
  // NAME, after the change when --set was given.
  int Bucket() const {
    const bool set = bucket_set->count() > 0;
    if (bucket_name.empty() || bucket_name.size() > 255) {
      return Fail(Status::InvalidArgument("a bucket name is 1 to 255 bytes"));
    }
    if (set && bucket_spec.empty()) {
      return Fail(Status::InvalidArgument("--set: nothing to set (give n=,r=,w=,resolver=,...)"));
    }
    RingAdminRequest request = Request(set ? "bucket" : "ring");
    request.bucket = bucket_name;
    request.settings = bucket_spec;
    Result<RingAdminReply> reply = Ask(*node, request);
    if (!reply.ok()) return Fail(reply.status());
    Result<RingState> state = DecodeRingState(reply->state);
    if (!state.ok()) return Fail(state.status());
    bool named = false;
    const BucketInfo b = BucketIn(*state, bucket_name, &named);
    if (json) {
      PrintJson({{"bucket", b.name},
                 {"named", named},
                 {"epoch", state->epoch},
                 {"n", b.n},
                 {"r", b.r},
                 {"w", b.w},
                 {"resolver", b.resolver},
                 {"max_siblings", b.max_siblings},
                 {"warn_siblings", b.warn_siblings},
                 {"plugin_version", b.plugin_version},
                 {"plugin_hash", b.plugin_hash}});
      return kExitOk;
    }
    std::printf("bucket %s%s at ring epoch %" PRIu64 ": n=%u r=%u w=%u resolver=%s "
                "max_siblings=%u warn_siblings=%u",
                b.name.c_str(), set ? " set" : named ? "" : " (not named: the defaults)",
                state->epoch, b.n, b.r, b.w, b.resolver.c_str(), b.max_siblings,
                b.warn_siblings);
    if (b.plugin_version != 0) std::printf(" plugin_version=%u", b.plugin_version);
    if (!b.plugin_hash.empty()) std::printf(" plugin_hash=%s", b.plugin_hash.c_str());
    std::printf("\n");
    return kExitOk;
  }

  // One look at the transfers; `changing` tells whether a change is in
  // flight.
  int TransfersOnce(bool* changing) const {
    Result<RingAdminReply> reply = Ask(*node, Request("ring"));
    if (!reply.ok()) return Fail(reply.status());
    Result<RingState> state = DecodeRingState(reply->state);
    if (!state.ok()) return Fail(state.status());
    *changing = state->changing();
    size_t done = 0;
    for (const Move& m : state->transfers) done += m.done ? 1 : 0;
    nlohmann::json rows = nlohmann::json::array();
    std::vector<std::string> unreachable;
    std::vector<TransferProgress> all;
    for (const StateMember& m : state->members) {
      Result<RingAdminReply> r = Ask(m.address, Request("transfers"));
      Result<TransferReport> report =
          r.ok() ? DecodeTransferReport(r->transfers) : Result<TransferReport>(r.status());
      if (!report.ok()) {
        unreachable.push_back(m.id + " (" + report.status().ToString() + ")");
        continue;
      }
      for (TransferProgress& t : report->transfers) {
        // Each stream is reported by both ends; the sender's view has the
        // totals. Catch-up exchanges only the receiver reports.
        if (t.state == "streaming" || t.to != m.id || t.state.starts_with("catch-up")) {
          all.push_back(std::move(t));
        }
      }
    }
    auto percent = [](const TransferProgress& t) {
      return t.total_bytes == 0 ? 0.0 : 100.0 * static_cast<double>(t.bytes) /
                                            static_cast<double>(t.total_bytes);
    };
    if (json) {
      for (const TransferProgress& t : all) {
        rows.push_back({{"partition", t.partition},
                        {"from", t.from},
                        {"to", t.to},
                        {"state", t.state},
                        {"objects", t.objects},
                        {"bytes", t.bytes},
                        {"total_objects", t.total_objects},
                        {"total_bytes", t.total_bytes},
                        {"percent", percent(t)},
                        {"bytes_per_sec", t.bytes_per_sec},
                        {"eta_sec", t.eta_sec},
                        {"reason", t.reason},
                        {"attempts", t.attempts},
                        {"retry_in_sec", t.retry_in_sec}});
      }
      PrintJson({{"epoch", state->epoch},
                 {"changing", state->changing()},
                 {"moves", state->transfers.size()},
                 {"moves_done", done},
                 {"active", rows},
                 {"unreachable", unreachable},
                 {"limits", LimitsJson(state->limits)}});
      return kExitOk;
    }
    if (!state->changing()) {
      std::printf("no change in flight (ring epoch %" PRIu64 ")\n", state->epoch);
    } else {
      std::printf("change committed at epoch %" PRIu64 ": %zu of %zu moves done\n",
                  state->change_epoch, done, state->transfers.size());
    }
    for (const TransferProgress& t : all) {
      if (t.state == "catch-up") {
        std::printf("  partition %-5u catch-up exchange owed by %s\n", t.partition, t.to.c_str());
        continue;
      }
      if (t.state == "catch-up-retrying") {
        std::printf("  partition %-5u catch-up exchange owed by %s: failed %u times, last with "
                    "%s: %s; next try in %.0f s\n",
                    t.partition, t.to.c_str(), t.attempts, t.from.c_str(), t.reason.c_str(),
                    t.retry_in_sec);
        continue;
      }
      std::printf("  partition %-5u %s -> %s  %-10s %" PRIu64 "/%" PRIu64 " objects  %" PRIu64
                  "/%" PRIu64 " bytes  %5.1f%%  %.0f B/s  ETA %.0f s\n",
                  t.partition, t.from.c_str(), t.to.c_str(), t.state.c_str(), t.objects,
                  t.total_objects, t.bytes, t.total_bytes, percent(t), t.bytes_per_sec,
                  t.eta_sec);
    }
    for (const std::string& u : unreachable) std::printf("  unreachable: %s\n", u.c_str());
    std::printf("limits: %s\n", LimitsText(state->limits).c_str());
    return kExitOk;
  }

  // With --watch: a look every --interval-ms (the screen redrawn on a
  // terminal, one JSON object a line with --json) until no change is in
  // flight.
  int Transfers() const {
    bool changing = false;
    for (;;) {
      if (watch && !json && isatty(STDOUT_FILENO)) std::printf("\033[H\033[2J");
      const int rc = TransfersOnce(&changing);
      std::fflush(stdout);
      if (rc != kExitOk || !watch || !changing) return rc;
      std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
  }
};

RingChangeCommands::RingChangeCommands(CLI::App* app, CLI::App* ring, const std::string* node,
                                       const uint32_t* timeout_ms,
                                       const CredentialFlags* credentials)
    : impl_(std::make_unique<Impl>()) {
  Impl& i = *impl_;
  i.node = node;
  i.timeout_ms = timeout_ms;
  i.credentials = credentials;
  auto json = [&i](CLI::App* cmd, const std::string& shape) {
    cmd->add_flag("--json", i.json, "print " + shape);
  };
  i.state = ring->add_subcommand(
      "state", "the ring state: epoch, claimant, members with status, staged changes, the "
               "change in flight");
  json(i.state, "{epoch, partitions, n, claimant, members: [{node, address, status, "
                "partitions}], staged: [{kind, node}], change: null | {epoch, done, transfers: "
                "[{partition, from, to, done}]}, owners}");
  i.join = ring->add_subcommand("join", "stage the join of NODE, reached at ADDRESS");
  i.join->add_option("NODE", i.member, "the new member's id")->required();
  i.join->add_option("ADDRESS", i.address, "where it listens, HOST:PORT")->required();
  i.leave = ring->add_subcommand("leave", "stage the leave of NODE (its partitions move away)");
  i.leave->add_option("NODE", i.member, "a valid member's id")->required();
  i.clear = ring->add_subcommand("clear", "drop every staged change");
  i.replace = ring->add_subcommand(
      "replace", "stage: NEW (a joining member) takes exactly OLD's partitions, streamed from "
                 "OLD; OLD leaves");
  i.force_remove = ring->add_subcommand(
      "force-remove", "stage: NODE is dead; its partitions go to the others without a transfer "
                      "from it (anti-entropy fills them from the surviving replicas)");
  i.force_replace = ring->add_subcommand(
      "force-replace", "stage: OLD is dead; NEW (a joining member) takes exactly its partitions, "
                       "filled by anti-entropy from the surviving replicas");
  for (CLI::App* cmd : {i.replace, i.force_replace}) {
    cmd->add_option("OLD", i.member, "the member replaced")->required();
    cmd->add_option("NEW", i.replacement, "a joining member (ringkv-node --join)")->required();
  }
  i.force_remove->add_option("NODE", i.member, "a dead valid or down member")->required();
  i.mark_down = ring->add_subcommand(
      "mark-down", "NODE is dead: status down, so the next lowest valid id becomes claimant and "
                   "takes over the transfers it was sending");
  i.mark_down->add_option("NODE", i.member, "a valid member the cluster sees down")->required();
  for (CLI::App* cmd : {i.join, i.leave, i.clear, i.replace, i.force_remove, i.force_replace,
                        i.mark_down}) {
    json(cmd, "{op, epoch, staged: [{kind, node, with?}], transfers, limits: {max, mib_per_s}}");
  }
  i.plan = ring->add_subcommand(
      "plan", "what committing the staged changes would do: every move with its keys and "
              "bytes, the balance after, violations, and the plan id");
  json(i.plan, "{id, epoch, forced, eta_sec, staged, moves: [{partition, from, to, keys, "
               "bytes, size_known}], total: {moves, keys, bytes, moves_size_unknown}, "
               "balance_after: {min, max}, violations}");
  i.commit = ring->add_subcommand(
      "commit", "commit PLAN_ID; refused when the ring changed since the plan was shown");
  i.commit->add_option("PLAN_ID", i.plan_id, "the id `ring plan` printed")->required();
  json(i.commit, "{op, epoch, staged, transfers, limits}");
  i.transfers = app->add_subcommand(
      "transfers", "the partition transfers of the change in flight, from every member: "
                   "objects, bytes, percent, rate, ETA");
  json(i.transfers, "{epoch, changing, moves, moves_done, active: [{partition, from, to, "
                    "state, objects, bytes, total_objects, total_bytes, percent, "
                    "bytes_per_sec, eta_sec, reason, attempts, retry_in_sec}], unreachable: "
                    "[..], limits: {max, mib_per_s}}; with --set: {op, epoch, staged, "
                    "transfers, limits}");
  i.transfers->add_flag("--watch", i.watch,
                        "live progress: look again every --interval-ms until the change "
                        "completes (with --json, one object a line)");
  i.transfers->add_option("--interval-ms", i.interval_ms, "between two looks of --watch")
      ->check(CLI::Range(100u, 3'600'000u))
      ->capture_default_str();
  i.transfers->add_option(
      "--set", i.settings,
      "change the cluster's transfer limits at runtime, spread with the ring state: "
      "max=N (streams a node sends at once, 1-64), mib-per-s=X (a node's outgoing MiB/s, "
      "0 unpaced); `default` gives either back to each node's flag");
  i.bucket = app->add_subcommand(
      "bucket", "a bucket's properties as the ring holds them (n, r, w, resolver, sibling caps, "
                "plugin pins); --set changes them for the whole cluster, in a new ring epoch");
  i.bucket->add_option("NAME", i.bucket_name, "the bucket (1 to 255 bytes)")->required();
  i.bucket_set = i.bucket->add_option(
      "--set", i.bucket_spec,
      "r=..,w=..,resolver=..,max_siblings=..,warn_siblings=..,plugin_version=..,plugin_hash=.. "
      "(any subset; r and w also one|quorum|all; n only as it is: no data moves for a change of "
      "n); committed by the claimant and spread with the ring state");
  i.bucket->add_flag("--json", i.json,
                     "print {bucket, named, epoch, n, r, w, resolver, max_siblings, "
                     "warn_siblings, plugin_version, plugin_hash}");
}

RingChangeCommands::~RingChangeCommands() = default;

bool RingChangeCommands::Parsed() const {
  const Impl& i = *impl_;
  for (CLI::App* cmd : {i.state, i.join, i.leave, i.plan, i.commit, i.clear, i.replace,
                        i.force_remove, i.force_replace, i.mark_down, i.transfers, i.bucket}) {
    if (cmd->parsed()) return true;
  }
  return false;
}

int RingChangeCommands::Run() const {
  const Impl& i = *impl_;
  auto request = [&i](const char* op) {
    RingAdminRequest r;
    r.op = op;
    r.node = i.member;
    r.replacement = i.replacement;
    return r;
  };
  if (i.state->parsed()) return i.State();
  if (i.bucket->parsed()) return i.Bucket();
  if (i.join->parsed()) {
    RingAdminRequest r = request("join");
    r.address = i.address;
    return i.Change(r, "staged join of " + i.member);
  }
  if (i.leave->parsed()) return i.Change(request("leave"), "staged leave of " + i.member);
  if (i.clear->parsed()) return i.Change(request("clear"), "cleared");
  if (i.replace->parsed()) {
    return i.Change(request("replace"),
                    "staged replace of " + i.member + " with " + i.replacement);
  }
  if (i.force_remove->parsed()) {
    return i.Change(request("force-remove"), "staged force-remove of " + i.member);
  }
  if (i.force_replace->parsed()) {
    return i.Change(request("force-replace"),
                    "staged force-replace of " + i.member + " with " + i.replacement);
  }
  if (i.mark_down->parsed()) return i.Change(request("mark-down"), "marked " + i.member + " down");
  if (i.commit->parsed()) {
    RingAdminRequest r = request("commit");
    r.plan_id = i.plan_id;
    return i.Change(r, "committed plan " + i.plan_id);
  }
  if (i.plan->parsed()) return i.Plan();
  if (i.transfers->parsed() && !i.settings.empty()) {
    RingAdminRequest r = request("limits");
    r.settings = i.settings;
    return i.Change(r, "transfer limits set");
  }
  if (i.transfers->parsed()) return i.Transfers();
  return kExitUsage;
}

}  // namespace ringkv
