#include "http/ring_status.h"

#include <nlohmann/json.hpp>

namespace ringkv::http {
namespace {

std::string Label(const MetricSample& s, const std::string& name) {
  for (const auto& [n, v] : s.labels) {
    if (n == name) return v;
  }
  return "";
}

}  // namespace

std::string RingStatusJson(Service& service) {
  NodeStatus status = service.StatusReport();
  const Ring& ring = service.ring();
  nlohmann::json members = nlohmann::json::array();
  std::map<std::string, size_t> index;
  const auto& addresses = service.membership().addresses();
  for (const NodeId& m : ring.members()) {
    index[m] = members.size();
    auto it = addresses.find(m);
    bool up = m == status.node;
    double phi = 0;
    for (const PeerState& p : status.peers) {
      if (p.node == m && m != status.node) {
        up = p.up;
        phi = p.phi;
      }
    }
    uint64_t hints = 0;
    for (const HintCount& h : status.hints) {
      if (h.target == m) hints = h.count;
    }
    members.push_back({{"id", m},
                       {"address", it == addresses.end() ? "" : it->second},
                       {"up", up},
                       {"phi", phi},
                       {"self", m == status.node},
                       {"hints_for", hints}});
  }
  nlohmann::json owners = nlohmann::json::array();
  for (uint32_t p = 0; p < ring.partitions(); ++p) owners.push_back(index[ring.Owner(p)]);
  nlohmann::json requests = nlohmann::json::object();
  uint64_t hints_pending = 0;
  for (const HintCount& h : status.hints) hints_pending += h.count;
  for (const MetricSample& s : status.metrics) {
    if (s.name == "ringkv_client_requests_total") {
      requests[Label(s, "op")]["total"][Label(s, "result")] = s.value;
    } else if (s.name == "ringkv_client_request_duration_seconds") {
      requests[Label(s, "op")]["p99_ms"] = HistogramQuantile(s, 0.99) * 1000;
      requests[Label(s, "op")]["count"] = s.count;
    }
  }
  nlohmann::json body = {{"node", status.node},
                         {"epoch", ring.epoch()},
                         {"n", ring.n()},
                         {"partitions", owners},
                         {"members", members},
                         {"hints_pending", hints_pending},
                         {"hints_delivered", status.hints_delivered},
                         {"requests", requests}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ringkv::http
