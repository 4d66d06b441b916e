#include "tests/sim/workload.h"

#include <utility>

#include "causality/object_codec.h"

namespace ringkv::sim {
namespace {

// A node measures its deadline on its own clock; allow for drift and for the
// last event of the deadline instant.
int64_t Slack(const SimCluster& c, uint32_t timeout_ms) {
  return 5'000 + static_cast<int64_t>(timeout_ms) * 1000 * c.options().max_drift_ppm / 1'000'000;
}

// The sibling a write created, found in the coordinator's reply: for a put
// the one holding the (unique) value; for a delete the tombstone whose dot
// is the newest of its actor and not covered by the context sent.
bool FindDot(Op* op) {
  const Sibling* found = nullptr;
  int candidates = 0;
  for (const Sibling& s : op->object.siblings) {
    bool match = op->type == OpType::kPut
                     ? (!s.tombstone && s.value == op->value)
                     : (s.tombstone && !op->context.Covers(s.dot) &&
                        op->object.context.Get(s.dot.actor) == s.dot.counter);
    if (match && (found == nullptr || found->dot < s.dot)) {
      found = &s;
    }
    if (match) {
      ++candidates;
    }
  }
  op->dot_matches = candidates;
  // A put applied twice (a duplicated forwarded request) leaves two siblings
  // with its value; either one stands for the write, take the newest.
  if (candidates == 0 || (candidates > 1 && op->type != OpType::kPut)) return false;
  op->sibling = *found;
  op->has_dot = true;
  return true;
}

}  // namespace

void Client::Get(int node, const std::string& bucket, const std::string& key, uint32_t r,
                 uint32_t timeout_ms, Done done) {
  Op op;
  op.type = OpType::kGet;
  op.bucket = bucket;
  op.key = key;
  op.quorum = r;
  op.node = node;
  Issue(std::move(op), timeout_ms, std::move(done));
}

void Client::Put(int node, const std::string& bucket, const std::string& key,
                 const std::string& value, const VersionVector& context, uint32_t w,
                 uint32_t timeout_ms, Done done, int64_t based_on) {
  Op op;
  op.type = OpType::kPut;
  op.bucket = bucket;
  op.key = key;
  op.value = value;
  op.context = context;
  op.based_on = based_on;
  op.quorum = w;
  op.node = node;
  Issue(std::move(op), timeout_ms, std::move(done));
}

void Client::Delete(int node, const std::string& bucket, const std::string& key,
                    const VersionVector& context, uint32_t w, uint32_t timeout_ms, Done done,
                    int64_t based_on) {
  Op op;
  op.type = OpType::kDelete;
  op.bucket = bucket;
  op.key = key;
  op.context = context;
  op.based_on = based_on;
  op.quorum = w;
  op.node = node;
  Issue(std::move(op), timeout_ms, std::move(done));
}

void Client::Issue(Op op, uint32_t timeout_ms, Done done) {
  SimWorld& world = cluster_->world();
  if (op.type != OpType::kGet && op.based_on < 0) op.based_on = pending_based_on_;
  if (op.type != OpType::kGet) pending_based_on_ = -1;
  op.client = id_;
  op.invoke_us = world.now();
  op.deadline_us = op.invoke_us + static_cast<int64_t>(timeout_ms) * 1000;
  // A request sent to a paused node, or one whose loop a slow disk blocks,
  // waits for the loop; one sent to a dead node is lost unseen (PickNode
  // falls back to any node when its tries find none up): excused from the
  // deadline.
  op.node_disturbances = !cluster_->up(op.node) || cluster_->paused(op.node) ||
                                 cluster_->slow(op.node)
                             ? ~uint64_t{0}
                             : cluster_->disturbances(op.node);
  Message m;
  m.request_id = next_request_++;
  m.timeout_ms = timeout_ms;
  if (op.type == OpType::kGet) {
    GetRequest g;
    g.bucket = op.bucket;
    g.key = op.key;
    g.r = op.quorum;
    m.body = std::move(g);
  } else {
    PutRequest p;
    p.bucket = op.bucket;
    p.key = op.key;
    p.value = op.value;
    p.tombstone = op.type == OpType::kDelete;
    p.context = op.context.empty() ? std::string() : EncodeContext(op.context, op.bucket, op.key);
    p.w = op.quorum;
    m.body = std::move(p);
  }
  uint64_t id = history_->Invoke(std::move(op)).id;
  auto shared_done = std::make_shared<Done>(std::move(done));
  cluster_->ClientCall(history_->at(id).node, std::move(m),
                       [this, id, shared_done](Message reply) {
                         bool first = history_->at(id).outcome == Outcome::kPending;
                         Complete(id, reply);
                         if (first && *shared_done) (*shared_done)(history_->at(id));
                       });
  int64_t watchdog = history_->at(id).deadline_us + Slack(*cluster_, timeout_ms);
  world.queue().At(watchdog, [this, id, shared_done] {
    Op& op = history_->at(id);
    if (op.outcome != Outcome::kPending) return;
    op.outcome = Outcome::kInfo;
    op.status = Status::Timeout("no reply (client watchdog)");
    if (cluster_->disturbances(op.node) == op.node_disturbances && cluster_->up(op.node)) {
      hangs_.push_back("no reply by the deadline from an undisturbed node: " + DescribeOp(op));
    }
    if (*shared_done) (*shared_done)(op);
  });
}

void Client::Complete(uint64_t op_id, const Message& reply) {
  Op& op = history_->at(op_id);
  bool late_after_watchdog = op.outcome == Outcome::kInfo;
  if (op.outcome != Outcome::kPending && !late_after_watchdog) return;
  op.complete_us = cluster_->world().now();
  Status st;
  if (const auto* g = std::get_if<GetReply>(&reply.body)) {
    st = g->status;
    op.found = g->found;
    op.object = g->object;
  } else if (const auto* p = std::get_if<PutReply>(&reply.body)) {
    st = p->status;
    op.object = p->object;
  } else if (const auto* e = std::get_if<ErrorReply>(&reply.body)) {
    st = e->status;
  } else {
    st = Status::Internal("unexpected reply type");
  }
  op.status = st;
  op.outcome = st.ok() ? Outcome::kOk : Outcome::kFail;
  if (st.ok() && op.type != OpType::kGet) FindDot(&op);
  int64_t limit = op.deadline_us + Slack(*cluster_, 0);
  if (op.complete_us > limit && !late_after_watchdog &&
      cluster_->disturbances(op.node) == op.node_disturbances) {
    hangs_.push_back("reply after the deadline: " + DescribeOp(op));
  }
}

ClientWorkload::ClientWorkload(SimCluster* cluster, History* history, WorkloadOptions options)
    : cluster_(cluster),
      history_(history),
      options_(std::move(options)),
      random_(cluster->world().DeriveSeed()) {
  for (int c = 0; c < options_.clients; ++c) {
    clients_.push_back(std::make_unique<Client>(cluster_, history_, c));
  }
}

std::string ClientWorkload::KeyName(int k) const { return "k" + std::to_string(k); }

void ClientWorkload::Start() {
  for (int c = 0; c < options_.clients; ++c) {
    int64_t at = options_.start_us + static_cast<int64_t>(random_.Uniform(options_.max_think_us + 1));
    cluster_->world().queue().At(at, [this, c] { Next(c); });
  }
}

int ClientWorkload::PickNode() {
  int n = cluster_->size();
  for (int tries = 0; tries < 4 * n; ++tries) {
    int i = static_cast<int>(random_.Uniform(n));
    if (!options_.only_live_nodes || cluster_->up(i)) return i;
  }
  return static_cast<int>(random_.Uniform(n));
}

void ClientWorkload::Schedule(int c) {
  int64_t think = static_cast<int64_t>(random_.Uniform(options_.max_think_us + 1));
  cluster_->world().queue().After(think, [this, c] { Next(c); });
}

void ClientWorkload::Next(int c) {
  if (cluster_->world().now() >= options_.end_us) return;
  Client& client = *clients_[c];
  const std::string key = options_.fresh_keys
                              ? "u" + std::to_string(next_key_++)
                              : KeyName(static_cast<int>(random_.Uniform(options_.keys)));
  const std::string& b = options_.bucket;
  int node = PickNode();
  int dice = static_cast<int>(random_.Uniform(100));
  uint32_t t = options_.timeout_ms;
  auto next = [this, c](const Op&) { Schedule(c); };
  if (dice < options_.put_pct) {
    client.Put(node, b, key, "v" + std::to_string(next_value_++), {}, options_.w, t, next);
  } else if (dice < options_.put_pct + options_.rmw_pct + options_.delete_pct) {
    bool is_delete = dice >= options_.put_pct + options_.rmw_pct;
    client.Get(node, b, key, options_.r, t, [this, c, node, b, key, is_delete, t](const Op& got) {
      if (got.outcome != Outcome::kOk || (is_delete && !got.found)) {
        Schedule(c);
        return;
      }
      auto next = [this, c](const Op&) { Schedule(c); };
      Client& client = *clients_[c];
      if (is_delete) {
        client.Delete(node, b, key, got.object.context, options_.w, t, next,
                      static_cast<int64_t>(got.id));
      } else {
        client.Put(node, b, key, "v" + std::to_string(next_value_++), got.object.context,
                   options_.w, t, next, static_cast<int64_t>(got.id));
      }
    });
  } else {
    client.Get(node, b, key, options_.r, t, next);
  }
}

std::vector<std::string> ClientWorkload::hangs() const {
  std::vector<std::string> all;
  for (const auto& c : clients_) all.insert(all.end(), c->hangs().begin(), c->hangs().end());
  return all;
}

}  // namespace ringkv::sim
