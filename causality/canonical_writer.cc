// Layouts (causality/object.capnp, fields in ordinal order):
//   Object  data: version (u16, default 1) | pointers: context, siblings
//   Context data: version (u16, default 1), keyHash (word 1) | pointers: entries
//   VvEntry data: counter | pointers: actor
//   Actor   data: incarnation | pointers: node (Text)
//   Sibling data: counter, timestampUs, tombstone (bit 0 of word 2),
//           writeIdHi, writeIdLo | pointers: actor, value (Data)
// Canonical form: one segment, the root pointer first, then every object in
// preorder (a struct, then what its pointers reach, in pointer order; a
// struct list's elements, then what each element reaches, element by
// element); data sections end at their last non-zero word, the elements of
// a list all take the longest; a field is stored XOR its default.
#include "causality/canonical_writer.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "causality/capnp_words.h"

namespace ringkv {
namespace {

// Words appended to a string after what it already holds: room for the
// expected number is zeroed once, Alloc takes from it (growing it should
// the estimate be short), and Finish cuts what was not taken.
class Segment {
 public:
  Segment(std::string* out, size_t words) : bytes_(*out), base_(out->size()) {
    bytes_.resize(base_ + words * 8);
  }
  size_t Alloc(size_t words) {
    const size_t at = used_;
    used_ += words;
    if (base_ + used_ * 8 > bytes_.size()) bytes_.resize(base_ + used_ * 8);
    return at;
  }
  void Finish() { bytes_.resize(base_ + used_ * 8); }
  void Set(size_t word, uint64_t v) {
    if constexpr (std::endian::native != std::endian::little) {
      uint64_t le = 0;
      for (int i = 0; i < 8; ++i) le |= ((v >> (8 * i)) & 0xff) << (8 * (7 - i));
      v = le;
    }
    std::memcpy(bytes_.data() + base_ + word * 8, &v, 8);
  }
  void StructPointer(size_t at, size_t target, uint64_t data, uint64_t pointers) {
    Set(at, StructPointerWord(at, target, data, pointers));
  }
  void ListPointer(size_t at, size_t target, uint64_t element_size, uint64_t count) {
    Set(at, ListPointerWord(at, target, element_size, count));
  }
  // `n` bytes at `word`, then zeros to the word's end (already there).
  void Copy(size_t word, const void* data, size_t n) {
    std::memcpy(&bytes_[base_ + word * 8], data, n);
  }

 private:
  std::string& bytes_;
  const size_t base_;
  size_t used_ = 0;
};

size_t Words(size_t bytes) { return (bytes + 7) / 8; }

bool Covered(const Actor& a) { return a.incarnation != 0 && !a.node.empty(); }

bool Covered(const VersionVector& clock) {
  if (clock.empty()) return false;
  for (const auto& [actor, counter] : clock.entries()) {
    if (counter == 0 || !Covered(actor)) return false;
  }
  return true;
}

size_t ActorWords(const Actor& a) { return 2 + Words(a.node.size() + 1); }

size_t ClockWords(const VersionVector& clock) {
  size_t n = 1 + 2 * clock.entries().size();
  for (const auto& e : clock.entries()) n += ActorWords(e.first);
  return n;
}

// The Actor struct and its node's text; returns where the struct is.
size_t PutActor(Segment* s, const Actor& a) {
  const size_t at = s->Alloc(2);
  s->Set(at, a.incarnation);
  const size_t text = s->Alloc(Words(a.node.size() + 1));
  s->ListPointer(at + 1, text, kByteElements, a.node.size() + 1);
  s->Copy(text, a.node.data(), a.node.size());
  return at;
}

// The list of VvEntry that the pointer at `pointer` refers to.
void PutClock(Segment* s, size_t pointer, const VersionVector& clock) {
  const auto& entries = clock.entries();
  const size_t n = entries.size();
  const size_t tag = s->Alloc(1 + 2 * n);
  s->ListPointer(pointer, tag, kCompositeElements, 2 * n);
  s->Set(tag, CompositeTagWord(n, 1, 1));
  for (size_t i = 0; i < n; ++i) s->Set(tag + 1 + 2 * i, entries[i].second);
  for (size_t i = 0; i < n; ++i) {
    const size_t actor = PutActor(s, entries[i].first);
    s->StructPointer(tag + 2 + 2 * i, actor, 1, 1);
  }
}

}  // namespace

bool AppendCanonicalContext(std::string* out, const VersionVector& clock, uint16_t version,
                            uint64_t key_hash) {
  const uint64_t stored_version = version ^ 1u;
  if (!Covered(clock) || key_hash == 0 || stored_version == 0) return false;
  Segment s(out, 4 + ClockWords(clock));
  const size_t root = s.Alloc(1);
  const size_t body = s.Alloc(3);
  s.StructPointer(root, body, 2, 1);
  s.Set(body, stored_version);
  s.Set(body + 1, key_hash);
  PutClock(&s, body + 2, clock);
  s.Finish();
  return true;
}

std::optional<std::string> WriteCanonicalContext(const VersionVector& clock, uint16_t version,
                                                 uint64_t key_hash) {
  std::string out;
  if (!AppendCanonicalContext(&out, clock, version, key_hash)) return std::nullopt;
  return out;
}

std::optional<std::string> WriteCanonicalObject(const Object& object, uint16_t version) {
  if ((version ^ 1u) != 0 || !Covered(object.context) || object.siblings.empty()) {
    return std::nullopt;
  }
  const size_t m = object.siblings.size();
  size_t data_words = 0;
  size_t words = 3 + ClockWords(object.context) + 1;
  for (const Sibling& sib : object.siblings) {
    if (sib.dot.counter == 0 || !Covered(sib.dot.actor) || sib.value.empty()) return std::nullopt;
    const uint64_t data[5] = {sib.dot.counter, static_cast<uint64_t>(sib.timestamp_us),
                              sib.tombstone ? 1u : 0u, sib.write_id.hi, sib.write_id.lo};
    size_t used = 5;
    while (used > 0 && data[used - 1] == 0) --used;
    data_words = std::max(data_words, used);
    words += ActorWords(sib.dot.actor) + Words(sib.value.size());
  }
  const size_t element = data_words + 2;
  words += m * element;
  std::string out;
  Segment s(&out, words);
  const size_t root = s.Alloc(1);
  const size_t body = s.Alloc(2);
  s.StructPointer(root, body, 0, 2);
  PutClock(&s, body, object.context);
  const size_t tag = s.Alloc(1 + m * element);
  s.ListPointer(body + 1, tag, kCompositeElements, m * element);
  s.Set(tag, CompositeTagWord(m, data_words, 2));
  for (size_t i = 0; i < m; ++i) {
    const Sibling& sib = object.siblings[i];
    const uint64_t data[5] = {sib.dot.counter, static_cast<uint64_t>(sib.timestamp_us),
                              sib.tombstone ? 1u : 0u, sib.write_id.hi, sib.write_id.lo};
    for (size_t w = 0; w < data_words; ++w) s.Set(tag + 1 + i * element + w, data[w]);
  }
  for (size_t i = 0; i < m; ++i) {
    const Sibling& sib = object.siblings[i];
    const size_t pointers = tag + 1 + i * element + data_words;
    const size_t actor = PutActor(&s, sib.dot.actor);
    s.StructPointer(pointers, actor, 1, 1);
    const size_t value = s.Alloc(Words(sib.value.size()));
    s.ListPointer(pointers + 1, value, kByteElements, sib.value.size());
    s.Copy(value, sib.value.data(), sib.value.size());
  }
  s.Finish();
  return out;
}

}  // namespace ringkv
