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

#include <cstdint>
#include <string>
#include <utility>

#include "causality/direct_reader.h"
#include "proto/codec.h"
#include "proto/wire.capnp.h"

namespace ringkv {
namespace {

using direct::Bit;
using direct::DataWord;
using direct::PointerBlob;
using direct::PointerStruct;
using direct::ReadObject;
using direct::Segment;
using direct::StructRef;

using W = schema::Envelope;

bool ReadStatus(Segment& s, const StructRef& parent, uint32_t i, Status* out) {
  StructRef r;
  std::string message;
  if (!PointerStruct(s, parent, i, &r) || !PointerBlob(s, r, 0, /*text=*/true, &message)) {
    return false;
  }
  *out = Status::FromWire(static_cast<uint8_t>(DataWord(s, r, 0)), std::move(message));
  return true;
}

bool ReadBody(Segment& s, uint16_t tag, const StructRef& b, MessageBody* out) {
  switch (tag) {
    case W::GET: {
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
    case W::PUT: {
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
    case W::GET_REPLY:
    case W::REPLICA_GET_REPLY: {
      Status status;
      Object object;
      if (!ReadStatus(s, b, 0, &status) || !ReadObject(s, b, 1, &object)) return false;
      const bool found = Bit(s, b, 0);
      if (tag == W::GET_REPLY) {
        *out = GetReply{std::move(status), found, std::move(object)};
      } else {
        *out = ReplicaGetReply{std::move(status), found, std::move(object)};
      }
      return true;
    }
    case W::PUT_REPLY: {
      PutReply m;
      if (!ReadStatus(s, b, 0, &m.status) || !ReadObject(s, b, 1, &m.object)) return false;
      *out = std::move(m);
      return true;
    }
    case W::REPLICA_GET: {
      ReplicaGetRequest m;
      if (!PointerBlob(s, b, 0, false, &m.bucket) || !PointerBlob(s, b, 1, false, &m.key)) {
        return false;
      }
      *out = std::move(m);
      return true;
    }
    case W::REPLICA_PUT: {
      ReplicaPutRequest m;
      if (!PointerBlob(s, b, 0, false, &m.bucket) || !PointerBlob(s, b, 1, false, &m.key) ||
          !ReadObject(s, b, 2, &m.object) || !PointerBlob(s, b, 3, true, &m.hint_for)) {
        return false;
      }
      m.handoff = Bit(s, b, 0);
      *out = std::move(m);
      return true;
    }
    case W::REPLICA_PUT_REPLY: {
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
