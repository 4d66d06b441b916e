// History: every write the chaos workload made, Jepsen style.
//
// A write is recorded when invoked and again when it completes: ok (the node
// acknowledged it), fail (the node answered with an error, or could not be
// reached) or info (no answer by the deadline). A failed or unanswered write
// may still have been applied in part, since Dynamo has no rollback, so the
// checkers hold only acknowledged writes to their promises and accept any
// invoked value as written. Times are microseconds of the monotonic clock
// since the run began; values are unique per run, so a value found in a
// replica names its write.
//
// Thread-safe: every writer thread records into one History.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace ringkv::chaos {

enum class Outcome : uint8_t { kPending, kOk, kFail, kInfo };
const char* OutcomeName(Outcome outcome);

struct Op {
  uint64_t id = 0;
  std::string worker;  // "n2/lww", or "plant:lost" for a planted bug's write
  std::string bucket, key, value;
  int node = 0;  // 1-based node the write was sent to
  int64_t invoke_us = 0;
  int64_t complete_us = -1;
  Outcome outcome = Outcome::kPending;
  std::string error;  // the status of a failed or unanswered write
};

// "n2/lww put lww/k17=n2/lww-5 [1.204 s, 1.209 s] ok".
std::string DescribeOp(const Op& op);

// Microseconds on the monotonic clock since construction.
class RunClock {
 public:
  RunClock() : start_(std::chrono::steady_clock::now()) {}
  int64_t NowUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

class History {
 public:
  // Records an invoked write (its id is assigned) and returns its id.
  uint64_t Invoke(Op op);
  void Complete(uint64_t id, Outcome outcome, int64_t complete_us, std::string error);
  // Records a write that is already complete; returns its id.
  uint64_t Record(Op op);
  // A copy of every op, in invocation order.
  std::vector<Op> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<Op> ops_;
};

}  // namespace ringkv::chaos
