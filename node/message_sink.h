// MessageSink: where the server delivers decoded messages. The node wires it
// to Service (node/service_sink.h); tests wire a fake. Called only on the
// server's loop.
#pragma once

#include <functional>

#include "proto/messages.h"

namespace ringkv {

class MessageSink {
 public:
  virtual ~MessageSink() = default;
  // A message with a non-empty `from`: one-way, never answered on the
  // connection it came in on. Taken by reference down to its handler, so
  // the decoded message is not moved again on its way.
  virtual void OnPeerMessage(Message&& message) = 0;
  // A client request; `reply` may be called once, now or later, and is a
  // no-op if the connection has closed meanwhile.
  virtual void OnClientRequest(Message&& request, std::function<void(Message)> reply) = 0;
};

}  // namespace ringkv
