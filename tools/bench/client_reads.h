// Client-coordinated serial reads for ringkv-bench (--client-reads): one
// read in flight, each made by the client library with
// ClientOptions::coordinate_reads (client/client.h), which sends
// ReplicaGet to the key's N primaries from its own copy of the ring and
// completes the read at R answers. This measures the serial get latency of
// Dynamo's client-driven reads against `--ping` and the node-coordinated
// get of the async driver at --concurrency 1.
//
// It is a serial loop over blocking sockets (poll() over the replicas'
// connections), not the libevent driver of runner.h: one read in flight
// only. Reads only (YCSB C), keys uniform over the loaded records; with
// config.phase kPing it pings the first node through the same client
// instead, the raw round trip of this very loop.
//
// Thread-safety: RunClientReads blocks the calling thread; not reentrant.
#pragma once

#include "client/client.h"
#include "common/status.h"
#include "tools/bench/ringkv_protocol.h"
#include "tools/bench/runner.h"

namespace ringkv::bench {

// Uses config.endpoints, records, ops / duration_s, warmup_s, verify,
// value_size, progress and seed; `options` gives bucket, r, pr, timeout_ms.
// `client_options` carries the credentials (TLS files, token); the nodes,
// the timeout and coordinate_reads are set here.
Result<RunResult> RunClientReads(const RunConfig& config, const RingkvOptions& options,
                                 ClientOptions client_options);

}  // namespace ringkv::bench
