#include "client/client.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <utility>

#include "causality/object.h"
#include "causality/resolver.h"
#include "causality/object_codec.h"
#include "client/node_connection.h"
#include "common/hash.h"
#include "common/host_port.h"
#include "common/quorum.h"
#include "common/tls.h"
#include "proto/messages.h"
#include "ring/ring.h"

namespace ringkv {
namespace {

// The time a connect to one of `nodes_left` nodes still to try may take: an
// equal share of what is left, so that an address swallowing connection
// requests leaves time for the nodes after it. A connect that succeeds takes
// a round trip, far less than any share.
Deadline ConnectBy(Deadline deadline, size_t nodes_left) {
  const auto now = std::chrono::steady_clock::now();
  if (nodes_left <= 1 || deadline <= now) return deadline;
  return now + (deadline - now) / static_cast<int64_t>(nodes_left);
}

Status CheckOptions(const ClientOptions& options) {
  if (options.nodes.empty()) return Status::InvalidArgument("no node addresses given");
  for (const std::string& address : options.nodes) {
    Result<HostPort> parsed = ParseHostPort(address);
    if (!parsed.ok()) return parsed.status();
  }
  if (options.timeout_ms == 0) return Status::InvalidArgument("timeout must be positive");
  return Status::OK();
}

Status UnexpectedReply(const char* what) {
  return Status::Corruption(std::string("unexpected reply to a ") + what + " request");
}

Status ReplyError(const MessageBody& body, const char* what) {
  if (const auto* err = std::get_if<ErrorReply>(&body)) {
    return err->status.ok() ? Status::Internal("error reply without a status") : err->status;
  }
  return UnexpectedReply(what);
}

// The ring a node described: its owners when it sent them (rings changed
// by ring/ring_state.h), else Ring::Create's, which is deterministic.
Result<Ring> RingFrom(const RingInfo& info) {
  std::vector<NodeId> members;
  for (const RingMember& m : info.members) members.push_back(m.id);
  std::vector<NodeId> owners;
  for (uint32_t o : info.owners) {
    if (o >= members.size()) return Status::Corruption("ring from a node: owner out of range");
    owners.push_back(members[o]);
  }
  if (!owners.empty() && owners.size() != info.partitions) {
    return Status::Corruption("ring from a node: owners do not cover the partitions");
  }
  Result<Ring> ring =
      owners.empty() ? Ring::Create(std::move(members), info.partitions, info.n, info.epoch)
                     : Ring::FromOwners(std::move(members), std::move(owners), info.n, info.epoch);
  if (!ring.ok()) return Status::Corruption("unusable ring from a node: " + ring.status().message());
  return ring;
}

}  // namespace

class Client::Impl {
 public:
  Impl(ClientOptions options, std::shared_ptr<TlsContext> tls);

  // Opens a connection to the first node that accepts one (Client::Connect).
  Status ConnectFirst();
  Result<GetResult> Get(std::string_view bucket, std::string_view key, const ReadOptions& options);
  Result<PutResult> Put(std::string_view bucket, std::string_view key, std::string_view value,
                        const WriteOptions& options);
  Result<PutResult> Delete(std::string_view bucket, std::string_view key,
                           const WriteOptions& options);
  Result<std::string> Ping(uint32_t timeout_ms);
  Result<NodeView> StatusOf(const std::string& address, uint32_t timeout_ms);
  Result<RingView> RingOf(const std::string& address, uint32_t timeout_ms);
  const CircuitBreaker* breaker(const std::string& address) const;
  const std::string& last_node() const { return last_node_; }

 private:
  // The deadline of a request with this timeout (0: the client's default)
  // starting now.
  Deadline DeadlineFor(uint32_t timeout_ms) const;
  // Sends `body` to the current node, moving to the next one on connection
  // failures while time is left, and returns the reply's body.
  Result<MessageBody> Call(MessageBody body, Deadline deadline);
  // Sends `request` to node `i`, which is one of `nodes_left` nodes still to
  // try, (one fresh retry when a reused connection turns out dead) and tells
  // its breaker how that went.
  Result<Message> CallNode(size_t i, size_t nodes_left, Message* request, Deadline deadline);
  // Connects `conn` by `connect_by`, tells the node the time left until
  // `deadline` and waits for the reply until `deadline` plus kReplyGrace.
  static Result<Message> Exchange(NodeConnection* conn, Message* request, Deadline connect_by,
                                  Deadline deadline);
  Message NewRequest(MessageBody body);
  Result<GetResult> GetBy(std::string_view bucket, std::string_view key, const ReadOptions& options,
                          Deadline deadline);
  // Get coordinated by the client (ClientOptions::coordinate_reads).
  Result<GetResult> CoordinatedGet(std::string_view bucket, std::string_view key,
                                   const ReadOptions& options, Deadline deadline);
  // Sends `body` to the node at `address` (one of the client's nodes) and
  // to it only, even while its breaker is open: a direct question.
  Result<Message> AskNode(const std::string& address, MessageBody body, uint32_t timeout_ms);
  // Fetches the ring from a node unless it is known.
  Status EnsureRing(Deadline deadline);
  // The connection to a member's address: one of connections_ when the
  // address is in ClientOptions::nodes, else one made for it.
  NodeConnection* ConnectionTo(const std::string& address);
  const BucketInfo& BucketOf(std::string_view bucket) const;

  ClientOptions options_;
  std::shared_ptr<TlsContext> tls_;  // null: plain TCP
  std::vector<std::unique_ptr<NodeConnection>> connections_;  // one per node
  std::vector<CircuitBreaker> breakers_;                      // one per node
  size_t current_ = 0;                                        // index of the node tried first
  uint64_t next_request_id_ = 1;
  std::string last_node_;
  // Client-coordinated reads: the ring as last fetched (nullopt: fetch it).
  std::optional<RingInfo> ring_info_;
  std::optional<Ring> ring_;
  std::map<NodeId, std::string> member_addresses_;
  std::map<std::string, std::unique_ptr<NodeConnection>> extra_connections_;
};

Client::Impl::Impl(ClientOptions options, std::shared_ptr<TlsContext> tls)
    : options_(std::move(options)), tls_(std::move(tls)) {
  for (const std::string& address : options_.nodes) {
    connections_.push_back(std::make_unique<NodeConnection>(address, tls_.get()));
    breakers_.emplace_back(options_.breaker);
  }
}

Status Client::Impl::ConnectFirst() {
  const Deadline deadline = DeadlineFor(0);
  const size_t count = connections_.size();
  Status last;
  for (size_t i = 0; i < count; ++i) {
    last = connections_[i]->Open(ConnectBy(deadline, count - i));
    if (last.ok()) {
      current_ = i;
      return Status::OK();
    }
    breakers_[i].OnFailure();
  }
  if (count == 1) return last;
  return Status::Unavailable("no node accepted a connection; last: " + last.message());
}

Deadline Client::Impl::DeadlineFor(uint32_t timeout_ms) const {
  if (timeout_ms == 0) timeout_ms = options_.timeout_ms;
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
}

Message Client::Impl::NewRequest(MessageBody body) {
  Message request;
  request.request_id = next_request_id_++;
  request.auth_token = options_.token;
  request.body = std::move(body);
  return request;
}

Result<Message> Client::Impl::Exchange(NodeConnection* conn, Message* request, Deadline connect_by,
                                       Deadline deadline) {
  RINGKV_RETURN_IF_ERROR(conn->Open(connect_by));
  // The node gets what is left, not the whole timeout, so that its answer
  // (which says why a quorum was missed) comes by this request's deadline.
  // None left is not sent: on the wire 0 means "the node's default".
  request->timeout_ms = static_cast<uint32_t>(MillisecondsLeft(deadline));
  if (request->timeout_ms == 0) {
    return Status::Timeout("the deadline passed before the request could be sent to " +
                           conn->address());
  }
  return conn->Call(*request, deadline + kReplyGrace);
}

Result<Message> Client::Impl::CallNode(size_t i, size_t nodes_left, Message* request,
                                       Deadline deadline) {
  NodeConnection& conn = *connections_[i];
  const bool reused = conn.connected();
  Result<Message> reply = Exchange(&conn, request, ConnectBy(deadline, nodes_left), deadline);
  // A connection opened earlier may have died with a restarted node; one
  // fresh attempt tells that apart from a node that is really gone.
  if (!reply.ok() && reply.status().IsUnavailable() && reused) {
    reply = Exchange(&conn, request, ConnectBy(deadline, nodes_left), deadline);
  }
  if (reply.ok()) {
    breakers_[i].OnSuccess();
    last_node_ = conn.address();
  } else if (reply.status().IsUnavailable() || reply.status().IsTimeout()) {
    // The node did not answer at all; an answer saying "unavailable" is a
    // reply (ok here) and says nothing against the node itself.
    breakers_[i].OnFailure();
  }
  return reply;
}

Result<MessageBody> Client::Impl::Call(MessageBody body, Deadline deadline) {
  Message request = NewRequest(std::move(body));
  const size_t count = connections_.size();
  Status last;
  size_t tried = 0;
  for (size_t attempt = 0; attempt < count; ++attempt) {
    const size_t i = (current_ + attempt) % count;
    if (MillisecondsLeft(deadline) == 0) {
      return Status::Timeout(last.ok() ? "the deadline passed before the request was sent"
                                       : "the deadline passed; last: " + last.message());
    }
    if (!breakers_[i].Allow()) continue;
    ++tried;
    Result<Message> reply = CallNode(i, count - attempt, &request, deadline);
    if (reply.ok()) {
      current_ = i;
      return std::move(reply).value().body;
    }
    last = reply.status();
    // Only a connection failure moves on; a timeout used up the deadline and
    // a malformed reply is not cured by asking someone else.
    if (!last.IsUnavailable()) return last;
  }
  if (tried == 0) {
    return Status::Unavailable("every node is avoided after repeated failures; retrying later");
  }
  if (count == 1) return last;
  return Status::Unavailable("no node reachable; last: " + last.message());
}

Result<Message> Client::Impl::AskNode(const std::string& address, MessageBody body,
                                      uint32_t timeout_ms) {
  size_t i = 0;
  while (i < options_.nodes.size() && options_.nodes[i] != address) ++i;
  if (i == options_.nodes.size()) {
    return Status::InvalidArgument("node " + address + " is not one of the client's nodes");
  }
  Message request = NewRequest(std::move(body));
  return CallNode(i, 1, &request, DeadlineFor(timeout_ms));
}

Result<NodeView> Client::Impl::StatusOf(const std::string& address, uint32_t timeout_ms) {
  Result<Message> reply = AskNode(address, StatusRequest{}, timeout_ms);
  if (!reply.ok()) return reply.status();
  auto* status = std::get_if<NodeStatus>(&reply->body);
  if (status == nullptr) return ReplyError(reply->body, "status");
  NodeView view;
  view.node = std::move(status->node);
  view.incarnation = status->incarnation;
  view.ring_epoch = status->ring_epoch;
  for (const PeerState& p : status->peers) view.peers.push_back({p.node, p.up, p.phi});
  for (const HintCount& h : status->hints) view.hints.push_back({h.target, h.count});
  view.hints_delivered = status->hints_delivered;
  view.hint_write_failures = status->hint_write_failures;
  view.metrics = std::move(status->metrics);
  return view;
}

const CircuitBreaker* Client::Impl::breaker(const std::string& address) const {
  for (size_t i = 0; i < options_.nodes.size(); ++i) {
    if (options_.nodes[i] == address) return &breakers_[i];
  }
  return nullptr;
}

Result<GetResult> Client::Impl::Get(std::string_view bucket, std::string_view key,
                                    const ReadOptions& options) {
  return GetBy(bucket, key, options, DeadlineFor(options.timeout_ms));
}

Result<GetResult> Client::Impl::GetBy(std::string_view bucket, std::string_view key,
                                      const ReadOptions& options, Deadline deadline) {
  if (options_.coordinate_reads) return CoordinatedGet(bucket, key, options, deadline);
  GetRequest request;
  request.bucket = std::string(bucket);
  request.key = std::string(key);
  request.r = options.r;
  request.pr = options.pr;
  Result<MessageBody> body = Call(std::move(request), deadline);
  if (!body.ok()) return body.status();
  const auto* reply = std::get_if<GetReply>(&*body);
  if (reply == nullptr) return ReplyError(*body, "get");
  if (!reply->status.ok() && !reply->status.IsNotFound()) return reply->status;
  GetResult result;
  result.found = reply->status.ok() && reply->found && !reply->object.IsDeleted();
  if (result.found) {
    for (const Sibling* sibling : reply->object.Values()) result.values.push_back(sibling->value);
  }
  result.context = EncodeContext(reply->object.context, bucket, key);
  return result;
}

Status Client::Impl::EnsureRing(Deadline deadline) {
  if (ring_.has_value()) return Status::OK();
  Result<MessageBody> body = Call(RingRequest{}, deadline);
  if (!body.ok()) return body.status();
  auto* info = std::get_if<RingInfo>(&*body);
  if (info == nullptr) return ReplyError(*body, "ring");
  Result<Ring> ring = RingFrom(*info);
  if (!ring.ok()) return ring.status();
  member_addresses_.clear();
  for (const RingMember& m : info->members) member_addresses_[m.id] = m.address;
  ring_info_ = std::move(*info);
  ring_ = std::move(ring).value();
  return Status::OK();
}

Result<RingView> Client::Impl::RingOf(const std::string& address, uint32_t timeout_ms) {
  Result<Message> reply = AskNode(address, RingRequest{}, timeout_ms);
  if (!reply.ok()) return reply.status();
  auto* info = std::get_if<RingInfo>(&reply->body);
  if (info == nullptr) return ReplyError(reply->body, "ring");
  Result<Ring> ring = RingFrom(*info);
  if (!ring.ok()) return ring.status();
  RingView view;
  view.epoch = info->epoch;
  view.n = ring->n();
  std::map<NodeId, uint32_t> owned;
  for (uint32_t p = 0; p < ring->partitions(); ++p) {
    view.owners.push_back(ring->Owner(p));
    ++owned[ring->Owner(p)];
  }
  for (const RingMember& m : info->members) view.members.push_back({m.id, m.address, owned[m.id]});
  std::sort(view.members.begin(), view.members.end(),
            [](const RingMemberView& a, const RingMemberView& b) { return a.node < b.node; });
  view.violations = ring->Report().violations;
  return view;
}

NodeConnection* Client::Impl::ConnectionTo(const std::string& address) {
  for (size_t i = 0; i < options_.nodes.size(); ++i) {
    if (options_.nodes[i] == address) return connections_[i].get();
  }
  std::unique_ptr<NodeConnection>& conn = extra_connections_[address];
  if (conn == nullptr) conn = std::make_unique<NodeConnection>(address, tls_.get());
  return conn.get();
}

const BucketInfo& Client::Impl::BucketOf(std::string_view bucket) const {
  for (const BucketInfo& b : ring_info_->buckets) {
    if (b.name == bucket) return b;
  }
  return ring_info_->default_bucket;
}

Result<GetResult> Client::Impl::CoordinatedGet(std::string_view bucket, std::string_view key,
                                               const ReadOptions& options, Deadline deadline) {
  RINGKV_RETURN_IF_ERROR(EnsureRing(deadline));
  const BucketInfo& props = BucketOf(bucket);
  const uint32_t n = props.n != 0 ? props.n : ring_->n();
  Result<uint32_t> r = ResolveQuorum(options.r, props.r, n, "r");
  if (!r.ok()) return r.status();
  Result<uint32_t> pr = ResolveQuorum(options.pr, 0, n, "pr");
  if (!pr.ok()) return pr.status();
  const uint32_t need = std::max({*r, *pr, 1u});
  // The client merges the answers as a node would, so it needs the same
  // resolver; one it does not have (a plugin) only a node can apply.
  const Resolver* resolver = FindResolver(props.resolver);
  if (resolver == nullptr) {
    return Status::InvalidArgument("bucket " + std::string(bucket) + " resolves by '" + props.resolver +
                                   "', which this client cannot apply: read through a node");
  }
  const std::vector<NodeId> primaries = ring_->PrimariesFor(KeyHash(bucket, key), n);

  // The client is the coordinator, so the answers are awaited until the
  // deadline itself, without the grace left for a node's answer.
  struct Pending {
    NodeConnection* conn;
    uint64_t id;
  };
  std::vector<Pending> pending;
  bool unreachable = false;
  for (size_t k = 0; k < primaries.size(); ++k) {
    auto it = member_addresses_.find(primaries[k]);
    if (it == member_addresses_.end() || it->second.empty()) {
      unreachable = true;
      continue;
    }
    NodeConnection* conn = ConnectionTo(it->second);
    // Connected one after another, each in an equal share of the time left
    // among the replicas still to connect and the wait for the answers, so
    // that a replica swallowing connection requests neither keeps the others
    // from being asked nor leaves no time to hear them.
    if (!conn->Open(ConnectBy(deadline, primaries.size() - k + 1)).ok()) {
      unreachable = true;
      continue;
    }
    Message request = NewRequest(ReplicaGetRequest{std::string(bucket), std::string(key)});
    request.timeout_ms = static_cast<uint32_t>(MillisecondsLeft(deadline));
    if (request.timeout_ms == 0) break;
    if (conn->Send(request, deadline).ok()) {
      pending.push_back({conn, request.request_id});
    } else {
      unreachable = true;
    }
  }

  std::vector<ReplicaGetReply> answers;
  std::vector<NodeConnection*> answered;  // open connections, for the repair
  while (answers.size() < need && !pending.empty()) {
    std::vector<pollfd> fds;
    for (const Pending& p : pending) fds.push_back({p.conn->fd(), POLLIN, 0});
    // At the deadline the answers that already arrived are still read.
    const int left = MillisecondsLeft(deadline);
    const int ready = ::poll(fds.data(), fds.size(), left);
    if (ready < 0 && errno != EINTR) break;
    for (size_t i = fds.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      Result<std::optional<Message>> got = pending[i].conn->TryReceive(pending[i].id);
      if (got.ok() && !got->has_value()) continue;
      if (!got.ok()) {
        unreachable = got.status().IsUnavailable() || unreachable;
      } else if (auto* reply = std::get_if<ReplicaGetReply>(&(*got)->body);
                 reply != nullptr && reply->status.ok()) {
        answers.push_back(std::move(*reply));
        answered.push_back(pending[i].conn);
      }
      pending.erase(pending.begin() + static_cast<ptrdiff_t>(i));
    }
    if (left == 0) break;
  }
  // A replica that could not be reached may mean the ring moved on.
  if (unreachable) ring_.reset();
  if (answers.size() < need) {
    return Status::Unavailable(std::to_string(answers.size()) + " of " + std::to_string(need) +
                               " required replicas answered");
  }

  Object merged;
  bool found = false;
  bool differ = false;
  for (const ReplicaGetReply& a : answers) {
    if (a.found != answers.front().found || !(a.object == answers.front().object)) differ = true;
    if (!a.found) continue;
    merged = found ? resolver->Merge(merged, a.object) : resolver->Normalize(a.object);
    found = true;
  }
  if (differ && !answers.empty()) {
    // Best effort: a node coordinating a read at r=all repairs every stale
    // replica; its answer is not awaited (skipped later by request id).
    // It goes to a replica that just answered, so no connect can delay
    // this read, and the node gets a whole timeout for work done after it.
    GetRequest repair{std::string(bucket), std::string(key), kQuorumAll, kQuorumDefault};
    Message request = NewRequest(std::move(repair));
    request.timeout_ms = options.timeout_ms != 0 ? options.timeout_ms : options_.timeout_ms;
    for (NodeConnection* conn : answered) {
      if (conn->Send(request, deadline + kReplyGrace).ok()) break;
    }
  }

  GetResult result;
  result.found = found && !merged.IsDeleted();
  if (result.found) {
    for (const Sibling* sibling : merged.Values()) result.values.push_back(sibling->value);
  }
  result.context = EncodeContext(merged.context, bucket, key);
  return result;
}

namespace {

Result<PutResult> PutResultFrom(const MessageBody& body, std::string_view bucket,
                                std::string_view key) {
  const auto* reply = std::get_if<PutReply>(&body);
  if (reply == nullptr) return ReplyError(body, "put");
  if (!reply->status.ok()) return reply->status;
  return PutResult{EncodeContext(reply->object.context, bucket, key),
                   static_cast<uint32_t>(reply->object.Values().size())};
}

Result<PutRequest> MakePut(std::string_view bucket, std::string_view key,
                           const WriteOptions& options) {
  if (!options.context.empty()) {
    Result<ClientContext> context = DecodeContext(options.context);
    if (!context.ok()) {
      return Status::InvalidArgument("bad context: " + context.status().message());
    }
  }
  PutRequest request;
  request.bucket = std::string(bucket);
  request.key = std::string(key);
  request.context = options.context;
  request.w = options.w;
  request.pw = options.pw;
  request.if_match = options.if_match;
  return request;
}

}  // namespace

Result<PutResult> Client::Impl::Put(std::string_view bucket, std::string_view key,
                                    std::string_view value, const WriteOptions& options) {
  Result<PutRequest> request = MakePut(bucket, key, options);
  if (!request.ok()) return request.status();
  request->value = std::string(value);
  Result<MessageBody> body = Call(std::move(request).value(), DeadlineFor(options.timeout_ms));
  if (!body.ok()) return body.status();
  return PutResultFrom(*body, bucket, key);
}

Result<PutResult> Client::Impl::Delete(std::string_view bucket, std::string_view key,
                                       const WriteOptions& options) {
  // The read (when there is one) and the write share one deadline.
  const Deadline deadline = DeadlineFor(options.timeout_ms);
  WriteOptions with_context = options;
  if (with_context.context.empty()) {
    // A tombstone without a context would only be one more sibling beside
    // the values; read first so the delete covers what is there now.
    Result<GetResult> current = GetBy(bucket, key, ReadOptions{}, deadline);
    if (!current.ok()) return current.status();
    with_context.context = std::move(current->context);
  }
  Result<PutRequest> request = MakePut(bucket, key, with_context);
  if (!request.ok()) return request.status();
  request->tombstone = true;
  Result<MessageBody> body = Call(std::move(request).value(), deadline);
  if (!body.ok()) return body.status();
  return PutResultFrom(*body, bucket, key);
}

Result<std::string> Client::Impl::Ping(uint32_t timeout_ms) {
  Result<MessageBody> body = Call(ringkv::Ping{}, DeadlineFor(timeout_ms));
  if (!body.ok()) return body.status();
  const auto* pong = std::get_if<Pong>(&*body);
  if (pong == nullptr) return ReplyError(*body, "ping");
  return pong->node;
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  RINGKV_RETURN_IF_ERROR(CheckOptions(options));
  std::shared_ptr<TlsContext> tls;
  if (!options.tls.ca.empty()) {
    Result<std::shared_ptr<TlsContext>> ctx =
        TlsContext::ForClient(TlsFiles{options.tls.ca, options.tls.cert, options.tls.key});
    if (!ctx.ok()) return Status::InvalidArgument("TLS: " + ctx.status().message());
    tls = *ctx;
  } else if (!options.tls.cert.empty() || !options.tls.key.empty()) {
    return Status::InvalidArgument("a TLS client certificate needs the CA file too");
  }
  return std::unique_ptr<Client>(
      new Client(std::make_unique<Impl>(std::move(options), std::move(tls))));
}

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  Result<std::unique_ptr<Client>> client = Create(std::move(options));
  if (!client.ok()) return client.status();
  RINGKV_RETURN_IF_ERROR((*client)->impl_->ConnectFirst());
  return client;
}

Result<GetResult> Client::Get(std::string_view bucket, std::string_view key,
                              const ReadOptions& options) {
  return impl_->Get(bucket, key, options);
}

Result<PutResult> Client::Put(std::string_view bucket, std::string_view key, std::string_view value,
                              const WriteOptions& options) {
  return impl_->Put(bucket, key, value, options);
}

Result<PutResult> Client::Delete(std::string_view bucket, std::string_view key,
                                 const WriteOptions& options) {
  return impl_->Delete(bucket, key, options);
}

Result<std::string> Client::Ping(uint32_t timeout_ms) { return impl_->Ping(timeout_ms); }

Result<NodeView> Client::StatusOf(const std::string& address, uint32_t timeout_ms) {
  return impl_->StatusOf(address, timeout_ms);
}

Result<RingView> Client::RingOf(const std::string& address, uint32_t timeout_ms) {
  return impl_->RingOf(address, timeout_ms);
}

const CircuitBreaker* Client::breaker(const std::string& address) const {
  return impl_->breaker(address);
}

const std::string& Client::last_node() const { return impl_->last_node(); }

}  // namespace ringkv
