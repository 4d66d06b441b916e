#include "replication/service.h"

#include <utility>

#include "common/hash.h"
#include "proto/codec.h"
#include "replication/coordinator.h"
#include "replication/object_store.h"
#include "replication/replica.h"

namespace ringkv {

Service::Service(ServiceOptions options, Ring ring, ServiceEnv env)
    : options_(std::move(options)),
      ring_(std::move(ring)),
      env_(env),
      store_(std::make_unique<ObjectStore>(env.storage, options_.sync_writes)),
      replica_(std::make_unique<Replica>(Actor{options_.self, options_.incarnation},
                                         &options_.buckets, store_.get(), env.clock)),
      coordinator_(std::make_unique<Coordinator>(&options_, &ring_, env, replica_.get())) {}

Service::~Service() = default;

int64_t Service::DeadlineFor(const Message& m) const {
  uint32_t ms = m.timeout_ms ? m.timeout_ms : options_.default_timeout_ms;
  return env_.clock->MonoMicros() + static_cast<int64_t>(ms) * 1000;
}

void Service::HandleClientRequest(Message request, std::function<void(Message)> reply) {
  uint64_t id = request.request_id;
  auto respond = [id, reply = std::move(reply)](MessageBody body) {
    Message m;
    m.request_id = id;
    m.body = std::move(body);
    reply(std::move(m));
  };
  int64_t deadline = DeadlineFor(request);
  if (std::holds_alternative<Ping>(request.body)) {
    respond(Pong{options_.self});
  } else if (auto* get = std::get_if<GetRequest>(&request.body)) {
    coordinator_->Get(*get, deadline, [respond](GetReply r) { respond(std::move(r)); });
  } else if (auto* put = std::get_if<PutRequest>(&request.body)) {
    // A client cannot claim a put was already forwarded.
    put->forwarded = false;
    coordinator_->Put(*put, deadline, [respond](PutReply r) { respond(std::move(r)); });
  } else {
    respond(ErrorReply{Status::InvalidArgument("not a client request")});
  }
}

void Service::SendTo(const NodeId& to, uint64_t request_id, MessageBody body) {
  Message m;
  m.request_id = request_id;
  m.from = options_.self;
  m.body = std::move(body);
  env_.transport->Send(to, EncodeMessage(m));
}

void Service::OnPeerMessage(Message message) {
  const NodeId from = message.from;
  const uint64_t id = message.request_id;
  if (auto* get = std::get_if<ReplicaGetRequest>(&message.body)) {
    ReplicaGetReply reply;
    auto local = replica_->Read(ring_.PartitionOf(KeyHash(get->bucket, get->key)), get->bucket,
                                get->key);
    if (!local.ok()) {
      reply.status = local.status();
    } else if (local->has_value()) {
      reply.found = true;
      reply.object = std::move(**local);
    }
    SendTo(from, id, std::move(reply));
  } else if (auto* put = std::get_if<ReplicaPutRequest>(&message.body)) {
    auto merged = replica_->Merge(ring_.PartitionOf(KeyHash(put->bucket, put->key)), put->bucket,
                                  put->key, put->object);
    SendTo(from, id, ReplicaPutReply{merged.status()});
  } else if (auto* fwd = std::get_if<PutRequest>(&message.body)) {
    coordinator_->Put(*fwd, DeadlineFor(message),
                      [this, from, id](PutReply r) { SendTo(from, id, std::move(r)); });
  } else if (std::holds_alternative<Ping>(message.body)) {
    SendTo(from, id, Pong{options_.self});
  } else if (std::holds_alternative<GetRequest>(message.body)) {
    coordinator_->Get(std::get<GetRequest>(message.body), DeadlineFor(message),
                      [this, from, id](GetReply r) { SendTo(from, id, std::move(r)); });
  } else {
    coordinator_->OnReply(message);
  }
}

}  // namespace ringkv
