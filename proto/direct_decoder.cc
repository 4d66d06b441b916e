// Layouts (proto/wire.capnp, causality/object.capnp; `capnp compile
// -ocapnp` prints them, and proto_direct_decoder_test checks every offset
// used here against the compiled schemas):
//   Envelope    data: version u16 (stored XOR 1) | union tag u16 |
//               timeoutMs u32; requestId; senderGeneration; sentMonoUs
//               pointers: from, body, authToken
//   GetRequest  data: r u32 | pr u32          pointers: bucket, key
//   PutRequest  data: bits tombstone 0, forwarded 1, ifMatch 2, w at bit 32;
//               pw u32; timestampUs; writeIdHi; writeIdLo
//               pointers: bucket, key, value, context
//   GetReply, ReplicaGetReply  data: found bit 0  pointers: status, object
//   PutReply                   pointers: status, object
//   ReplicaGetRequest          pointers: bucket, key
//   ReplicaPutRequest  data: handoff bit 0  pointers: bucket, key, object, hintFor
//   ReplicaPutReply    pointers: status
//   ReplyStatus  data: code u8     pointers: message
//   Object   data: version u16 (XOR 1)   pointers: context, siblings
//   VvEntry  data: counter               pointers: actor
//   Actor    data: incarnation           pointers: node
//   Sibling  data: counter, timestampUs, tombstone bit 0, writeIdHi,
//            writeIdLo                   pointers: actor, value
// A struct shorter than its layout (an older writer's) reads the missing
// fields as their defaults, as Cap'n Proto does; longer ones keep their
// extra fields unread.
#include "proto/direct_decoder.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace ringkv {
namespace {

constexpr uint16_t kProtocolVersion = 1;
constexpr uint16_t kObjectVersion = 1;

// Union tags of Envelope (the order of the union's members in wire.capnp).
enum Tag : uint16_t {
  kGet = 2,
  kGetReply = 3,
  kPut = 4,
  kPutReply = 5,
  kReplicaGet = 6,
  kReplicaGetReply = 7,
  kReplicaPut = 8,
  kReplicaPutReply = 9,
};

constexpr uint64_t kStructPointer = 0;
constexpr uint64_t kListPointer = 1;
constexpr uint64_t kByteElements = 2;
constexpr uint64_t kCompositeElements = 7;

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

// The message's one segment, read in place. Every read checks its bounds,
// and every struct, list and blob read is charged against a budget of the
// segment's own size: a legitimate message is read once, so a forged one
// that points many fields at the same words (amplification) runs out and is
// left to Cap'n Proto, whose limit is four times as generous.
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
uint64_t DataWord(const Segment& s, const StructRef& r, uint32_t word) {
  return word < r.data_words ? s.Word(r.data + word) : 0;
}

bool Bit(const Segment& s, const StructRef& r, uint32_t bit) {
  return (DataWord(s, r, bit / 64) >> (bit % 64)) & 1;
}

bool PointerStruct(Segment& s, const StructRef& r, uint32_t i, StructRef* out) {
  if (i >= r.pointer_count) {
    *out = StructRef{};
    return true;
  }
  return s.Struct(r.pointers + i, out);
}

bool PointerBlob(Segment& s, const StructRef& r, uint32_t i, bool text, std::string* out) {
  std::string_view bytes;
  if (i < r.pointer_count && !s.Blob(r.pointers + i, text, &bytes)) return false;
  out->assign(bytes.data(), bytes.size());
  return true;
}

bool PointerStructs(Segment& s, const StructRef& r, uint32_t i, ListRef* out) {
  if (i >= r.pointer_count) {
    *out = ListRef{};
    return true;
  }
  return s.Structs(r.pointers + i, out);
}

bool ReadStatus(Segment& s, const StructRef& parent, uint32_t i, Status* out) {
  StructRef r;
  std::string message;
  if (!PointerStruct(s, parent, i, &r) || !PointerBlob(s, r, 0, /*text=*/true, &message)) {
    return false;
  }
  *out = Status::FromWire(static_cast<uint8_t>(DataWord(s, r, 0)), std::move(message));
  return true;
}

bool ReadActor(Segment& s, const StructRef& parent, Actor* out) {
  StructRef r;
  if (!PointerStruct(s, parent, 0, &r) || !PointerBlob(s, r, 0, /*text=*/true, &out->node)) {
    return false;
  }
  out->incarnation = DataWord(s, r, 0);
  return true;
}

// What ObjectFromCapnp accepts, no more: version 1, a clock of non-zero
// counters strictly sorted by actor, and an object passing CheckInvariants.
bool ReadObject(Segment& s, const StructRef& parent, uint32_t i, Object* out) {
  StructRef r;
  if (!PointerStruct(s, parent, i, &r)) return false;
  if ((static_cast<uint16_t>(DataWord(s, r, 0)) ^ 1u) != kObjectVersion) return false;
  ListRef context, siblings;
  if (!PointerStructs(s, r, 0, &context) || !PointerStructs(s, r, 1, &siblings)) return false;
  std::vector<VersionVector::Entry> entries;
  entries.reserve(context.count);
  for (uint32_t e = 0; e < context.count; ++e) {
    const StructRef entry = context.at(e);
    Actor actor;
    if (!ReadActor(s, entry, &actor)) return false;
    const uint64_t counter = DataWord(s, entry, 0);
    if (counter == 0 || (!entries.empty() && !(entries.back().first < actor))) return false;
    entries.emplace_back(std::move(actor), counter);
  }
  Object object;
  object.context = VersionVector(std::move(entries));
  object.siblings.resize(siblings.count);
  for (uint32_t e = 0; e < siblings.count; ++e) {
    const StructRef sr = siblings.at(e);
    Sibling& sib = object.siblings[e];
    if (!ReadActor(s, sr, &sib.dot.actor) || !PointerBlob(s, sr, 1, /*text=*/false, &sib.value)) {
      return false;
    }
    sib.dot.counter = DataWord(s, sr, 0);
    sib.timestamp_us = static_cast<int64_t>(DataWord(s, sr, 1));
    sib.tombstone = Bit(s, sr, 128);
    sib.write_id = WriteId{DataWord(s, sr, 3), DataWord(s, sr, 4)};
  }
  if (!CheckInvariants(object).empty()) return false;
  *out = std::move(object);
  return true;
}

bool ReadBody(Segment& s, uint16_t tag, const StructRef& b, MessageBody* out) {
  switch (tag) {
    case kGet: {
      GetRequest m;
      if (!PointerBlob(s, b, 0, false, &m.bucket) || !PointerBlob(s, b, 1, false, &m.key)) {
        return false;
      }
      const uint64_t w0 = DataWord(s, b, 0);
      m.r = static_cast<uint32_t>(w0);
      m.pr = static_cast<uint32_t>(w0 >> 32);
      *out = std::move(m);
      return true;
    }
    case kPut: {
      PutRequest m;
      if (!PointerBlob(s, b, 0, false, &m.bucket) || !PointerBlob(s, b, 1, false, &m.key) ||
          !PointerBlob(s, b, 2, false, &m.value) || !PointerBlob(s, b, 3, false, &m.context)) {
        return false;
      }
      const uint64_t w0 = DataWord(s, b, 0);
      m.tombstone = w0 & 1;
      m.forwarded = (w0 >> 1) & 1;
      m.if_match = (w0 >> 2) & 1;
      m.w = static_cast<uint32_t>(w0 >> 32);
      m.pw = static_cast<uint32_t>(DataWord(s, b, 1));
      m.timestamp_us = static_cast<int64_t>(DataWord(s, b, 2));
      m.write_id = WriteId{DataWord(s, b, 3), DataWord(s, b, 4)};
      *out = std::move(m);
      return true;
    }
    case kGetReply:
    case kReplicaGetReply: {
      Status status;
      Object object;
      if (!ReadStatus(s, b, 0, &status) || !ReadObject(s, b, 1, &object)) return false;
      const bool found = Bit(s, b, 0);
      if (tag == kGetReply) {
        *out = GetReply{std::move(status), found, std::move(object)};
      } else {
        *out = ReplicaGetReply{std::move(status), found, std::move(object)};
      }
      return true;
    }
    case kPutReply: {
      PutReply m;
      if (!ReadStatus(s, b, 0, &m.status) || !ReadObject(s, b, 1, &m.object)) return false;
      *out = std::move(m);
      return true;
    }
    case kReplicaGet: {
      ReplicaGetRequest m;
      if (!PointerBlob(s, b, 0, false, &m.bucket) || !PointerBlob(s, b, 1, false, &m.key)) {
        return false;
      }
      *out = std::move(m);
      return true;
    }
    case kReplicaPut: {
      ReplicaPutRequest m;
      if (!PointerBlob(s, b, 0, false, &m.bucket) || !PointerBlob(s, b, 1, false, &m.key) ||
          !ReadObject(s, b, 2, &m.object) || !PointerBlob(s, b, 3, true, &m.hint_for)) {
        return false;
      }
      m.handoff = Bit(s, b, 0);
      *out = std::move(m);
      return true;
    }
    case kReplicaPutReply: {
      ReplicaPutReply m;
      if (!ReadStatus(s, b, 0, &m.status)) return false;
      *out = std::move(m);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

std::optional<Message> DecodeDirect(std::string_view bytes) {
  // The segment table of one segment: a count of 0 (segments minus one),
  // then the segment's size, which must be all the rest.
  if (bytes.size() < 16 || bytes.size() % 8 != 0) return std::nullopt;
  const size_t words = bytes.size() / 8 - 1;
  Segment table(bytes.data(), 1);
  const uint64_t head = table.Word(0);
  if (static_cast<uint32_t>(head) != 0 || (head >> 32) != words) return std::nullopt;
  Segment s(bytes.data() + 8, words);
  StructRef env;
  if (!s.Struct(0, &env)) return std::nullopt;
  const uint64_t w0 = DataWord(s, env, 0);
  if ((static_cast<uint16_t>(w0) ^ 1u) != kProtocolVersion) return std::nullopt;
  const auto tag = static_cast<uint16_t>(w0 >> 16);
  Message m;
  StructRef body;
  if (!PointerStruct(s, env, 1, &body) || !ReadBody(s, tag, body, &m.body) ||
      !PointerBlob(s, env, 0, true, &m.from) || !PointerBlob(s, env, 2, true, &m.auth_token)) {
    return std::nullopt;
  }
  m.timeout_ms = static_cast<uint32_t>(w0 >> 32);
  m.request_id = DataWord(s, env, 1);
  m.sender_generation = DataWord(s, env, 2);
  m.sent_mono_us = static_cast<int64_t>(DataWord(s, env, 3));
  return m;
}

}  // namespace ringkv
