// Cap'n Proto reads a message's words where they lie, and they must be
// word-aligned: a record read into a std::string's heap buffer is, a frame
// body at whatever offset the connection buffer gives it may not be.
#pragma once

#include <capnp/common.h>
#include <kj/array.h>

#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringkv {

// The words of `bytes`, whose size is a multiple of 8: `bytes` itself when
// it is word-aligned, else a copy made into `*copy`, which must outlive the
// result.
inline kj::ArrayPtr<const capnp::word> WordsOf(std::string_view bytes,
                                               kj::Array<capnp::word>* copy) {
  const size_t count = bytes.size() / sizeof(capnp::word);
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(capnp::word) == 0) {
    return kj::arrayPtr(reinterpret_cast<const capnp::word*>(bytes.data()), count);
  }
  *copy = kj::heapArray<capnp::word>(count);
  std::memcpy(copy->begin(), bytes.data(), bytes.size());
  return copy->asPtr();
}

}  // namespace ringkv
