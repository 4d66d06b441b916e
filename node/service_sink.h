// ServiceSink: delivers what the server decodes to the node's Service, and
// tells the peer transport which peers are alive: the sender of any peer
// message, and every peer whose heartbeat a gossip message shows newer than
// the gossiper knew (also when it comes through a third node). Such evidence
// is better than an old failed connect: the transport reconnects at once
// (PeerTransport::HeardFrom). With ClientTokens, a client request the
// tokens do not allow is answered with its error (Unauthenticated or
// Forbidden) and never reaches the Service; refusals are counted. Runs on
// the loop, like the Service.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "common/metrics.h"
#include "node/client_tokens.h"
#include "node/message_sink.h"
#include "node/peer_transport.h"
#include "replication/service.h"

namespace ringkv {

// The nodes whose heartbeat in `gossip` is newer than in `known`: those
// whose heartbeat advanced since the gossiper last heard of them.
inline std::vector<NodeId> NewerHeartbeats(const Gossip& gossip,
                                           const std::map<NodeId, Heartbeat>& known) {
  std::vector<NodeId> newer;
  for (const Heartbeat& hb : gossip.heartbeats) {
    auto it = known.find(hb.node);
    if (it == known.end() || std::pair(hb.generation, hb.version) >
                                 std::pair(it->second.generation, it->second.version)) {
      newer.push_back(hb.node);
    }
  }
  return newer;
}

class ServiceSink : public MessageSink {
 public:
  // `tokens` (may be null: clients are not authenticated) and `metrics`
  // must outlive this.
  ServiceSink(Service* service, PeerTransport* transport, const ClientTokens* tokens = nullptr,
              MetricsRegistry* metrics = nullptr)
      : service_(service), transport_(transport), tokens_(tokens) {
    if (tokens_ == nullptr || metrics == nullptr) return;
    const char* name = "ringkv_client_auth_refused_total";
    const char* help =
        "Client requests refused by token authentication, by reason: unauthenticated (no "
        "token, or an unknown one) or forbidden (the token lacks the grant).";
    unauthenticated_ = metrics->AddCounter(name, help, {{"reason", "unauthenticated"}});
    forbidden_ = metrics->AddCounter(name, help, {{"reason", "forbidden"}});
  }
  void OnPeerMessage(Message&& message) override {
    transport_->HeardFrom(message.from);
    std::vector<NodeId> alive;
    if (const auto* gossip = std::get_if<Gossip>(&message.body);
        gossip != nullptr && service_->gossiper() != nullptr) {
      alive = NewerHeartbeats(*gossip, service_->gossiper()->heartbeats());
    }
    service_->OnPeerMessage(std::move(message));
    for (const NodeId& node : alive) transport_->HeardFrom(node);
  }
  void OnClientRequest(Message&& request, std::function<void(Message)> reply) override {
    if (Status st = Authorize(request); !st.ok()) {
      Message refusal;
      refusal.request_id = request.request_id;
      refusal.body = ErrorReply{std::move(st)};
      return reply(std::move(refusal));
    }
    service_->HandleClientRequest(std::move(request), std::move(reply));
  }

  // The token check of a client request, counted when it refuses; the HTTP
  // API asks it too, so both protocols share one rule and one counter.
  Status Authorize(const Message& request) {
    if (tokens_ == nullptr) return Status::OK();
    Status st = tokens_->Authorize(request);
    if (!st.ok()) {
      if (Counter* c = st.IsForbidden() ? forbidden_ : unauthenticated_) c->Increment();
    }
    return st;
  }

 private:
  Service* service_;
  PeerTransport* transport_;
  const ClientTokens* tokens_;
  Counter* unauthenticated_ = nullptr;
  Counter* forbidden_ = nullptr;
};

}  // namespace ringkv
