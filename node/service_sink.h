// ServiceSink: delivers what the server decodes to the node's Service.
// Runs on the loop, like the Service.
#pragma once

#include <utility>

#include "node/message_sink.h"
#include "replication/service.h"

namespace ringkv {

class ServiceSink : public MessageSink {
 public:
  explicit ServiceSink(Service* service) : service_(service) {}
  void OnPeerMessage(Message message) override { service_->OnPeerMessage(std::move(message)); }
  void OnClientRequest(Message request, std::function<void(Message)> reply) override {
    service_->HandleClientRequest(std::move(request), std::move(reply));
  }

 private:
  Service* service_;
};

}  // namespace ringkv
