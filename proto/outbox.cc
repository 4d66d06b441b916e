#include "proto/outbox.h"

#include <utility>

#include "proto/codec.h"

namespace ringkv {

void Outbox::Send(const NodeId& to, Message m) {
  m.from = self_;
  m.sender_generation = generation_;
  m.sent_mono_us = clock_->MonoMicros();
  transport_->Send(to, EncodeMessage(m));
}

}  // namespace ringkv
