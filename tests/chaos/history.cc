#include "tests/chaos/history.h"

#include <cstdio>

namespace ringkv::chaos {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kOk:
      return "ok";
    case Outcome::kFail:
      return "fail";
    case Outcome::kInfo:
      return "info";
  }
  return "?";
}

std::string DescribeOp(const Op& op) {
  char times[64];
  std::snprintf(times, sizeof(times), "[%.3f s, %.3f s]", op.invoke_us / 1e6, op.complete_us / 1e6);
  std::string out = op.worker + " put " + op.bucket + "/" + op.key + "=" + op.value + " via n" +
                    std::to_string(op.node) + " " + times + " " + OutcomeName(op.outcome);
  if (!op.error.empty()) out += " (" + op.error + ")";
  return out;
}

uint64_t History::Invoke(Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  op.id = ops_.size();
  op.outcome = Outcome::kPending;
  ops_.push_back(std::move(op));
  return ops_.back().id;
}

void History::Complete(uint64_t id, Outcome outcome, int64_t complete_us, std::string error) {
  std::lock_guard<std::mutex> lock(mu_);
  Op& op = ops_.at(id);
  op.outcome = outcome;
  op.complete_us = complete_us;
  op.error = std::move(error);
}

uint64_t History::Record(Op op) {
  std::lock_guard<std::mutex> lock(mu_);
  op.id = ops_.size();
  ops_.push_back(std::move(op));
  return ops_.back().id;
}

std::vector<Op> History::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ops_;
}

}  // namespace ringkv::chaos
