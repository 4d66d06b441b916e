// The tree's arithmetic and the stored forms of anti-entropy: XOR levels,
// deltas that cancel when applied twice (the reason for exactly once), the
// key layout, and records that refuse hostile bytes.
#include <gtest/gtest.h>

#include <capnp/message.h>

#include <vector>

#include "antientropy/aae.capnp.h"
#include "antientropy/hash_tree.h"
#include "antientropy/hashing.h"
#include "antientropy/records.h"
#include "causality/object_codec.h"
#include "common/hash.h"

namespace ringkv::aae {
namespace {

TEST(HashTreeTest, LevelsAreXorsOfTheLevelBelow) {
  HashTree tree;
  tree.Apply(5, 0x1111);
  tree.Apply(5 + 256, 0x2222);
  tree.Apply(65535, 0x4444);
  EXPECT_EQ(tree.segment(5), 0x1111u);
  EXPECT_EQ(tree.branches()[0], 0x1111u);
  EXPECT_EQ(tree.branches()[1], 0x2222u);
  EXPECT_EQ(tree.branches()[255], 0x4444u);
  EXPECT_EQ(tree.top(), 0x1111u ^ 0x2222u ^ 0x4444u);
  std::vector<uint64_t> segs;
  tree.AppendSegments(1, &segs);
  ASSERT_EQ(segs.size(), 256u);
  EXPECT_EQ(segs[5], 0x2222u);
}

TEST(HashTreeTest, ADeltaAppliedTwiceCancelsItself) {
  HashTree once, twice;
  once.Apply(7, 0xabcdef);
  twice.Apply(7, 0xabcdef);
  twice.Apply(7, 0xabcdef);
  EXPECT_NE(once.top(), twice.top());
  EXPECT_EQ(twice.top(), 0u);
}

TEST(HashTreeTest, ImageRoundTripsAndRejectsHostileBytes) {
  HashTree tree;
  for (uint32_t s = 0; s < 1000; ++s) tree.Apply(s * 61 % kSegments, s * 0x9e3779b97f4a7c15ULL);
  Result<std::unique_ptr<HashTree>> back = DecodeTreeImage(EncodeTreeImage(tree));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(**back == tree);
  EXPECT_FALSE(DecodeTreeImage("").ok());
  EXPECT_FALSE(DecodeTreeImage("12345678").ok());
  EXPECT_FALSE(DecodeTreeImage(std::string(64, '\xff')).ok());
  EXPECT_TRUE(MarkerCurrent(EncodeMarker()));
  EXPECT_FALSE(MarkerCurrent("garbage!"));
}

TEST(RecordsTest, IndexKeysParseBackAndSortBySegment) {
  const std::string k = IndexKey(18, 0x1234, "users", "alice");
  uint32_t p = 0, seg = 0;
  std::string bucket, key;
  ASSERT_TRUE(ParseIndexKey(k, &p, &seg, &bucket, &key).ok());
  EXPECT_EQ(p, 18u);
  EXPECT_EQ(seg, 0x1234u);
  EXPECT_EQ(bucket, "users");
  EXPECT_EQ(key, "alice");
  EXPECT_EQ(k.substr(0, 8), std::string("ai\0\0\0\x12\x12\x34", 8));
  EXPECT_GE(k, IndexSegmentStart(18, 0x1234));
  EXPECT_LT(k, IndexSegmentEnd(18, 0x1234));
  EXPECT_LT(IndexSegmentEnd(18, 0xffff), IndexPartitionEnd(18) + std::string(1, '\0'));
  EXPECT_FALSE(ParseIndexKey("ai\0\0", nullptr, nullptr, nullptr, nullptr).ok());
  EXPECT_FALSE(ParseIndexKey(std::string("ai\0\0\0\x12\x12\x34\x7f", 9), nullptr, nullptr,
                             nullptr, nullptr)
                   .ok());
}

TEST(RecordsTest, IndexEntriesRoundTrip) {
  IndexEntry e{0x1122334455667788ULL, VersionVector({{Actor{"n1", 7}, 3}, {Actor{"n2", 9}, 1}})};
  Result<IndexEntry> back = DecodeIndexEntry(EncodeIndexEntry(e));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->leaf, e.leaf);
  EXPECT_EQ(back->clock, e.clock);
  EXPECT_FALSE(DecodeIndexEntry("short").ok());
}

// Every shape round-trips, whether written directly or by Cap'n Proto's
// builder (an empty clock, a zero incarnation or an all-zero data section),
// and the direct form is the canonical segment behind a one-segment table.
TEST(RecordsTest, IndexEntriesOfEveryShapeRoundTripAndAreCanonical) {
  const VersionVector two({{Actor{"n1", 7}, 3}, {Actor{"a-longer-node-name", 9}, 1}});
  const std::vector<IndexEntry> entries = {
      {0x1122334455667788ULL, two, false}, {0x1122334455667788ULL, two, true},
      {0, two, true},  {0, two, false},  {5, VersionVector(), true},
      {5, VersionVector({{Actor{"n1", 0}, 3}}), false},
  };
  for (const IndexEntry& e : entries) {
    const std::string bytes = EncodeIndexEntry(e);
    Result<IndexEntry> back = DecodeIndexEntry(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(back->leaf, e.leaf);
    EXPECT_EQ(back->clock, e.clock);
    EXPECT_EQ(back->tombstone, e.tombstone);
    capnp::MallocMessageBuilder builder;
    auto root = builder.initRoot<schema::IndexEntry>();
    root.setLeaf(e.leaf);
    root.setTombstone(e.tombstone);
    VersionVectorToCapnp(e.clock, root.initClock(static_cast<unsigned>(e.clock.entries().size())));
    kj::Array<capnp::word> canonical = capnp::canonicalize(root.asReader());
    const std::string segment(reinterpret_cast<const char*>(canonical.asBytes().begin()),
                              canonical.asBytes().size());
    if (bytes.size() == segment.size() + 8 && bytes.substr(8) == segment) continue;
    // Only shapes the direct writer leaves to Cap'n Proto differ.
    EXPECT_TRUE(e.clock.empty() || e.clock.entries()[0].first.incarnation == 0 ||
                (e.leaf == 0 && !e.tombstone));
  }
}

TEST(HashingTest, SegmentsDoNotFollowThePartition) {
  // Keys of one partition (the top 6 bits of the ring hash, Q = 64) spread
  // over the segments.
  std::set<uint32_t> segments;
  int n = 0;
  for (int i = 0; n < 2000; ++i) {
    const std::string key = "k" + std::to_string(i);
    if ((KeyHash("b", key) >> 58) != 5) continue;
    ++n;
    segments.insert(SegmentOf("b", key));
  }
  EXPECT_GT(segments.size(), 1900u);
}

TEST(HashingTest, LeafCoversClockAndValue) {
  const VersionVector c1({{Actor{"n1", 1}, 1}});
  const VersionVector c2({{Actor{"n1", 1}, 2}});
  const uint64_t base = LeafOf("b", "k", c1, "body");
  EXPECT_EQ(base, LeafOf("b", "k", c1, "body"));
  EXPECT_NE(base, LeafOf("b", "k", c2, "body"));
  EXPECT_NE(base, LeafOf("b", "k", c1, "bodz"));
  EXPECT_NE(base, LeafOf("bk", "", c1, "body"));
}

}  // namespace
}  // namespace ringkv::aae
