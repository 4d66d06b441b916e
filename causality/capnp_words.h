// Cap'n Proto's words by hand: the aligned view its reader needs, and the
// pointer words of its encoding for the code that reads and writes the
// common shapes without it (causality/direct_reader.h,
// causality/canonical_writer.cc, proto/direct_encoder.cc).
#pragma once

#include <capnp/common.h>
#include <kj/array.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace ringkv {

// Cap'n Proto reads a message's words where they lie, and they must be
// word-aligned: a record read into a std::string's heap buffer is, a frame
// body at whatever offset the connection buffer gives it may not be.
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

// A pointer's kind (its low two bits) and a list pointer's element size.
inline constexpr uint64_t kStructPointer = 0;
inline constexpr uint64_t kListPointer = 1;
inline constexpr uint64_t kByteElements = 2;
inline constexpr uint64_t kCompositeElements = 7;

// A pointer at word `at` to a struct or list at word `target`, which
// always follows it in the writers here (offsets never negative).
constexpr uint64_t StructPointerWord(size_t at, size_t target, uint64_t data_words,
                                     uint64_t pointer_words) {
  return (uint64_t{static_cast<uint32_t>(target - at - 1)} << 2) | (data_words << 32) |
         (pointer_words << 48);
}
constexpr uint64_t ListPointerWord(size_t at, size_t target, uint64_t element_size,
                                   uint64_t count) {
  return 1 | (uint64_t{static_cast<uint32_t>(target - at - 1)} << 2) | (element_size << 32) |
         (count << 35);
}
// The tag word that starts a list of `count` structs of the given sections.
constexpr uint64_t CompositeTagWord(uint64_t count, uint64_t data_words, uint64_t pointer_words) {
  return (count << 2) | (data_words << 32) | (pointer_words << 48);
}

}  // namespace ringkv
