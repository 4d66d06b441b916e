// The health probes (docs/http-api.md "Probes"). Liveness says only that
// the node's loop turns: it never looks at peers, so a partition cannot make
// an orchestrator restart every node. Readiness says whether the node can
// serve requests at the default quorums: its storage answers a read, it is
// a member of the current ring, and at least max(r, w) of the default
// bucket's members are believed up (itself included). Single-threaded, on
// the node's loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "http/response.h"
#include "replication/service.h"
#include "storage/storage.h"

namespace ringkv::http {

struct Readiness {
  bool ready = true;
  std::vector<std::string> reasons;  // why not, one line each
  uint32_t members_up = 0;
  uint32_t members = 0;
  uint32_t needed = 0;
};

// Both must outlive any call.
Readiness CheckReadiness(Service& service, Storage* storage);

// 200 {"status":"ready",...}, or 503 {"status":"not_ready","reasons":[...]}.
Response ReadyzResponse(const Readiness& readiness);
// 200 {"status":"live","loop_lag_ms":N}: the lag is how late the loop ran
// its last heartbeat timer.
Response LivezResponse(int64_t loop_lag_us);

}  // namespace ringkv::http
