// The tree's arithmetic and the stored forms of anti-entropy: XOR levels,
// deltas that cancel when applied twice (the reason for exactly once), the
// key layout, and records that refuse hostile bytes.
#include <gtest/gtest.h>

#include <capnp/message.h>
#include <xxhash.h>

#include <cstdint>
#include <vector>

#include "antientropy/aae.capnp.h"
#include "antientropy/hash_tree.h"
#include "antientropy/hashing.h"
#include "antientropy/records.h"
#include "antientropy/segment_blocks.h"
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

TEST(HashTreeTest, ACopyOwnsItsSegments) {
  HashTree original;
  original.Apply(300, 0x77);
  HashTree copy(original);
  copy.Apply(300, 0x77);
  copy.Apply(301, 0x5);
  EXPECT_EQ(original.segment(300), 0x77u);
  EXPECT_EQ(original.segment(301), 0u);
  EXPECT_EQ(copy.segment(300), 0u);
  EXPECT_EQ(copy.segment(301), 0x5u);
}

// A block handed out again after a free reads as zeros: a tree that got a
// dirty block would start from another tree's hashes.
TEST(SegmentBlocksTest, AReusedBlockIsZero) {
  std::vector<uint64_t*> blocks;
  for (int i = 0; i < 8; ++i) {
    blocks.push_back(AllocateSegmentBlock());
    for (uint32_t s = 0; s < kSegmentsPerBranch; ++s) blocks.back()[s] = ~uint64_t{0} - s;
  }
  for (uint64_t* b : blocks) FreeSegmentBlock(b);
  for (int i = 0; i < 8; ++i) {
    uint64_t* b = AllocateSegmentBlock();
    for (uint32_t s = 0; s < kSegmentsPerBranch; ++s) ASSERT_EQ(b[s], 0u) << "block " << i;
    blocks[i] = b;
  }
  for (uint64_t* b : blocks) FreeSegmentBlock(b);
}

// Freed blocks are used again before any new memory is mapped, so trees
// rebuilt over and over do not grow the process; no block straddles a
// 2 MiB boundary (each chunk is one aligned huge page).
TEST(SegmentBlocksTest, FreedBlocksAreReusedAndChunksAreAligned) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  std::vector<uint64_t*> blocks;
  for (int i = 0; i < 3000; ++i) blocks.push_back(AllocateSegmentBlock());
  for (uint64_t* b : blocks) {
    const auto at = reinterpret_cast<uintptr_t>(b);
    ASSERT_EQ(at / kHuge, (at + kSegmentsPerBranch * sizeof(uint64_t) - 1) / kHuge);
  }
  const uint64_t mapped = SegmentBlockBytesMapped();
  EXPECT_GE(mapped, 3000u * kSegmentsPerBranch * sizeof(uint64_t));
  for (int round = 0; round < 5; ++round) {
    for (uint64_t* b : blocks) FreeSegmentBlock(b);
    for (uint64_t*& b : blocks) b = AllocateSegmentBlock();
  }
  EXPECT_EQ(SegmentBlockBytesMapped(), mapped);
  for (uint64_t* b : blocks) FreeSegmentBlock(b);
  std::vector<HashTree> trees(4);
  for (HashTree& t : trees) {
    for (uint32_t b = 0; b < 500; ++b) t.Apply(b % kBranches * kSegmentsPerBranch, 1);
  }
  EXPECT_EQ(SegmentBlockBytesMapped(), mapped);
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

// The clock is in the leaf through the canonical body, which holds it.
TEST(HashingTest, LeafCoversKeyClockAndValue) {
  const Object o = Update(Object{}, VersionVector(), Actor{"n1", 1}, 1, false, "v", WriteId{1, 1});
  Object later_clock = o;
  later_clock.context = VersionVector({{Actor{"n1", 1}, 1}, {Actor{"n2", 1}, 4}});
  Object other_value = o;
  other_value.siblings[0].value = "w";
  const uint64_t base = LeafOf("b", "k", EncodeObject(o));
  EXPECT_EQ(base, LeafOf("b", "k", EncodeObject(o)));
  EXPECT_NE(base, LeafOf("b", "k", EncodeObject(later_clock)));
  EXPECT_NE(base, LeafOf("b", "k", EncodeObject(other_value)));
  EXPECT_NE(base, LeafOf("bk", "", EncodeObject(o)));
  EXPECT_NE(base, LeafOf("b", "j", EncodeObject(o)));
}

// The leaf is exactly its documented definition (docs/anti-entropy.md, hash
// version 2): replicas of different builds compare these hashes.
TEST(HashingTest, LeavesAreTheirDefinition) {
  const auto reference = [](const std::string& bucket, const std::string& key,
                            const std::string& body) {
    std::string in;
    PutVarint32(&in, static_cast<uint32_t>(bucket.size()));
    in += bucket;
    PutVarint32(&in, static_cast<uint32_t>(key.size()));
    in += key;
    const uint64_t digest = XXH3_64bits(body.data(), body.size());
    for (int i = 0; i < 8; ++i) in.push_back(static_cast<char>(digest >> (8 * i)));
    return XXH3_64bits_withSeed(in.data(), in.size(), 0x1f2e3d4c5b6a7988ULL);
  };
  for (int i = 0; i < 3; ++i) {  // the leaf's buffer is reused between calls
    EXPECT_EQ(LeafOf("users", "alice", "body"), reference("users", "alice", "body"));
    EXPECT_EQ(LeafOf("", std::string(100, 'k'), ""), reference("", std::string(100, 'k'), ""));
    EXPECT_EQ(LeafOfDigest("users", "alice", XXH3_64bits("body", 4)),
              reference("users", "alice", "body"));
    // Names past the stack buffer, and lengths of two varint bytes.
    const std::string bucket(200, 'b'), key(300, 'k');
    EXPECT_EQ(LeafOf(bucket, key, "body"), reference(bucket, key, "body"));
    // One hasher, two digests (a write's old and new leaf).
    LeafHasher both(bucket, key);
    EXPECT_EQ(both.Of(XXH3_64bits("old", 3)), reference(bucket, key, "old"));
    EXPECT_EQ(both.Of(XXH3_64bits("new", 3)), reference(bucket, key, "new"));
  }
  // A fixed vector, so a change of the definition cannot pass unnoticed.
  EXPECT_EQ(LeafOf("users", "alice", "body"), 0x550a422526241007ULL);
}

}  // namespace
}  // namespace ringkv::aae
