// Frames between a node and a ringkv-merge-worker (merge/merge_worker.capnp):
// a uint32le length, then one flat Cap'n Proto message. Both ends use
// non-blocking descriptors and poll, so that the node waits for a worker no
// longer than a call's deadline, whatever the worker does: stops reading,
// writes half a frame, announces a huge one or writes bytes that are no
// message. Each of those is an error value, never an exception or a wait
// past the deadline.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/array.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace ringkv {

// A merge request carries at most an object's worth of values (15 MiB,
// causality/object_limits.h) with their stamps; a reply at most one value.
inline constexpr size_t kMaxWorkerFrameBytes = size_t{20} << 20;

// Monotonic now, µs, for the deadlines below.
int64_t WorkerNowMicros();

// Writes `message` as one frame to `fd` (non-blocking). Timeout when
// `deadline_us` (WorkerNowMicros; -1: none) passes first, IOError when the
// peer is gone.
Status WriteWorkerFrame(int fd, capnp::MessageBuilder& message, int64_t deadline_us);

// Reads one frame's body from `fd` (non-blocking), word-aligned. Timeout at
// the deadline, IOError at the end of the stream (the peer exited),
// Corruption for a length of 0, not a multiple of 8 or over
// kMaxWorkerFrameBytes.
Result<kj::Array<capnp::word>> ReadWorkerFrame(int fd, int64_t deadline_us);

// Reads `words` as a message of `Schema` and returns fn(root); any Cap'n
// Proto exception (a malformed message) becomes Corruption.
template <typename Schema, typename T, typename Fn>
Result<T> ReadWorkerMessage(const kj::Array<capnp::word>& words, Fn fn) {
  capnp::ReaderOptions options;
  // Each word is read about once; the slack covers tiny messages, the
  // limit stops amplification.
  options.traversalLimitInWords = 2 * words.size() + 64;
  options.nestingLimit = 16;
  try {
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    return fn(reader.template getRoot<Schema>());
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("malformed worker message: ") +
                              e.getDescription().cStr());
  }
}

}  // namespace ringkv
