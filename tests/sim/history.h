// History: every client operation of a simulation run, Jepsen style.
//
// Each operation is recorded when invoked and again when it completes: ok,
// fail (a definite error reply), or info (no reply: the node died, so the
// operation may or may not have taken effect). Values are unique per run,
// so an acknowledged put is identified in any replica by its value, and its
// dot is read from the coordinator's reply. Checkers read only this and the
// replicas' storage. A value type; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "causality/object.h"
#include "common/status.h"

namespace ringkv::sim {

enum class OpType : uint8_t { kGet, kPut, kDelete };
enum class Outcome : uint8_t { kPending, kOk, kFail, kInfo };

struct Op {
  uint64_t id = 0;
  int client = -1;
  OpType type = OpType::kGet;
  std::string bucket, key;
  std::string value;           // puts
  VersionVector context;       // the context the write carried (empty = blind)
  int64_t based_on = -1;       // the get whose reply gave that context
  uint32_t quorum = 0;         // r or w as sent
  int node = -1;               // node the client called
  uint64_t node_disturbances = 0;  // SimCluster::disturbances(node) at invoke
  int64_t invoke_us = 0;
  int64_t complete_us = -1;
  int64_t deadline_us = 0;     // invoke + timeout
  Outcome outcome = Outcome::kPending;
  Status status;
  // Completion data: the reply object (gets: merged read; writes: as stored
  // by the coordinator), and for writes the dot the write created.
  bool found = false;
  Object object;
  bool has_dot = false;
  int dot_matches = 0;  // siblings in the reply that match this write (2+: applied twice)
  Sibling sibling;
};

const char* OpTypeName(OpType t);
const char* OutcomeName(Outcome o);
std::string DescribeOp(const Op& op);

class History {
 public:
  Op& Invoke(Op op) {
    op.id = ops_.size();
    ops_.push_back(std::move(op));
    return ops_.back();
  }
  Op& at(uint64_t id) { return ops_[id]; }
  const std::vector<Op>& ops() const { return ops_; }
  std::vector<Op>& mutable_ops() { return ops_; }

  struct Counts {
    uint64_t ok = 0, fail = 0, info = 0, pending = 0;
  };
  Counts Count() const;

 private:
  std::vector<Op> ops_;
};

}  // namespace ringkv::sim
