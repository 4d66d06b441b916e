#include "http/probes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "storage/keys.h"

namespace ringkv::http {

Readiness CheckReadiness(Service& service, Storage* storage) {
  Readiness out;
  std::string ignored;
  if (Status st = storage->Get(MetaKey(kMetaIncarnation), &ignored); !st.ok()) {
    out.reasons.push_back("storage: " + st.ToString());
  }
  const Ring& ring = service.ring();
  const NodeId& self = service.options().self;
  const std::vector<NodeId>& members = ring.members();
  if (std::find(members.begin(), members.end(), self) == members.end()) {
    out.reasons.push_back("not a member of ring epoch " + std::to_string(service.membership().epoch()));
  }
  out.members = static_cast<uint32_t>(members.size());
  out.members_up = 1;
  std::vector<std::string> down;
  for (const PeerState& peer : service.StatusReport().peers) {
    if (peer.node == self) continue;
    if (peer.up) {
      ++out.members_up;
    } else {
      down.push_back(peer.node);
    }
  }
  const BucketProps& defaults = service.options().buckets.defaults();
  out.needed = std::min(std::max(defaults.r, defaults.w), out.members);
  if (out.members_up < out.needed) {
    std::string names;
    for (const std::string& d : down) names += (names.empty() ? "" : ",") + d;
    out.reasons.push_back(std::to_string(out.members_up) + " of " + std::to_string(out.members) +
                          " members up, the default quorum needs " + std::to_string(out.needed) +
                          "; believed down: " + names);
  }
  out.ready = out.reasons.empty();
  return out;
}

Response ReadyzResponse(const Readiness& readiness) {
  Response r;
  r.status = readiness.ready ? 200 : 503;
  nlohmann::json body = {{"status", readiness.ready ? "ready" : "not_ready"},
                         {"reasons", readiness.reasons},
                         {"members_up", readiness.members_up},
                         {"members", readiness.members},
                         {"needed", readiness.needed}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response LivezResponse(int64_t loop_lag_us) {
  Response r;
  nlohmann::json body = {{"status", "live"}, {"loop_lag_ms", loop_lag_us / 1000.0}};
  r.body = body.dump();
  return r;
}

}  // namespace ringkv::http
