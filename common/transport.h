// Transport: how protocol code sends bytes to another node.
//
// Delivery is best effort: a message may be lost, delayed, duplicated or
// reordered (the simulator does all four), so protocol code matches replies by
// request id and relies on its own deadlines. Messages to a node are
// delivered to that node's Service::OnPeerMessage on its loop. Not
// thread-safe: called only from the owning loop.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace ringkv {

using NodeId = std::string;

class Transport {
 public:
  virtual ~Transport() = default;
  // Queues one encoded message (proto/codec.h) for `to`. Never blocks.
  virtual void Send(const NodeId& to, std::string bytes) = 0;

  // `to` is told of when messages to it were dropped because no connection
  // to it could be made (refused, failed, or in back-off after that): what
  // was sent to it since its last connection will not be answered, and
  // waiting for the deadline would only delay the hint and the stand-in.
  // Best effort: no call does not promise delivery. Set once, by the node's
  // PeerRpc; called on the loop, possibly from inside Send.
  using LinkDownHandler = std::function<void(const NodeId& to)>;
  void SetLinkDownHandler(LinkDownHandler handler) { link_down_ = std::move(handler); }

 protected:
  void NotifyLinkDown(const NodeId& to) {
    if (link_down_) link_down_(to);
  }

 private:
  LinkDownHandler link_down_;
};

}  // namespace ringkv
