#include "ring/membership.h"

#include <algorithm>

namespace ringkv {

bool Membership::Publish(Ring next, Addresses addresses) {
  if (next.epoch() <= ring_.epoch()) return false;
  Ring previous = std::exchange(ring_, std::move(next));
  addresses_ = std::move(addresses);
  // A copy: a listener may subscribe or unsubscribe while being told.
  auto listeners = listeners_;
  for (const auto& [id, listener] : listeners) listener(previous);
  return true;
}

Membership::SubscriptionId Membership::Subscribe(Listener listener) {
  const SubscriptionId id = next_id_++;
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void Membership::Unsubscribe(SubscriptionId id) {
  std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
}

}  // namespace ringkv
