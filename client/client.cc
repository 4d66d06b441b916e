#include "client/client.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "causality/object.h"
#include "causality/object_codec.h"
#include "client/node_connection.h"
#include "common/hash.h"
#include "common/host_port.h"
#include "proto/quorum.h"

namespace ringkv {
namespace {

// How much longer than the node's deadline the client waits for the node's
// own "timeout"/"unavailable" answer, which says more than a bare timeout.
constexpr std::chrono::milliseconds kReplyGrace{200};

Deadline DeadlineIn(uint32_t timeout_ms) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms) + kReplyGrace;
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

}  // namespace

Client::Client(ClientOptions options) : options_(std::move(options)) {
  for (const std::string& address : options_.nodes) {
    connections_.push_back(std::make_unique<NodeConnection>(address));
    breakers_.emplace_back(options_.breaker);
  }
}

Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.nodes.empty()) return Status::InvalidArgument("no node addresses given");
  for (const std::string& address : options.nodes) {
    Result<HostPort> parsed = ParseHostPort(address);
    if (!parsed.ok()) return parsed.status();
  }
  if (options.timeout_ms == 0) return Status::InvalidArgument("timeout must be positive");
  std::unique_ptr<Client> client(new Client(std::move(options)));
  Status last;
  for (size_t i = 0; i < client->connections_.size(); ++i) {
    last = client->connections_[i]->Open(DeadlineIn(client->options_.timeout_ms));
    if (last.ok()) {
      client->current_ = i;
      return client;
    }
    client->breakers_[i].OnFailure();
  }
  if (client->connections_.size() == 1) return last;
  return Status::Unavailable("no node accepted a connection; last: " + last.message());
}

Message Client::NewRequest(MessageBody body, uint32_t* timeout_ms) {
  if (*timeout_ms == 0) *timeout_ms = options_.timeout_ms;
  Message request;
  request.request_id = next_request_id_++;
  request.timeout_ms = *timeout_ms;
  request.body = std::move(body);
  return request;
}

Result<Message> Client::CallNode(size_t i, const Message& request, Deadline deadline) {
  NodeConnection& conn = *connections_[i];
  const bool reused = conn.connected();
  Result<Message> reply = conn.Call(request, deadline);
  // A connection opened earlier may have died with a restarted node; one
  // fresh attempt tells that apart from a node that is really gone.
  if (!reply.ok() && reply.status().IsUnavailable() && reused) {
    reply = conn.Call(request, deadline);
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

Result<MessageBody> Client::Call(MessageBody body, uint32_t timeout_ms) {
  const Message request = NewRequest(std::move(body), &timeout_ms);
  const Deadline deadline = DeadlineIn(timeout_ms);
  Status last;
  size_t tried = 0;
  for (size_t attempt = 0; attempt < connections_.size(); ++attempt) {
    const size_t i = (current_ + attempt) % connections_.size();
    if (!breakers_[i].Allow()) continue;
    ++tried;
    Result<Message> reply = CallNode(i, request, deadline);
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
  if (connections_.size() == 1) return last;
  return Status::Unavailable("no node reachable; last: " + last.message());
}

Result<NodeStatus> Client::StatusOf(const std::string& address, uint32_t timeout_ms) {
  size_t i = 0;
  while (i < options_.nodes.size() && options_.nodes[i] != address) ++i;
  if (i == options_.nodes.size()) {
    return Status::InvalidArgument("node " + address + " is not one of the client's nodes");
  }
  const Message request = NewRequest(StatusRequest{}, &timeout_ms);
  Result<Message> reply = CallNode(i, request, DeadlineIn(timeout_ms));
  if (!reply.ok()) return reply.status();
  auto* status = std::get_if<NodeStatus>(&reply->body);
  if (status == nullptr) return ReplyError(reply->body, "status");
  return std::move(*status);
}

const CircuitBreaker* Client::breaker(const std::string& address) const {
  for (size_t i = 0; i < options_.nodes.size(); ++i) {
    if (options_.nodes[i] == address) return &breakers_[i];
  }
  return nullptr;
}

Result<GetResult> Client::Get(std::string_view bucket, std::string_view key,
                              const ReadOptions& options) {
  if (options_.coordinate_reads) return CoordinatedGet(bucket, key, options);
  GetRequest request;
  request.bucket = std::string(bucket);
  request.key = std::string(key);
  request.r = options.r;
  request.pr = options.pr;
  Result<MessageBody> body = Call(std::move(request), options.timeout_ms);
  if (!body.ok()) return body.status();
  const auto* reply = std::get_if<GetReply>(&*body);
  if (reply == nullptr) return ReplyError(*body, "get");
  if (!reply->status.ok() && !reply->status.IsNotFound()) return reply->status;
  GetResult result;
  result.found = reply->status.ok() && reply->found && !reply->object.IsDeleted();
  if (result.found) {
    for (const Sibling* sibling : reply->object.Values()) result.values.push_back(sibling->value);
  }
  result.context = EncodeContext(reply->object.context);
  return result;
}

Status Client::EnsureRing(uint32_t timeout_ms) {
  if (ring_.has_value()) return Status::OK();
  Result<MessageBody> body = Call(RingRequest{}, timeout_ms);
  if (!body.ok()) return body.status();
  auto* info = std::get_if<RingInfo>(&*body);
  if (info == nullptr) return ReplyError(*body, "ring");
  std::vector<NodeId> members;
  std::map<NodeId, std::string> addresses;
  for (const RingMember& m : info->members) {
    members.push_back(m.id);
    addresses[m.id] = m.address;
  }
  Result<Ring> ring = Ring::Create(std::move(members), info->partitions, info->n);
  if (!ring.ok()) return Status::Corruption("unusable ring from a node: " + ring.status().message());
  ring_info_ = std::move(*info);
  ring_ = std::move(ring).value();
  member_addresses_ = std::move(addresses);
  return Status::OK();
}

NodeConnection* Client::ConnectionTo(const std::string& address) {
  for (size_t i = 0; i < options_.nodes.size(); ++i) {
    if (options_.nodes[i] == address) return connections_[i].get();
  }
  std::unique_ptr<NodeConnection>& conn = extra_connections_[address];
  if (conn == nullptr) conn = std::make_unique<NodeConnection>(address);
  return conn.get();
}

const BucketInfo& Client::BucketOf(std::string_view bucket) const {
  for (const BucketInfo& b : ring_info_->buckets) {
    if (b.name == bucket) return b;
  }
  return ring_info_->default_bucket;
}

Result<GetResult> Client::CoordinatedGet(std::string_view bucket, std::string_view key,
                                         const ReadOptions& options) {
  uint32_t timeout_ms = options.timeout_ms == 0 ? options_.timeout_ms : options.timeout_ms;
  RINGKV_RETURN_IF_ERROR(EnsureRing(timeout_ms));
  const BucketInfo& props = BucketOf(bucket);
  const uint32_t n = props.n != 0 ? props.n : ring_->n();
  Result<uint32_t> r = ResolveQuorum(options.r, props.r, n, "r");
  if (!r.ok()) return r.status();
  Result<uint32_t> pr = ResolveQuorum(options.pr, 0, n, "pr");
  if (!pr.ok()) return pr.status();
  const uint32_t need = std::max({*r, *pr, 1u});
  const bool lww = props.resolver == static_cast<uint8_t>(ResolverKind::kLww);
  const std::vector<NodeId> primaries = ring_->PrimariesFor(KeyHash(bucket, key), n);

  // The node's deadline has no grace here: the client is the coordinator.
  const Deadline deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  struct Pending {
    NodeConnection* conn;
    uint64_t id;
  };
  std::vector<Pending> pending;
  bool unreachable = false;
  for (const NodeId& node : primaries) {
    auto it = member_addresses_.find(node);
    if (it == member_addresses_.end() || it->second.empty()) {
      unreachable = true;
      continue;
    }
    NodeConnection* conn = ConnectionTo(it->second);
    Message request = NewRequest(ReplicaGetRequest{std::string(bucket), std::string(key)},
                                 &timeout_ms);
    if (conn->Send(request, deadline).ok()) {
      pending.push_back({conn, request.request_id});
    } else {
      unreachable = true;
    }
  }

  std::vector<ReplicaGetReply> answers;
  while (answers.size() < need && !pending.empty()) {
    std::vector<pollfd> fds;
    for (const Pending& p : pending) fds.push_back({p.conn->fd(), POLLIN, 0});
    const int left = MillisecondsLeft(deadline);
    if (left == 0) break;
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
      }
      pending.erase(pending.begin() + static_cast<ptrdiff_t>(i));
    }
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
    merged = found ? Sync(merged, a.object) : a.object;
    found = true;
  }
  if (lww) merged = ResolveLww(std::move(merged));
  if (differ && !answers.empty()) {
    // Best effort: a node coordinating a read at r=all repairs every stale
    // replica; its answer is not awaited (skipped later by request id).
    GetRequest repair{std::string(bucket), std::string(key), kQuorumAll, kQuorumDefault};
    Message request = NewRequest(std::move(repair), &timeout_ms);
    for (const NodeId& node : primaries) {
      auto it = member_addresses_.find(node);
      if (it == member_addresses_.end() || it->second.empty()) continue;
      if (ConnectionTo(it->second)->Send(request, deadline).ok()) break;
    }
  }

  GetResult result;
  result.found = found && !merged.IsDeleted();
  if (result.found) {
    for (const Sibling* sibling : merged.Values()) result.values.push_back(sibling->value);
  }
  result.context = EncodeContext(merged.context);
  return result;
}

namespace {

Result<PutResult> PutResultFrom(const MessageBody& body) {
  const auto* reply = std::get_if<PutReply>(&body);
  if (reply == nullptr) return ReplyError(body, "put");
  if (!reply->status.ok()) return reply->status;
  return PutResult{EncodeContext(reply->object.context)};
}

Result<PutRequest> MakePut(std::string_view bucket, std::string_view key,
                           const WriteOptions& options) {
  if (!options.context.empty()) {
    Result<VersionVector> context = DecodeContext(options.context);
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
  return request;
}

}  // namespace

Result<PutResult> Client::Put(std::string_view bucket, std::string_view key, std::string_view value,
                              const WriteOptions& options) {
  Result<PutRequest> request = MakePut(bucket, key, options);
  if (!request.ok()) return request.status();
  request->value = std::string(value);
  Result<MessageBody> body = Call(std::move(request).value(), options.timeout_ms);
  if (!body.ok()) return body.status();
  return PutResultFrom(*body);
}

Result<PutResult> Client::Delete(std::string_view bucket, std::string_view key,
                                 const WriteOptions& options) {
  WriteOptions with_context = options;
  if (with_context.context.empty()) {
    // A tombstone without a context would only be one more sibling beside
    // the values; read first so the delete covers what is there now.
    ReadOptions read;
    read.timeout_ms = options.timeout_ms;
    Result<GetResult> current = Get(bucket, key, read);
    if (!current.ok()) return current.status();
    with_context.context = std::move(current->context);
  }
  Result<PutRequest> request = MakePut(bucket, key, with_context);
  if (!request.ok()) return request.status();
  request->tombstone = true;
  Result<MessageBody> body = Call(std::move(request).value(), options.timeout_ms);
  if (!body.ok()) return body.status();
  return PutResultFrom(*body);
}

Result<std::string> Client::Ping(uint32_t timeout_ms) {
  Result<MessageBody> body = Call(ringkv::Ping{}, timeout_ms);
  if (!body.ok()) return body.status();
  const auto* pong = std::get_if<Pong>(&*body);
  if (pong == nullptr) return ReplyError(*body, "ping");
  return pong->node;
}

}  // namespace ringkv
