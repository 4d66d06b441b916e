// The layouts are proto/direct_decoder.cc's (checked against the compiled
// schemas by proto_direct_decoder_test). The message is one segment: the
// root pointer, the envelope, then every struct, list and blob after the
// pointer that refers to it, so every offset is positive. Empty texts,
// blobs and lists are null pointers, which every reader reads as empty.
#include "proto/direct_encoder.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "causality/capnp_words.h"
#include "proto/wire.capnp.h"

namespace ringkv {
namespace {

using W = schema::Envelope;

constexpr uint32_t kSiblingDataWords = 5;

size_t TextWords(const std::string& s) { return s.empty() ? 0 : (s.size() + 8) / 8; }
size_t DataWords(const std::string& s) { return (s.size() + 7) / 8; }
size_t StatusWords(const Status& st) { return 2 + TextWords(st.message()); }
size_t ActorWords(const Actor& a) { return 2 + TextWords(a.node); }

size_t ObjectWords(const Object& o) {
  size_t n = 3;
  if (!o.context.empty()) n += 1 + 2 * o.context.entries().size();
  for (const auto& [actor, counter] : o.context.entries()) n += ActorWords(actor);
  if (!o.siblings.empty()) n += 1 + (kSiblingDataWords + 2) * o.siblings.size();
  for (const Sibling& s : o.siblings) n += ActorWords(s.dot.actor) + DataWords(s.value);
  return n;
}

// The segment's words, after the 8-byte segment table, in a string sized
// once (zeroed: every field not set is its default).
class Segment {
 public:
  explicit Segment(size_t words) : bytes_(8 + 8 * words, '\0') {}

  size_t Alloc(size_t words) {
    const size_t at = used_;
    used_ += words;
    if (8 + 8 * used_ > bytes_.size()) bytes_.resize(8 + 8 * used_);
    return at;
  }
  void Set(size_t word, uint64_t v) {
    if constexpr (std::endian::native != std::endian::little) v = __builtin_bswap64(v);
    std::memcpy(&bytes_[8 + 8 * word], &v, 8);
  }
  void StructPointer(size_t at, size_t target, uint64_t data, uint64_t pointers) {
    Set(at, StructPointerWord(at, target, data, pointers));
  }
  void ListPointer(size_t at, size_t target, uint64_t element_size, uint64_t count) {
    Set(at, ListPointerWord(at, target, element_size, count));
  }
  // A struct of `data` and `pointers` words, referred to from `at`.
  size_t Struct(size_t at, uint64_t data, uint64_t pointers) {
    const size_t s = Alloc(data + pointers);
    StructPointer(at, s, data, pointers);
    return s;
  }
  void Data(size_t at, const std::string& s) {
    if (s.empty()) return;
    const size_t target = Alloc(DataWords(s));
    ListPointer(at, target, kByteElements, s.size());
    std::memcpy(&bytes_[8 + 8 * target], s.data(), s.size());
  }
  void Text(size_t at, const std::string& s) {
    if (s.empty()) return;
    const size_t target = Alloc(TextWords(s));
    ListPointer(at, target, kByteElements, s.size() + 1);
    std::memcpy(&bytes_[8 + 8 * target], s.data(), s.size());
  }
  std::string Finish() {
    bytes_.resize(8 + 8 * used_);
    // The table: one segment (the count minus one, 0), of `used_` words.
    uint64_t table = uint64_t{used_} << 32;
    if constexpr (std::endian::native != std::endian::little) table = __builtin_bswap64(table);
    std::memcpy(bytes_.data(), &table, 8);
    return std::move(bytes_);
  }

 private:
  std::string bytes_;
  size_t used_ = 0;
};

void PutStatus(Segment* s, size_t at, const Status& st) {
  const size_t r = s->Struct(at, 1, 1);
  s->Set(r, static_cast<uint8_t>(st.code()));
  s->Text(r + 1, st.message());
}

void PutActor(Segment* s, size_t at, const Actor& a) {
  const size_t r = s->Struct(at, 1, 1);
  s->Set(r, a.incarnation);
  s->Text(r + 1, a.node);
}

// A list of `count` structs of `data` + `pointers` words, from `at`;
// returns its first element.
size_t PutStructList(Segment* s, size_t at, size_t count, uint64_t data, uint64_t pointers) {
  const size_t words = count * (data + pointers);
  const size_t tag = s->Alloc(1 + words);
  s->ListPointer(at, tag, kCompositeElements, words);
  s->Set(tag, CompositeTagWord(count, data, pointers));
  return tag + 1;
}

void PutObject(Segment* s, size_t at, const Object& o) {
  // Version 1 is stored as 0 (XOR its default): the data word stays zero.
  const size_t r = s->Struct(at, 1, 2);
  const auto& entries = o.context.entries();
  if (!entries.empty()) {
    const size_t first = PutStructList(s, r + 1, entries.size(), 1, 1);
    for (size_t i = 0; i < entries.size(); ++i) s->Set(first + 2 * i, entries[i].second);
    for (size_t i = 0; i < entries.size(); ++i) PutActor(s, first + 2 * i + 1, entries[i].first);
  }
  if (!o.siblings.empty()) {
    constexpr size_t kElement = kSiblingDataWords + 2;
    const size_t first = PutStructList(s, r + 2, o.siblings.size(), kSiblingDataWords, 2);
    for (size_t i = 0; i < o.siblings.size(); ++i) {
      const Sibling& sib = o.siblings[i];
      const size_t e = first + i * kElement;
      s->Set(e, sib.dot.counter);
      s->Set(e + 1, static_cast<uint64_t>(sib.timestamp_us));
      s->Set(e + 2, sib.tombstone ? 1 : 0);
      s->Set(e + 3, sib.write_id.hi);
      s->Set(e + 4, sib.write_id.lo);
    }
    for (size_t i = 0; i < o.siblings.size(); ++i) {
      const Sibling& sib = o.siblings[i];
      const size_t pointers = first + i * kElement + kSiblingDataWords;
      PutActor(s, pointers, sib.dot.actor);
      s->Data(pointers + 1, sib.value);
    }
  }
}

// The body's tag and its size in words (struct and all it refers to);
// nullopt for the types not written here.
std::optional<std::pair<uint64_t, size_t>> BodyShape(const MessageBody& body) {
  if (const auto* m = std::get_if<GetRequest>(&body)) {
    return std::pair{W::GET, 3 + DataWords(m->bucket) + DataWords(m->key)};
  }
  if (const auto* m = std::get_if<PutRequest>(&body)) {
    return std::pair{W::PUT, 9 + DataWords(m->bucket) + DataWords(m->key) + DataWords(m->value) +
                               DataWords(m->context)};
  }
  if (const auto* m = std::get_if<GetReply>(&body)) {
    return std::pair{W::GET_REPLY, 3 + StatusWords(m->status) + ObjectWords(m->object)};
  }
  if (const auto* m = std::get_if<PutReply>(&body)) {
    return std::pair{W::PUT_REPLY, 2 + StatusWords(m->status) + ObjectWords(m->object)};
  }
  if (const auto* m = std::get_if<ReplicaGetRequest>(&body)) {
    return std::pair{W::REPLICA_GET, 2 + DataWords(m->bucket) + DataWords(m->key)};
  }
  if (const auto* m = std::get_if<ReplicaGetReply>(&body)) {
    return std::pair{W::REPLICA_GET_REPLY, 3 + StatusWords(m->status) + ObjectWords(m->object)};
  }
  if (const auto* m = std::get_if<ReplicaPutRequest>(&body)) {
    return std::pair{W::REPLICA_PUT, 5 + DataWords(m->bucket) + DataWords(m->key) +
                                      ObjectWords(m->object) + TextWords(m->hint_for)};
  }
  if (const auto* m = std::get_if<ReplicaPutReply>(&body)) {
    return std::pair{W::REPLICA_PUT_REPLY, 1 + StatusWords(m->status)};
  }
  return std::nullopt;
}

void PutBody(Segment* s, size_t at, const MessageBody& body) {
  if (const auto* m = std::get_if<GetRequest>(&body)) {
    const size_t r = s->Struct(at, 1, 2);
    s->Set(r, m->r | (uint64_t{m->pr} << 32));
    s->Data(r + 1, m->bucket);
    s->Data(r + 2, m->key);
  } else if (const auto* m = std::get_if<PutRequest>(&body)) {
    const size_t r = s->Struct(at, 5, 4);
    s->Set(r, (m->tombstone ? 1 : 0) | (m->forwarded ? 2 : 0) | (m->if_match ? 4 : 0) |
                  (uint64_t{m->w} << 32));
    s->Set(r + 1, m->pw);
    s->Set(r + 2, static_cast<uint64_t>(m->timestamp_us));
    s->Set(r + 3, m->write_id.hi);
    s->Set(r + 4, m->write_id.lo);
    s->Data(r + 5, m->bucket);
    s->Data(r + 6, m->key);
    s->Data(r + 7, m->value);
    s->Data(r + 8, m->context);
  } else if (const auto* m = std::get_if<GetReply>(&body)) {
    const size_t r = s->Struct(at, 1, 2);
    s->Set(r, m->found ? 1 : 0);
    PutStatus(s, r + 1, m->status);
    PutObject(s, r + 2, m->object);
  } else if (const auto* m = std::get_if<PutReply>(&body)) {
    const size_t r = s->Struct(at, 0, 2);
    PutStatus(s, r, m->status);
    PutObject(s, r + 1, m->object);
  } else if (const auto* m = std::get_if<ReplicaGetRequest>(&body)) {
    const size_t r = s->Struct(at, 0, 2);
    s->Data(r, m->bucket);
    s->Data(r + 1, m->key);
  } else if (const auto* m = std::get_if<ReplicaGetReply>(&body)) {
    const size_t r = s->Struct(at, 1, 2);
    s->Set(r, m->found ? 1 : 0);
    PutStatus(s, r + 1, m->status);
    PutObject(s, r + 2, m->object);
  } else if (const auto* m = std::get_if<ReplicaPutRequest>(&body)) {
    const size_t r = s->Struct(at, 1, 4);
    s->Set(r, m->handoff ? 1 : 0);
    s->Data(r + 1, m->bucket);
    s->Data(r + 2, m->key);
    PutObject(s, r + 3, m->object);
    s->Text(r + 4, m->hint_for);
  } else if (const auto* m = std::get_if<ReplicaPutReply>(&body)) {
    const size_t r = s->Struct(at, 0, 1);
    PutStatus(s, r, m->status);
  }
}

}  // namespace

std::optional<std::string> EncodeDirect(const Message& message) {
  const auto shape = BodyShape(message.body);
  if (!shape) return std::nullopt;
  Segment s(1 + 7 + TextWords(message.from) + TextWords(message.auth_token) + shape->second);
  const size_t root = s.Alloc(1);
  const size_t env = s.Struct(root, 4, 3);
  // Protocol version 1, stored XOR its default 1: zero.
  s.Set(env, (shape->first << 16) | (uint64_t{message.timeout_ms} << 32));
  s.Set(env + 1, message.request_id);
  s.Set(env + 2, message.sender_generation);
  s.Set(env + 3, static_cast<uint64_t>(message.sent_mono_us));
  s.Text(env + 4, message.from);
  PutBody(&s, env + 5, message.body);
  s.Text(env + 6, message.auth_token);
  return s.Finish();
}

}  // namespace ringkv
