// Storage key layout: round trips, ordering, and malformed-key rejection.
#include "storage/keys.h"

#include <gtest/gtest.h>
#include <xxhash.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/hash.h"

namespace ringkv {
namespace {

TEST(KeysTest, ObjectKeyLayoutIsFixed) {
  // See docs/storage-format.md for this example.
  EXPECT_EQ(KeySegment("users", "alice"), 0x5cd5u);
  EXPECT_EQ(ObjectKey(0x0102, "users", "alice"),
            std::string("o\x00\x00\x01\x02\x5c\xd5\x05users" "alice", 18));
  EXPECT_EQ(ObjectKey(0x0102, 0x5cd5, "users", "alice"), ObjectKey(0x0102, "users", "alice"));
  EXPECT_EQ(ObjectKey(7, std::string(200, 'b'), "k").substr(0, 9),
            std::string("o\x00\x00\x00\x07", 5) +
                ObjectKey(7, std::string(200, 'b'), "k").substr(5, 2) + "\xc8\x01");
  EXPECT_EQ(SegmentStart(0x0102, 0x5cd5), std::string("o\x00\x00\x01\x02\x5c\xd5", 7));
  EXPECT_EQ(SegmentEnd(0x0102, 0x5cd5), std::string("o\x00\x00\x01\x02\x5c\xd6", 7));
  EXPECT_EQ(SegmentEnd(0x0102, 0xffff), PartitionEnd(0x0102));
  EXPECT_EQ(PartitionStart(0x0102), std::string("o\x00\x00\x01\x02", 5));
  EXPECT_EQ(PartitionEnd(0x0102), std::string("o\x00\x00\x01\x03", 5));
  EXPECT_EQ(PartitionEnd(UINT32_MAX), "p");
  EXPECT_EQ(MetaKey(kMetaIncarnation), "mincarnation");
  EXPECT_EQ(HintKey("n1", 0x0102, "b", "k"),
            std::string("h\x02n1" "o\x00\x00\x01\x02\x2e\x38\x01" "bk", 14));
  EXPECT_EQ(HintPrefix("n1"), std::string("h\x02n1", 4));
}

// The ring position and the segment are their documented definitions
// (docs/storage-format.md), on either side of KeyHash's small-buffer path.
TEST(KeysTest, KeyHashAndSegmentAreTheirDefinitions) {
  EXPECT_EQ(KeyHash("users", "alice"), 0x4a0581538dec7ad0ull);
  for (size_t bucket_len : {0u, 1u, 127u, 128u, 200u, 300u}) {
    for (size_t key_len : {0u, 5u, 55u, 56u, 57u, 130u}) {
      const std::string bucket(bucket_len, 'b'), key(key_len, '\xff');
      std::string in;
      for (uint32_t v = static_cast<uint32_t>(bucket_len); ; v >>= 7) {
        if (v < 0x80) {
          in.push_back(static_cast<char>(v));
          break;
        }
        in.push_back(static_cast<char>(v | 0x80));
      }
      in += bucket + key;
      EXPECT_EQ(KeyHash(bucket, key), XXH3_64bits(in.data(), in.size())) << bucket_len << " " << key_len;
      EXPECT_EQ(KeySegment(bucket, key),
                XXH3_64bits_withSeed(in.data(), in.size(), 0x5a3c9e1f0b7d2468ull) >> 48);
    }
  }
}

TEST(KeysTest, ObjectKeyRoundTrips) {
  const std::vector<std::string> buckets = {"", "b", std::string("\0\xff", 2), std::string(300, 'x')};
  const std::vector<std::string> keys = {"", "k", std::string("\0\0\x80", 3), std::string(1000, '\xff')};
  for (uint32_t p : {0u, 1u, 63u, 1u << 20, UINT32_MAX}) {
    for (const auto& b : buckets) {
      for (const auto& k : keys) {
        uint32_t pp = 0;
        std::string bb, kk;
        ASSERT_TRUE(ParseObjectKey(ObjectKey(p, b, k), &pp, &bb, &kk).ok());
        EXPECT_EQ(pp, p);
        EXPECT_EQ(bb, b);
        EXPECT_EQ(kk, k);
      }
    }
  }
}

TEST(KeysTest, BucketKeySplitIsUnambiguous) {
  EXPECT_NE(ObjectKey(1, "ab", "c"), ObjectKey(1, "a", "bc"));
  EXPECT_NE(ObjectKey(1, "", "ab"), ObjectKey(1, "ab", ""));
}

TEST(KeysTest, PartitionKeysSortInsideTheirRange) {
  const std::vector<std::string> names = {"", "a", std::string("\0", 1), std::string("\xff\xff\xff", 3),
                                          std::string(130, '\xff')};
  std::vector<uint32_t> partitions = {0, 1, 2, 255, 256, 1023, 65536, UINT32_MAX - 1, UINT32_MAX};
  for (uint32_t p : partitions) {
    for (const auto& b : names) {
      for (const auto& k : names) {
        const std::string key = ObjectKey(p, b, k);
        EXPECT_LE(PartitionStart(p), key);
        EXPECT_LT(key, PartitionEnd(p));
        // Not inside any other partition's range.
        if (p > 0) {
          EXPECT_GE(key, PartitionEnd(p - 1));
        }
        if (p < UINT32_MAX) {
          EXPECT_LT(key, PartitionStart(p + 1));
        }
      }
    }
  }
  // Ranges tile the object key space in partition order.
  for (size_t i = 0; i + 1 < partitions.size(); ++i) {
    EXPECT_LE(PartitionEnd(partitions[i]), PartitionStart(partitions[i + 1]));
  }
}

TEST(KeysTest, KindsLiveInSeparateRanges) {
  const std::string obj_lo = ObjectKey(0, "", ""), obj_hi = ObjectKey(UINT32_MAX, "\xff", "\xff");
  const std::string hint = HintKey(std::string(255, '\xff'), UINT32_MAX, "\xff", "\xff");
  const std::string meta = MetaKey("\xff\xff");
  EXPECT_LT(hint, meta);
  EXPECT_LT(meta, obj_lo);
  EXPECT_LT(obj_hi, "p");
  EXPECT_FALSE(ParseObjectKey(hint, nullptr, nullptr, nullptr).ok());
  EXPECT_FALSE(ParseObjectKey(meta, nullptr, nullptr, nullptr).ok());
}

TEST(KeysTest, HintKeysRoundTripAndStayUnderTheirTarget) {
  for (uint32_t p : {0u, 1u, 255u, 256u, UINT32_MAX}) {
    const std::string hk = HintKey("node-a", p, "bucket", std::string("k\0y", 3));
    std::string target, bucket, key;
    uint32_t partition = 0;
    ASSERT_TRUE(ParseHintKey(hk, &target, &partition, &bucket, &key).ok());
    EXPECT_EQ(target, "node-a");
    EXPECT_EQ(partition, p);
    EXPECT_EQ(bucket, "bucket");
    EXPECT_EQ(key, std::string("k\0y", 3));
    EXPECT_EQ(hk.substr(0, HintPrefix("node-a").size()), HintPrefix("node-a"));
    EXPECT_LT(hk, PrefixEnd(HintPrefix("node-a")));
  }
  EXPECT_EQ(HintKey("t", 3, "b", "k"), HintKey("t", 3, "b", "k"));
  EXPECT_NE(HintKey("t", 3, "b", "k"), HintKey("t", 3, "b", "k2"));
  // One target's prefix does not cover another target's hints.
  const std::string other = HintKey("node-ab", 0, "b", "k");
  EXPECT_NE(other.substr(0, HintPrefix("node-a").size()), HintPrefix("node-a"));
  EXPECT_TRUE(ParseHintKey(std::string("h\x02n1", 4), nullptr, nullptr, nullptr, nullptr)
                  .IsCorruption());
}

TEST(KeysTest, MalformedKeysAreCorruption) {
  EXPECT_TRUE(ParseObjectKey("", nullptr, nullptr, nullptr).IsCorruption());
  EXPECT_TRUE(ParseObjectKey("o\0\0\0", nullptr, nullptr, nullptr).IsCorruption());
  EXPECT_TRUE(ParseObjectKey(std::string("o\0\0\0\0", 5), nullptr, nullptr, nullptr).IsCorruption());
  EXPECT_TRUE(ParseObjectKey(std::string("o\0\0\0\0\x05" "abc", 9), nullptr, nullptr, nullptr)
                  .IsCorruption());
  EXPECT_TRUE(ParseObjectKey(std::string("o\0\0\0\0\x80\x80\x80\x80\x80\x01", 11), nullptr, nullptr,
                             nullptr)
                  .IsCorruption());
  EXPECT_TRUE(ParseObjectKey(std::string("o\0\0\0\0\xff\xff\xff\xff\x1f", 10), nullptr, nullptr,
                             nullptr)
                  .IsCorruption());
  // A non-minimal varint would let two stored keys name one object
  // (found by the record fuzz target, tests/fuzz/corpus/record/regress-*).
  EXPECT_TRUE(ParseObjectKey(std::string("o\0\0\0\0\x80\x00", 7), nullptr, nullptr, nullptr)
                  .IsCorruption());
  EXPECT_TRUE(ParseObjectKey(std::string("o\0\0\0\0\x81\x80\x00" "b", 9), nullptr, nullptr,
                             nullptr)
                  .IsCorruption());
  EXPECT_TRUE(ParseHintKey("h", nullptr, nullptr, nullptr, nullptr).IsCorruption());
  EXPECT_TRUE(ParseHintKey(std::string("h\x05" "ab", 4), nullptr, nullptr, nullptr, nullptr)
                  .IsCorruption());
  // Every truncation that cuts into the target, partition or bucket is
  // rejected (the key itself is the remainder, so it may be shortened).
  const std::string hint = HintKey("n", 9, "bkt", "k");
  const size_t key_start = hint.size() - 1;
  for (size_t len = 0; len < key_start; ++len) {
    EXPECT_TRUE(ParseHintKey(hint.substr(0, len), nullptr, nullptr, nullptr, nullptr)
                    .IsCorruption())
        << len;
  }
}

TEST(KeysTest, PrefixEnd) {
  EXPECT_EQ(PrefixEnd("ab"), "ac");
  EXPECT_EQ(PrefixEnd(std::string("a\xff\xff", 3)), "b");
  EXPECT_EQ(PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixEnd(""), "");
}

}  // namespace
}  // namespace ringkv
