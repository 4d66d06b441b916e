// A MessageSink for server tests: keeps peer messages, answers each client
// request with a pong (padded on request), or holds its reply callback for
// the test to call, or drop, later. Single-threaded, like the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "node/message_sink.h"

namespace ringkv::testing {

class FakeSink : public MessageSink {
 public:
  void OnPeerMessage(Message&& message) override { peer.push_back(std::move(message)); }
  void OnClientRequest(Message&& request, std::function<void(Message)> reply) override {
    ++requests;
    if (hold_replies) {
      held.push_back(std::move(reply));
      return;
    }
    Message m;
    m.request_id = request.request_id;
    m.body = Pong{"fake" + std::string(reply_padding, '.')};
    reply(std::move(m));
  }
  // Calls the `i`th held reply callback with a pong.
  void AnswerHeld(size_t i, uint64_t request_id = 0) {
    Message pong;
    pong.request_id = request_id;
    pong.body = Pong{"late"};
    held[i](pong);
  }

  std::vector<Message> peer;
  int requests = 0;
  size_t reply_padding = 0;
  bool hold_replies = false;
  std::vector<std::function<void(Message)>> held;
};

}  // namespace ringkv::testing
