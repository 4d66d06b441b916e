// Trace: the ordered record of what a run did, reduced to one hash.
//
// Every event the simulator considers observable (a message sent or
// delivered, a timer fired, a fault, a client operation) is mixed into a
// running XXH3 hash, so two runs of one seed must print the same
// "trace hash"; any divergence means hidden nondeterminism. With a sink the
// same records are printed one per line for replaying a failing seed. Not
// thread-safe.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace ringkv::sim {

class Trace {
 public:
  Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Mixes one record. `what` names the kind ("send", "deliver", "timer",
  // "kill", ...); `node` is the node index or -1; `detail` any 64-bit datum
  // (a hash of message bytes, an id).
  void Record(int64_t time_us, std::string_view what, int64_t node, uint64_t detail);
  // Same with free text (printed, and hashed).
  void Note(int64_t time_us, std::string_view what, int64_t node, std::string_view text);

  uint64_t hash() const { return XXH3_64bits_digest(state_.get()); }
  std::string HexHash() const;
  uint64_t records() const { return records_; }

  // Records are also printed to `out` when set (not owned; may be null).
  void set_sink(FILE* out) { sink_ = out; }
  bool tracing() const { return sink_ != nullptr; }

 private:
  struct StateDeleter {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  std::unique_ptr<XXH3_state_t, StateDeleter> state_;
  uint64_t records_ = 0;
  FILE* sink_ = nullptr;
};

}  // namespace ringkv::sim
