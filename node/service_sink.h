// ServiceSink: delivers what the server decodes to the node's Service, and
// tells the peer transport which peers are alive: the sender of any peer
// message, and every peer whose heartbeat a gossip message shows newer than
// the gossiper knew (also when it comes through a third node). Such evidence
// is better than an old failed connect: the transport reconnects at once
// (PeerTransport::HeardFrom). Runs on the loop, like the Service.
#pragma once

#include <map>
#include <utility>
#include <vector>

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
  ServiceSink(Service* service, PeerTransport* transport)
      : service_(service), transport_(transport) {}
  void OnPeerMessage(Message message) override {
    transport_->HeardFrom(message.from);
    std::vector<NodeId> alive;
    if (const auto* gossip = std::get_if<Gossip>(&message.body);
        gossip != nullptr && service_->gossiper() != nullptr) {
      alive = NewerHeartbeats(*gossip, service_->gossiper()->heartbeats());
    }
    service_->OnPeerMessage(std::move(message));
    for (const NodeId& node : alive) transport_->HeardFrom(node);
  }
  void OnClientRequest(Message request, std::function<void(Message)> reply) override {
    service_->HandleClientRequest(std::move(request), std::move(reply));
  }

 private:
  Service* service_;
  PeerTransport* transport_;
};

}  // namespace ringkv
