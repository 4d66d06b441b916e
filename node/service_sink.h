// ServiceSink: delivers what the server decodes to the node's Service, and
// tells the peer transport that the sender is alive (a message from a peer
// is better evidence than an old failed connect). Runs on the loop, like the
// Service.
#pragma once

#include <utility>

#include "node/message_sink.h"
#include "node/peer_transport.h"
#include "replication/service.h"

namespace ringkv {

class ServiceSink : public MessageSink {
 public:
  ServiceSink(Service* service, PeerTransport* transport)
      : service_(service), transport_(transport) {}
  void OnPeerMessage(Message message) override {
    transport_->HeardFrom(message.from);
    service_->OnPeerMessage(std::move(message));
  }
  void OnClientRequest(Message request, std::function<void(Message)> reply) override {
    service_->HandleClientRequest(std::move(request), std::move(reply));
  }

 private:
  Service* service_;
  PeerTransport* transport_;
};

}  // namespace ringkv
