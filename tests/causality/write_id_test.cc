// One client write coordinated twice (a forward retried on the next primary
// while the first was still at work) must look like one write: same
// timestamp, one sibling after any merge, and nothing of it resurrected.
#include <gtest/gtest.h>

#include "causality/object.h"
#include "causality/object_codec.h"
#include "tests/causality/object_test_util.h"

namespace ringkv {
namespace {

const Actor A{"A", 1};
const Actor B{"B", 1};
const WriteId kW{0x1234, 0x5678};

// The write `value` with id `id` and time `ts`, coordinated at `at` on `base`.
Object Coordinated(const Object& base, const Actor& at, const std::string& value,
                   const WriteId& id = kW, int64_t ts = 77) {
  return Update(base, {}, at, ts, false, value, id);
}

TEST(WriteIdTest, UpdateStampsTheWriteAndHoldsWriteFindsIt) {
  Object s = Coordinated({}, A, "v");
  ASSERT_EQ(s.siblings.size(), 1u);
  EXPECT_EQ(s.siblings[0].write_id, kW);
  EXPECT_EQ(s.siblings[0].timestamp_us, 77);
  EXPECT_TRUE(HoldsWrite(s, kW));
  EXPECT_FALSE(HoldsWrite(s, WriteId{1, 1}));
  EXPECT_FALSE(HoldsWrite(s, WriteId{}));
}

TEST(WriteIdTest, TwiceCoordinatedWriteMergesToOneSibling) {
  Object at_a = Coordinated({}, A, "v");
  Object at_b = Coordinated({}, B, "v");
  Object ab = Sync(at_a, at_b);
  EXPECT_EQ(ab, Sync(at_b, at_a));
  ASSERT_EQ(ab.siblings.size(), 1u);
  // The greatest dot stays (the copy LWW would keep); the other dot stays covered, so no
  // replica that still holds it can bring it back.
  EXPECT_EQ(ab.siblings[0].dot, (Dot{B, 1}));
  EXPECT_TRUE(ab.context.Covers(Dot{A, 1}));
  EXPECT_EQ(Sync(ab, at_a), ab);
  EXPECT_EQ(Sync(at_a, ab), ab);
  EXPECT_EQ(CheckInvariants(ab), "");
}

TEST(WriteIdTest, RepeatsNextToOtherSiblingsAreFoldedAndTheOthersKept) {
  Object base = Update({}, {}, A, 1, false, "other", WriteId{9, 9});
  Object at_a = Coordinated(base, A, "v");
  Object at_b = Coordinated(Update({}, {}, B, 2, false, "third", WriteId{8, 8}), B, "v");
  Object merged = Sync(at_a, at_b);
  std::vector<std::string> values;
  for (const Sibling* s : merged.Values()) values.push_back(s->value);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"other", "third", "v"}));
}

TEST(WriteIdTest, EqualIdsWithDifferentContentAreNotFolded) {
  // A colliding id (or a forged one) can never make a distinct value vanish.
  Object merged = Sync(Coordinated({}, A, "x"), Coordinated({}, B, "y"));
  EXPECT_EQ(merged.Values().size(), 2u);
  Object ts = Sync(Coordinated({}, A, "x", kW, 1), Coordinated({}, B, "x", kW, 2));
  EXPECT_EQ(ts.siblings.size(), 2u);
}

TEST(WriteIdTest, SiblingsWithoutIdsAreNeverFolded) {
  // Records written before write ids existed carry 0/0.
  Object merged = Sync(Update({}, {}, A, 5, false, "same"), Update({}, {}, B, 5, false, "same"));
  EXPECT_EQ(merged.siblings.size(), 2u);
}

TEST(WriteIdTest, RepeatedTombstonesFoldToo) {
  Object merged = Sync(Update({}, {}, A, 5, true, "", kW), Update({}, {}, B, 5, true, "", kW));
  EXPECT_EQ(merged.siblings.size(), 1u);
  EXPECT_TRUE(merged.IsDeleted());
}

TEST(WriteIdTest, FoldAndLwwKeepTheSameCopySoNoMergeLosesBoth) {
  // One replica met both copies in a siblings-style merge (fold), another
  // resolved them by LWW: had they kept different copies, each would cover
  // the other's and their merge would hold nothing.
  Object at_a = Coordinated({}, A, "v");
  Object at_b = Coordinated({}, B, "v");
  Object folded = Sync(at_a, at_b);
  Object resolved = ResolveLww(Sync(at_b, at_a));
  EXPECT_EQ(folded.siblings, resolved.siblings);
  Object merged = ResolveLww(Sync(folded, resolved));
  ASSERT_EQ(merged.siblings.size(), 1u);
  EXPECT_EQ(merged.siblings[0].value, "v");
}

TEST(WriteIdTest, LwwOfARepeatedWriteKeepsItsValue) {
  Object newer = Update({}, {}, B, 100, false, "newer", WriteId{2, 2});
  Object replay = Coordinated({}, A, "older", kW, 50);
  Object merged = ResolveLww(Sync(Sync(newer, replay), Coordinated({}, B, "older", kW, 50)));
  ASSERT_EQ(merged.siblings.size(), 1u);
  EXPECT_EQ(merged.siblings[0].value, "newer");
}

// Found by the simulator (chaos, seed 1039, a clock stepped 1.25 s ahead):
// a delete superseded v2 by context, v2 beat v1 by time, v1 beat the delete
// by time. Resolving each pair its own way left two replicas that each
// covered the other's survivor, and their merge held nothing.
TEST(LwwMergeTest, ACycleOfCausalityAndTimeStillKeepsTheLatestStamp) {
  const Actor C{"C", 1};
  Object v2 = Update({}, {}, B, 300, false, "v2", WriteId{2, 2});
  Object v1 = Update({}, {}, C, 200, false, "v1", WriteId{3, 3});
  Object del = Update(v2, v2.context, A, 100, true, "", WriteId{4, 4});
  // One replica met v1 and the delete (v2 already superseded): v1 by time.
  Object left = MergeLww(v1, del);
  // The other met v1 and v2: v2 by time.
  Object right = MergeLww(v2, v1);
  EXPECT_TRUE(Sync(ResolveLww(Sync(v1, del)), ResolveLww(Sync(v2, v1))).siblings.empty())
      << "the cycle this merge exists for";
  Object merged = MergeLww(left, right);
  ASSERT_EQ(merged.siblings.size(), 1u);
  EXPECT_EQ(merged.siblings[0].value, "v2");
  EXPECT_EQ(MergeLww(right, left), merged);
  EXPECT_TRUE(merged.context.Covers(Dot{A, 1}));
}

TEST(WriteIdTest, CodecKeepsTheWriteId) {
  Object s = Coordinated({}, A, "v");
  Result<Object> back = DecodeObject(EncodeObject(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->siblings[0].write_id, kW);
  EXPECT_EQ(*back, s);
}

}  // namespace
}  // namespace ringkv
