// The ring state record and its companions (replication/ring_state.capnp,
// docs/storage-format.md) to bytes and back. Decoding checks the record's
// version, its size against kMaxStateBytes and the state against
// ValidateState, so a forged or damaged record is an error, never a state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/transport.h"
#include "ring/ring_state.h"

namespace ringkv {

std::string EncodeRingState(const RingState& state);
Result<RingState> DecodeRingState(std::string_view bytes);

// A plan with what each move's sender holds now.
struct PlanMove {
  Move move;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  // The sender answered with its sizes in time; false: keys and bytes
  // unknown (0).
  bool size_known = true;
};
struct PlanView {
  std::string id;
  uint64_t epoch = 0;
  std::vector<StagedChange> staged;
  std::vector<PlanMove> moves;
  ClaimReport after;
  bool forced = false;  // the moves are filled by anti-entropy, not streamed
  // The moves' time at the claimant's transfer pace: the most bytes one
  // sender has to send over its MiB/s (0: unpaced).
  double eta_sec = 0;
};
std::string EncodePlan(const PlanView& plan);
Result<PlanView> DecodePlan(std::string_view bytes);

struct TransferProgress {
  uint32_t partition = 0;
  NodeId from, to;
  std::string state;  // "waiting", "streaming", "catching-up", "done"
  uint64_t objects = 0, bytes = 0;
  uint64_t total_objects = 0, total_bytes = 0;
  double bytes_per_sec = 0;
  double eta_sec = 0;
  // A catch-up exchange that failed: why, how often, the next try.
  std::string reason;
  uint32_t attempts = 0;
  double retry_in_sec = 0;
};
struct TransferReport {
  NodeId node;
  std::vector<TransferProgress> transfers;
};
std::string EncodeTransferReport(const TransferReport& report);
Result<TransferReport> DecodeTransferReport(std::string_view bytes);

}  // namespace ringkv
