// Transport: how protocol code sends bytes to another node.
//
// Delivery is best effort: a message may be lost, delayed, duplicated or
// reordered (the simulator does all four), so protocol code matches replies by
// request id and relies on its own deadlines. Messages to a node are
// delivered to that node's Service::OnPeerMessage on its loop. Not
// thread-safe: called only from the owning loop.
#pragma once

#include <string>
#include <string_view>

namespace ringkv {

using NodeId = std::string;

class Transport {
 public:
  virtual ~Transport() = default;
  // Queues one encoded message (proto/codec.h) for `to`. Never blocks.
  virtual void Send(const NodeId& to, std::string bytes) = 0;
};

}  // namespace ringkv
