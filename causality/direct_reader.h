// Cap'n Proto words read in place, without Cap'n Proto's reader: the
// plain shapes of the object schema (causality/object.capnp) and the
// fixed-layout structs around them, for the direct readers of stored
// objects (DecodeObject) and of the hot messages (proto/direct_decoder.h).
// Each read checks bounds and charges a budget of the segment's own size,
// all a segment written once needs: a forged one that points many fields
// at the same words (amplification) runs out. Every function
// answers false for anything it does not take; the caller then leaves the
// bytes to Cap'n Proto's reader, whose verdict stands.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "causality/capnp_words.h"
#include "causality/object.h"

namespace ringkv::direct {

// One struct as read: where its data and pointer sections start (in words
// from the segment's start) and how long they are. The default (a null
// pointer) has neither: every field reads as its default.
struct StructRef {
  size_t data = 0;
  size_t pointers = 0;
  uint32_t data_words = 0;
  uint32_t pointer_count = 0;
};

// A list of structs (INLINE_COMPOSITE): its elements' layout and count.
struct ListRef {
  size_t first = 0;
  uint32_t count = 0;
  uint32_t data_words = 0;
  uint32_t pointer_count = 0;
  StructRef at(uint32_t i) const {
    const size_t start = first + size_t{i} * (data_words + pointer_count);
    return StructRef{start, start + data_words, data_words, pointer_count};
  }
};

// One segment (a message's, a record's), read in place. Every read checks
// its bounds, and every struct, list and blob read is charged against a
// budget of the segment's own size, all a segment written once needs: a
// forged one that points many fields at the same words (amplification)
// runs out and is left to Cap'n Proto, whose traversal limits are two to
// four times as generous.
class Segment {
 public:
  Segment(const char* words, size_t count) : words_(words), count_(count), budget_(count) {}

  uint64_t Word(size_t i) const {
    uint64_t v;
    std::memcpy(&v, words_ + i * 8, 8);
    if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap64(v);
    return v;
  }

  // The struct the pointer at word `at` refers to; false for anything but a
  // struct pointer in bounds (null is the default struct).
  bool Struct(size_t at, StructRef* out) {
    const uint64_t p = Word(at);
    *out = StructRef{};
    if (p == 0) return true;
    if ((p & 3) != kStructPointer) return false;
    const uint32_t data_words = static_cast<uint16_t>(p >> 32);
    const uint32_t pointer_count = static_cast<uint16_t>(p >> 48);
    size_t target;
    if (!Target(at, p, data_words + pointer_count, &target)) return false;
    *out = StructRef{target, target + data_words, data_words, pointer_count};
    return true;
  }

  // The bytes of a Data (text = false) or Text field: a byte list in
  // bounds; a Text's last byte must be its NUL, left out of `*out`.
  bool Blob(size_t at, bool text, std::string_view* out) {
    const uint64_t p = Word(at);
    *out = {};
    if (p == 0) return true;
    if ((p & 3) != kListPointer || ((p >> 32) & 7) != kByteElements) return false;
    const uint64_t bytes = p >> 35;
    size_t target;
    if (!Target(at, p, (bytes + 7) / 8, &target)) return false;
    const char* begin = words_ + target * 8;
    if (text) {
      if (bytes == 0 || begin[bytes - 1] != '\0') return false;
      *out = std::string_view(begin, bytes - 1);
    } else {
      *out = std::string_view(begin, bytes);
    }
    return true;
  }

  // A list of structs: an INLINE_COMPOSITE list whose tag is a struct
  // header and whose elements fit its word count. Zero-sized elements are
  // refused: a count of them costs no words and could be anything.
  bool Structs(size_t at, ListRef* out) {
    const uint64_t p = Word(at);
    *out = ListRef{};
    if (p == 0) return true;
    if ((p & 3) != kListPointer || ((p >> 32) & 7) != kCompositeElements) return false;
    const uint64_t words = p >> 35;
    size_t tag;
    if (!Target(at, p, words + 1, &tag)) return false;
    const uint64_t header = Word(tag);
    if ((header & 3) != kStructPointer) return false;
    const uint64_t count = static_cast<uint32_t>(header) >> 2;
    const uint32_t data_words = static_cast<uint16_t>(header >> 32);
    const uint32_t pointer_count = static_cast<uint16_t>(header >> 48);
    const uint64_t element = uint64_t{data_words} + pointer_count;
    if (count > 0 && element == 0) return false;
    if (count * element > words) return false;
    *out = ListRef{tag + 1, static_cast<uint32_t>(count), data_words, pointer_count};
    return true;
  }

 private:
  // Where the pointer at `at` points, for an object of `size` words there,
  // charged to the budget; false when any of it lies outside the segment.
  bool Target(size_t at, uint64_t p, uint64_t size, size_t* target) {
    const int64_t offset = static_cast<int32_t>(static_cast<uint32_t>(p)) >> 2;
    const int64_t start = static_cast<int64_t>(at) + 1 + offset;
    if (start < 0 || static_cast<uint64_t>(start) > count_ ||
        size > count_ - static_cast<uint64_t>(start) || size > budget_) {
      return false;
    }
    budget_ -= size;
    *target = static_cast<size_t>(start);
    return true;
  }

  const char* words_;
  const size_t count_;
  uint64_t budget_;
};

// Field readers: a field past the end of its struct's section reads as 0,
// the stored form of every default.
inline uint64_t DataWord(const Segment& s, const StructRef& r, uint32_t word) {
  return word < r.data_words ? s.Word(r.data + word) : 0;
}

inline bool Bit(const Segment& s, const StructRef& r, uint32_t bit) {
  return (DataWord(s, r, bit / 64) >> (bit % 64)) & 1;
}

inline bool PointerStruct(Segment& s, const StructRef& r, uint32_t i, StructRef* out) {
  if (i >= r.pointer_count) {
    *out = StructRef{};
    return true;
  }
  return s.Struct(r.pointers + i, out);
}

inline bool PointerBlob(Segment& s, const StructRef& r, uint32_t i, bool text, std::string* out) {
  std::string_view bytes;
  if (i < r.pointer_count && !s.Blob(r.pointers + i, text, &bytes)) return false;
  out->assign(bytes.data(), bytes.size());
  return true;
}

inline bool PointerStructs(Segment& s, const StructRef& r, uint32_t i, ListRef* out) {
  if (i >= r.pointer_count) {
    *out = ListRef{};
    return true;
  }
  return s.Structs(r.pointers + i, out);
}

inline bool ReadActor(Segment& s, const StructRef& parent, Actor* out) {
  StructRef r;
  if (!PointerStruct(s, parent, 0, &r) || !PointerBlob(s, r, 0, /*text=*/true, &out->node)) {
    return false;
  }
  out->incarnation = DataWord(s, r, 0);
  return true;
}

// What ObjectFromCapnp accepts, no more: version 1, a clock of non-zero
// counters strictly sorted by actor, and an object passing CheckInvariants.
// The object is the struct `parent`'s pointer `i` refers to.
bool ReadObject(Segment& s, const StructRef& parent, uint32_t i, Object* out);
// The same for the struct the root pointer at word 0 refers to (a stored
// record: one canonical segment without a segment table).
bool ReadRootObject(Segment& s, Object* out);

}  // namespace ringkv::direct
