#include "tools/admin_ring_changes.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "client/client.h"
#include "client/node_connection.h"
#include "common/host_port.h"
#include "common/tls.h"
#include "proto/messages.h"
#include "replication/ring_state_codec.h"
#include "ring/ring_state.h"
#include "tools/exit_codes.h"

namespace ringkv {
namespace {

int Fail(const Status& status) {
  std::cerr << "ringkv-admin: " << status.ToString() << "\n";
  return status.IsNotFound() ? kExitOther : ExitCodeFor(status);
}

void PrintJson(const nlohmann::json& out) {
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

const char* KindName(StagedChange::Kind kind) {
  return kind == StagedChange::Kind::kJoin ? "join" : "leave";
}

nlohmann::json StagedJson(const std::vector<StagedChange>& staged) {
  nlohmann::json out = nlohmann::json::array();
  for (const StagedChange& c : staged) out.push_back({{"kind", KindName(c.kind)}, {"node", c.node}});
  return out;
}

std::string StagedText(const std::vector<StagedChange>& staged) {
  std::string out;
  for (const StagedChange& c : staged) {
    out += (out.empty() ? "" : ", ") + std::string(KindName(c.kind)) + " " + c.node;
  }
  return out.empty() ? "nothing" : out;
}

}  // namespace

struct RingChangeCommands::Impl {
  const std::string* node;
  const uint32_t* timeout_ms;
  const CredentialFlags* credentials;
  bool json = false;
  std::string member, address, plan_id;
  CLI::App* state = nullptr;
  CLI::App* join = nullptr;
  CLI::App* leave = nullptr;
  CLI::App* plan = nullptr;
  CLI::App* commit = nullptr;
  CLI::App* clear = nullptr;
  CLI::App* transfers = nullptr;

  // One request to `address` and its RingAdminReply, whose status is the
  // result.
  Result<RingAdminReply> Ask(const std::string& at, RingAdminRequest request) const {
    Result<HostPort> parsed = ParseHostPort(at);
    if (!parsed.ok()) return Status::InvalidArgument("--node: " + parsed.status().message());
    if (*timeout_ms == 0) return Status::InvalidArgument("--timeout must be positive");
    const Deadline deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout_ms);
    ClientOptions options;
    RINGKV_RETURN_IF_ERROR(ApplyCredentials(*credentials, &options));
    std::shared_ptr<TlsContext> tls;
    if (!options.tls.ca.empty()) {
      Result<std::shared_ptr<TlsContext>> ctx =
          TlsContext::ForClient(TlsFiles{options.tls.ca, options.tls.cert, options.tls.key});
      if (!ctx.ok()) return Status::InvalidArgument("TLS: " + ctx.status().message());
      tls = *ctx;
    }
    NodeConnection conn(at, tls.get());
    Message message;
    message.request_id = 1;
    message.auth_token = options.token;
    message.timeout_ms = *timeout_ms;
    message.body = std::move(request);
    Result<Message> reply = conn.Call(message, deadline);
    if (!reply.ok()) return reply.status();
    if (auto* error = std::get_if<ErrorReply>(&reply->body)) return error->status;
    auto* answer = std::get_if<RingAdminReply>(&reply->body);
    if (answer == nullptr) return Status::Corruption("unexpected reply to a ring request");
    if (!answer->status.ok()) return answer->status;
    return std::move(*answer);
  }

  int State() const {
    Result<RingAdminReply> reply = Ask(*node, RingAdminRequest{"ring", {}, {}, {}, 0, {}});
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

  // join, leave, clear, commit: the state after.
  int Change(RingAdminRequest request, const std::string& what) const {
    Result<RingAdminReply> reply = Ask(*node, request);
    if (!reply.ok()) return Fail(reply.status());
    Result<RingState> state = DecodeRingState(reply->state);
    if (!state.ok()) return Fail(state.status());
    if (json) {
      PrintJson({{"op", request.op},
                 {"epoch", state->epoch},
                 {"staged", StagedJson(state->staged)},
                 {"transfers", state->transfers.size()}});
    } else {
      std::printf("%s: ring epoch %" PRIu64 ", staged: %s, %zu transfers in flight\n",
                  what.c_str(), state->epoch, StagedText(state->staged).c_str(),
                  state->transfers.size());
    }
    return kExitOk;
  }

  int Plan() const {
    Result<RingAdminReply> reply = Ask(*node, RingAdminRequest{"plan", {}, {}, {}, 0, {}});
    if (!reply.ok()) return Fail(reply.status());
    Result<PlanView> plan = DecodePlan(reply->plan);
    if (!plan.ok()) return Fail(plan.status());
    uint64_t keys = 0, bytes = 0;
    for (const PlanMove& m : plan->moves) {
      keys += m.keys;
      bytes += m.bytes;
    }
    if (json) {
      nlohmann::json moves = nlohmann::json::array();
      for (const PlanMove& m : plan->moves) {
        moves.push_back({{"partition", m.move.partition},
                         {"from", m.move.from},
                         {"to", m.move.to},
                         {"keys", m.keys},
                         {"bytes", m.bytes}});
      }
      PrintJson({{"id", plan->id},
                 {"epoch", plan->epoch},
                 {"staged", StagedJson(plan->staged)},
                 {"moves", moves},
                 {"total", {{"moves", plan->moves.size()}, {"keys", keys}, {"bytes", bytes}}},
                 {"balance_after",
                  {{"min", plan->after.min_partitions}, {"max", plan->after.max_partitions}}},
                 {"violations", plan->after.violations}});
      return kExitOk;
    }
    std::printf("plan %s at ring epoch %" PRIu64 ": %s\n", plan->id.c_str(), plan->epoch,
                StagedText(plan->staged).c_str());
    std::printf("  %9s  %-8s  %-8s  %10s  %12s\n", "partition", "from", "to", "keys", "bytes");
    for (const PlanMove& m : plan->moves) {
      std::printf("  %9u  %-8s  %-8s  %10" PRIu64 "  %12" PRIu64 "\n", m.move.partition,
                  m.move.from.c_str(), m.move.to.c_str(), m.keys, m.bytes);
    }
    std::printf("total: %zu moves, %" PRIu64 " keys, %" PRIu64 " bytes\n", plan->moves.size(),
                keys, bytes);
    std::printf("balance after: %u to %u partitions per member; placement violations: %u\n",
                plan->after.min_partitions, plan->after.max_partitions, plan->after.violations);
    std::printf("commit with: ringkv-admin ring commit %s\n", plan->id.c_str());
    return kExitOk;
  }

  int Transfers() const {
    Result<RingAdminReply> reply = Ask(*node, RingAdminRequest{"ring", {}, {}, {}, 0, {}});
    if (!reply.ok()) return Fail(reply.status());
    Result<RingState> state = DecodeRingState(reply->state);
    if (!state.ok()) return Fail(state.status());
    size_t done = 0;
    for (const Move& m : state->transfers) done += m.done ? 1 : 0;
    nlohmann::json rows = nlohmann::json::array();
    std::vector<std::string> unreachable;
    std::vector<TransferProgress> all;
    for (const StateMember& m : state->members) {
      Result<RingAdminReply> r = Ask(m.address, RingAdminRequest{"transfers", {}, {}, {}, 0, {}});
      Result<TransferReport> report =
          r.ok() ? DecodeTransferReport(r->transfers) : Result<TransferReport>(r.status());
      if (!report.ok()) {
        unreachable.push_back(m.id + " (" + report.status().ToString() + ")");
        continue;
      }
      for (TransferProgress& t : report->transfers) {
        // Each stream is reported by both ends; the sender's view has the
        // totals.
        if (t.state == "streaming" || t.to != m.id) all.push_back(std::move(t));
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
                        {"eta_sec", t.eta_sec}});
      }
      PrintJson({{"epoch", state->epoch},
                 {"changing", state->changing()},
                 {"moves", state->transfers.size()},
                 {"moves_done", done},
                 {"active", rows},
                 {"unreachable", unreachable}});
      return kExitOk;
    }
    if (!state->changing()) {
      std::printf("no change in flight (ring epoch %" PRIu64 ")\n", state->epoch);
    } else {
      std::printf("change committed at epoch %" PRIu64 ": %zu of %zu moves done\n",
                  state->change_epoch, done, state->transfers.size());
    }
    for (const TransferProgress& t : all) {
      std::printf("  partition %-5u %s -> %s  %-10s %" PRIu64 "/%" PRIu64 " objects  %" PRIu64
                  "/%" PRIu64 " bytes  %5.1f%%  %.0f B/s  ETA %.0f s\n",
                  t.partition, t.from.c_str(), t.to.c_str(), t.state.c_str(), t.objects,
                  t.total_objects, t.bytes, t.total_bytes, percent(t), t.bytes_per_sec,
                  t.eta_sec);
    }
    for (const std::string& u : unreachable) std::printf("  unreachable: %s\n", u.c_str());
    return kExitOk;
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
  for (CLI::App* cmd : {i.join, i.leave, i.clear}) {
    json(cmd, "{op, epoch, staged: [{kind, node}], transfers}");
  }
  i.plan = ring->add_subcommand(
      "plan", "what committing the staged changes would do: every move with its keys and "
              "bytes, the balance after, violations, and the plan id");
  json(i.plan, "{id, epoch, staged, moves: [{partition, from, to, keys, bytes}], total: "
               "{moves, keys, bytes}, balance_after: {min, max}, violations}");
  i.commit = ring->add_subcommand(
      "commit", "commit PLAN_ID; refused when the ring changed since the plan was shown");
  i.commit->add_option("PLAN_ID", i.plan_id, "the id `ring plan` printed")->required();
  json(i.commit, "{op, epoch, staged, transfers}");
  i.transfers = app->add_subcommand(
      "transfers", "the partition transfers of the change in flight, from every member: "
                   "objects, bytes, percent, rate, ETA");
  json(i.transfers, "{epoch, changing, moves, moves_done, active: [{partition, from, to, "
                    "state, objects, bytes, total_objects, total_bytes, percent, "
                    "bytes_per_sec, eta_sec}], unreachable: [..]}");
}

RingChangeCommands::~RingChangeCommands() = default;

bool RingChangeCommands::Parsed() const {
  const Impl& i = *impl_;
  for (CLI::App* cmd : {i.state, i.join, i.leave, i.plan, i.commit, i.clear, i.transfers}) {
    if (cmd->parsed()) return true;
  }
  return false;
}

int RingChangeCommands::Run() const {
  const Impl& i = *impl_;
  if (i.state->parsed()) return i.State();
  if (i.join->parsed()) {
    return i.Change({"join", i.member, i.address, {}, 0, {}}, "staged join of " + i.member);
  }
  if (i.leave->parsed()) {
    return i.Change({"leave", i.member, {}, {}, 0, {}}, "staged leave of " + i.member);
  }
  if (i.clear->parsed()) return i.Change({"clear", {}, {}, {}, 0, {}}, "cleared");
  if (i.commit->parsed()) {
    return i.Change({"commit", {}, {}, i.plan_id, 0, {}}, "committed plan " + i.plan_id);
  }
  if (i.plan->parsed()) return i.Plan();
  if (i.transfers->parsed()) return i.Transfers();
  return kExitUsage;
}

}  // namespace ringkv
