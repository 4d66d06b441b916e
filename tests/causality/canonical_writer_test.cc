// The direct canonical writer against Cap'n Proto's canonicalize: for every
// shape it covers, the same bytes; every other shape is left to Cap'n
// Proto. Records on disk, leaves of anti-entropy trees and contexts handed
// to clients all depend on these bytes.
#include "causality/canonical_writer.h"

#include <capnp/message.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "causality/object.capnp.h"
#include "causality/object_codec.h"

namespace ringkv {
namespace {

template <typename Reader>
std::string Canonical(Reader reader) {
  kj::Array<capnp::word> words = capnp::canonicalize(reader);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

std::string ReferenceObject(const Object& object) {
  capnp::MallocMessageBuilder message;
  ObjectToCapnp(object, message.initRoot<schema::Object>());
  return Canonical(message.getRoot<schema::Object>().asReader());
}

std::string ReferenceContext(const VersionVector& clock, uint16_t version, uint64_t key_hash) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::Context>();
  root.setVersion(version);
  VersionVectorToCapnp(clock, root.initEntries(static_cast<unsigned>(clock.entries().size())));
  root.setKeyHash(key_hash);
  return Canonical(root.asReader());
}

// Zeros and empties now and then (where canonical forms get subtle), rarely
// enough that most objects still take the direct path.
rc::Gen<uint64_t> GenWord() {
  return rc::gen::weightedOneOf<uint64_t>({{1, rc::gen::just<uint64_t>(0)},
                                           {2, rc::gen::just<uint64_t>(1)},
                                           {6, rc::gen::arbitrary<uint64_t>()},
                                           {6, rc::gen::inRange<uint64_t>(1, 1000)}});
}

std::string GenText(size_t max) {
  const size_t n = *rc::gen::inRange(0, 12) == 0 ? 0 : *rc::gen::inRange<size_t>(1, max + 1);
  return *rc::gen::container<std::string>(n, rc::gen::character<char>());
}

Actor GenActor() {
  return Actor{*rc::gen::arbitrary<bool>() ? GenText(20) : std::string("n1"), *GenWord()};
}

VersionVector GenClock() {
  std::vector<VersionVector::Entry> entries;
  const int n = *rc::gen::inRange(0, 5);
  for (int i = 0; i < n; ++i) entries.emplace_back(GenActor(), *GenWord());
  return VersionVector(std::move(entries));
}

Object GenObject() {
  Object o;
  o.context = GenClock();
  const int n = *rc::gen::inRange(0, 4);
  for (int i = 0; i < n; ++i) {
    Sibling s;
    s.dot = Dot{GenActor(), *GenWord()};
    s.timestamp_us = static_cast<int64_t>(*GenWord()) * (*rc::gen::arbitrary<bool>() ? -1 : 1);
    s.tombstone = *rc::gen::arbitrary<bool>();
    s.write_id = WriteId{*GenWord(), *GenWord()};
    s.value = GenText(*rc::gen::element<size_t>(3, 40, 300));
    o.siblings.push_back(std::move(s));
  }
  return o;
}

RC_GTEST_PROP(CanonicalWriter, ObjectsAreCapnpsCanonicalBytes, ()) {
  const Object o = GenObject();
  std::optional<std::string> direct = WriteCanonicalObject(o, 1);
  RC_CLASSIFY(direct.has_value(), "written directly");
  if (direct) RC_ASSERT(*direct == ReferenceObject(o));
  RC_ASSERT(EncodeObject(o) == ReferenceObject(o));
}

RC_GTEST_PROP(CanonicalWriter, ContextsAreCapnpsCanonicalBytes, ()) {
  const VersionVector clock = GenClock();
  const uint16_t version = *rc::gen::element<uint16_t>(1, 2, 3);
  const uint64_t key_hash = *GenWord();
  std::optional<std::string> direct = WriteCanonicalContext(clock, version, key_hash);
  RC_CLASSIFY(direct.has_value(), "written directly");
  if (direct) RC_ASSERT(*direct == ReferenceContext(clock, version, key_hash));
  // Appended after other bytes, the same bytes; refused, nothing appended.
  const std::string prefix = *rc::gen::string<std::string>();
  std::string appended = prefix;
  const bool covered = AppendCanonicalContext(&appended, clock, version, key_hash);
  RC_ASSERT(covered == direct.has_value());
  RC_ASSERT(appended == prefix + direct.value_or(""));
}

// What every write stores takes the direct path (else the speed-up is gone).
TEST(CanonicalWriterTest, TypicalWritesAreWrittenDirectly) {
  Object o;
  const Actor a{"n1", 0x1234};
  o.context = VersionVector({{a, 7}, {Actor{"n2", 99}, 3}});
  Sibling s;
  s.dot = Dot{a, 7};
  s.timestamp_us = 1'700'000'000'000'000;
  s.write_id = WriteId{0xabc, 0xdef};
  s.value = std::string(100, 'v');
  o.siblings.push_back(s);
  std::optional<std::string> direct = WriteCanonicalObject(o, 1);
  ASSERT_TRUE(direct.has_value());
  EXPECT_EQ(*direct, ReferenceObject(o));
  Result<Object> back = DecodeObject(*direct);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, o);
  std::optional<std::string> context = WriteCanonicalContext(o.context, 2, 0x5555);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(*context, ReferenceContext(o.context, 2, 0x5555));
}

}  // namespace
}  // namespace ringkv
