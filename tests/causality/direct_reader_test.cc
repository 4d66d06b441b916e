// Stored objects read in place (causality/direct_reader.h, DecodeObject's
// first try) against Cap'n Proto's reader: every record EncodeObject
// writes is read directly, and whatever the direct reader takes, forged or
// corrupted records included, Cap'n Proto takes with the same value.
#include "causality/direct_reader.h"

#include <capnp/message.h>
#include <gtest/gtest.h>
#include <kj/exception.h>

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "causality/object.h"
#include "causality/object_codec.h"

namespace ringkv {
namespace {

std::vector<Object> Objects() {
  Object a = Update(Object{}, VersionVector{}, Actor{"n1", 7}, 1000, false, "v1", {1, 2});
  Object b = Update(Object{}, VersionVector{}, Actor{"node-with-a-long-name", 9}, 2000, false,
                    std::string(300, 'x'), {3, 4});
  Object tomb = Update(Object{}, VersionVector{}, Actor{"n3", 1}, 3000, true, "");
  Object odd;  // shapes the canonical writer leaves to Cap'n Proto
  odd.context = VersionVector({{Actor{"", 0}, 1}});
  odd.siblings.push_back(Sibling{Dot{Actor{"", 0}, 1}, 0, false, "", {}});
  return {Object{}, a, tomb, Sync(a, b), Sync(Sync(a, b), tomb), odd};
}

std::optional<Object> Direct(std::string_view bytes) {
  if (bytes.empty() || bytes.size() % 8 != 0) return std::nullopt;
  direct::Segment segment(bytes.data(), bytes.size() / 8);
  Object object;
  if (!direct::ReadRootObject(segment, &object)) return std::nullopt;
  return object;
}

// Cap'n Proto's reading of a record, as DecodeObject's fallback does it.
Result<Object> ViaCapnp(std::string_view bytes) {
  std::vector<capnp::word> words(bytes.size() / 8);
  std::memcpy(words.data(), bytes.data(), words.size() * 8);
  kj::ArrayPtr<const capnp::word> segment(words.data(), words.size());
  capnp::ReaderOptions options;
  options.traversalLimitInWords = 2 * words.size() + 64;
  try {
    capnp::SegmentArrayMessageReader reader(kj::arrayPtr(&segment, 1), options);
    return ObjectFromCapnp(reader.getRoot<schema::Object>());
  } catch (const kj::Exception& e) {
    return Status::Corruption(e.getDescription().cStr());
  }
}

// Returns whether the direct reader took `bytes`; when it did, Cap'n Proto
// must agree, and DecodeObject must give that value.
bool AgreesWithCapnp(std::string_view bytes) {
  std::optional<Object> direct = Direct(bytes);
  if (!direct) return false;
  Result<Object> capnp = ViaCapnp(bytes);
  EXPECT_TRUE(capnp.ok()) << "taken directly, refused by Cap'n Proto: "
                          << capnp.status().ToString();
  if (capnp.ok()) {
    EXPECT_EQ(*direct, *capnp);
  }
  Result<Object> decoded = DecodeObject(bytes);
  EXPECT_TRUE(decoded.ok());
  if (decoded.ok()) {
    EXPECT_EQ(*decoded, *direct);
  }
  return true;
}

TEST(DirectReaderTest, ReadsEveryRecordEncodeObjectWrites) {
  for (const Object& o : Objects()) {
    const std::string bytes = EncodeObject(o);
    std::optional<Object> direct = Direct(bytes);
    ASSERT_TRUE(direct.has_value()) << bytes.size();
    EXPECT_EQ(*direct, o);
    // At an odd address, as a value may lie in a buffer.
    const std::string shifted = "x" + bytes;
    std::optional<Object> unaligned = Direct(std::string_view(shifted).substr(1));
    ASSERT_TRUE(unaligned.has_value());
    EXPECT_EQ(*unaligned, o);
  }
}

TEST(DirectReaderTest, RefusedValuesAreLeftToCapnp) {
  // An unsorted clock and a dot the context does not cover: well-formed
  // Cap'n Proto that the codec refuses; DecodeObject answers Corruption.
  Object unsorted;
  unsorted.siblings.push_back(Sibling{Dot{Actor{"n1", 1}, 1}, 0, false, "v", {}});
  unsorted.context = VersionVector({{Actor{"n1", 1}, 1}, {Actor{"n2", 1}, 1}});
  std::string bytes = EncodeObject(unsorted);
  // Swap the two actors' names ("n1" <-> "n2") in place: now unsorted.
  for (char& c : bytes) {
    if (c == '1') {
      c = '2';
    } else if (c == '2') {
      c = '1';
    }
  }
  EXPECT_FALSE(Direct(bytes).has_value());
  EXPECT_TRUE(DecodeObject(bytes).status().IsCorruption());
}

TEST(DirectReaderTest, TruncatedRecordsAreRefused) {
  for (const Object& o : Objects()) {
    const std::string bytes = EncodeObject(o);
    for (size_t len = 8; len < bytes.size(); len += 8) {
      const std::string cut = bytes.substr(0, len);
      AgreesWithCapnp(cut);
    }
  }
}

TEST(DirectReaderTest, EveryBitFlipAgreesWithCapnp) {
  for (const Object& o : Objects()) {
    const std::string bytes = EncodeObject(o);
    for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
      std::string flipped = bytes;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      AgreesWithCapnp(flipped);
    }
  }
}

TEST(DirectReaderTest, ForgedWordsAgreeWithCapnp) {
  std::mt19937_64 random(11);
  const uint64_t forged[] = {
      1 | (uint64_t{2} << 32) | (uint64_t{0x1fffffff} << 35),   // a 512 MiB byte list
      1 | (uint64_t{7} << 32) | (uint64_t{0x1fffffff} << 35),   // a huge struct list
      2,                                                        // a far pointer
      3,                                                        // a capability
      0 | (uint64_t{0xffff} << 32) | (uint64_t{0xffff} << 48),  // a struct of 128K words
  };
  for (const Object& o : Objects()) {
    const std::string bytes = EncodeObject(o);
    for (size_t w = 0; w < bytes.size() / 8; ++w) {
      for (uint64_t v : forged) {
        std::string f = bytes;
        std::memcpy(&f[8 * w], &v, 8);
        AgreesWithCapnp(f);
      }
      for (int round = 0; round < 200; ++round) {
        std::string f = bytes;
        const uint64_t v = random();
        std::memcpy(&f[8 * w], &v, 8);
        AgreesWithCapnp(f);
      }
    }
  }
}

TEST(DirectReaderTest, AmplifiedReadsAreLeftToCapnp) {
  // A sibling's value pointed at the whole record: in bounds, but then the
  // record's words are read twice over, more than any record written once
  // needs.
  Object a = Update(Object{}, VersionVector{}, Actor{"n1", 1}, 1, false, std::string(64, 'a'));
  std::string bytes = EncodeObject(a);
  size_t value_at = 0;  // the word of the 64-byte value's pointer
  for (size_t w = 0; w < bytes.size() / 8; ++w) {
    uint64_t p;
    std::memcpy(&p, &bytes[8 * w], 8);
    if ((p & 3) == 1 && ((p >> 32) & 7) == 2 && (p >> 35) == 64) value_at = w;
  }
  ASSERT_NE(value_at, 0u);
  const uint64_t forged = 1 | uint64_t{static_cast<uint32_t>(-static_cast<int64_t>(value_at + 1) * 4)} |
                          (uint64_t{2} << 32) | (uint64_t{bytes.size()} << 35);
  std::memcpy(&bytes[8 * value_at], &forged, 8);
  EXPECT_FALSE(Direct(bytes).has_value());
  // Cap'n Proto, the judge, allows twice the record: it reads the value,
  // and DecodeObject answers as it does.
  Result<Object> capnp = ViaCapnp(bytes);
  ASSERT_TRUE(capnp.ok()) << capnp.status().ToString();
  EXPECT_EQ(capnp->siblings[0].value, bytes);
  Result<Object> decoded = DecodeObject(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, *capnp);
}

}  // namespace
}  // namespace ringkv
