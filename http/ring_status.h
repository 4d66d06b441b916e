// The JSON behind the page at / (GET /v1/ring, docs/http-api.md): this
// node's view of the ring (each partition's owner), its members and what it
// believes of them, its pending hints, and its request figures from the
// metrics registry (totals by operation and result, p99 from the duration
// histograms). The page computes rates from two successive answers.
// Single-threaded, on the node's loop.
#pragma once

#include <string>

#include "replication/service.h"

namespace ringkv::http {

std::string RingStatusJson(Service& service);

}  // namespace ringkv::http
