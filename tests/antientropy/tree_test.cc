// The tree's arithmetic and the stored forms of anti-entropy: XOR levels,
// deltas that cancel when applied twice (the reason for exactly once), the
// key layout, and records that refuse hostile bytes.
#include <gtest/gtest.h>

#include <capnp/message.h>
#include <xxhash.h>

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

TEST(HashingTest, SegmentsDoNotFollowThePartition) {
  // Keys of one partition (the top 6 bits of the ring hash, Q = 64) spread
  // over the segments.
  std::set<uint32_t> segments;
  int n = 0;
  for (int i = 0; n < 2000; ++i) {
    const std::string key = "k" + std::to_string(i);
    if ((KeyHash("b", key) >> 58) != 5) continue;
    ++n;
    segments.insert(KeySegment("b", key));
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

// The leaf is exactly its documented definition (docs/anti-entropy.md),
// for clocks the direct context writer covers and for those it leaves to
// Cap'n Proto: replicas of different builds compare these hashes.
TEST(HashingTest, LeavesAreTheirDefinition) {
  const auto reference = [](const std::string& bucket, const std::string& key,
                            const VersionVector& clock, const std::string& body) {
    std::string in;
    in.push_back(static_cast<char>(bucket.size()));
    in += bucket;
    in.push_back(static_cast<char>(key.size()));
    in += key;
    in += EncodeContext(clock, KeyHash(bucket, key));
    const uint64_t digest = XXH3_64bits(body.data(), body.size());
    for (int i = 0; i < 8; ++i) in.push_back(static_cast<char>(digest >> (8 * i)));
    return XXH3_64bits_withSeed(in.data(), in.size(), 0x1f2e3d4c5b6a7988ULL);
  };
  for (const VersionVector& clock :
       {VersionVector(), VersionVector({{Actor{"n1", 1}, 1}}),
        VersionVector({{Actor{"n1", 7}, 3}, {Actor{"a-longer-node-name", 9}, 1}}),
        VersionVector({{Actor{"n1", 0}, 3}})}) {
    for (int i = 0; i < 3; ++i) {  // the leaf's buffer is reused between calls
      EXPECT_EQ(LeafOf("users", "alice", clock, "body"),
                reference("users", "alice", clock, "body"));
      EXPECT_EQ(LeafOf("", std::string(100, 'k'), clock, ""),
                reference("", std::string(100, 'k'), clock, ""));
    }
  }
}

}  // namespace
}  // namespace ringkv::aae
