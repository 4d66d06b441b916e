// Resolvers by name: the built-ins, and that every place states meet can
// ask for one instead of switching on a kind.
#include "causality/resolver.h"

#include <gtest/gtest.h>

#include "tests/causality/object_test_util.h"

namespace ringkv {
namespace {

const Actor A{"A", 1};
const Actor B{"B", 1};

TEST(ResolverTest, BuiltInsAreFoundByNameAndNothingElseIs) {
  ASSERT_NE(FindResolver("siblings"), nullptr);
  ASSERT_NE(FindResolver("lww"), nullptr);
  EXPECT_EQ(FindResolver("siblings")->Name(), "siblings");
  EXPECT_EQ(FindResolver("lww")->Name(), "lww");
  EXPECT_EQ(FindResolver("coin"), nullptr);
  EXPECT_EQ(FindResolver(""), nullptr);
  EXPECT_EQ(DefaultResolver().Name(), "siblings");
  EXPECT_EQ(ResolverNames(), (std::vector<std::string_view>{"siblings", "lww"}));
}

TEST(ResolverTest, SiblingsKeepConcurrentWritesAndLwwTheLatestStamp) {
  Object a = Update({}, {}, A, 100, false, "a", WriteId{1, 1});
  Object b = Update({}, {}, B, 200, false, "b", WriteId{2, 2});
  const Resolver& siblings = *FindResolver("siblings");
  const Resolver& lww = *FindResolver("lww");
  EXPECT_EQ(siblings.Merge(a, b), Sync(a, b));
  EXPECT_EQ(siblings.Merge(a, b).siblings.size(), 2u);
  Object latest = lww.Merge(a, b);
  ASSERT_EQ(latest.siblings.size(), 1u);
  EXPECT_EQ(latest.siblings[0].value, "b");
  EXPECT_EQ(lww.Merge(b, a), latest);
  EXPECT_EQ(lww.Normalize(Sync(a, b)), latest);
}

TEST(ResolverTest, AfterUpdateLetsAnEarlierStampedWriteLoseUnderLww) {
  Object stored = Update({}, {}, B, 500, false, "stored", WriteId{1, 1});
  Object updated = Update(stored, {}, A, 100, false, "late-but-older", WriteId{2, 2});
  Object kept = FindResolver("lww")->AfterUpdate(&stored, updated);
  ASSERT_EQ(kept.siblings.size(), 1u);
  EXPECT_EQ(kept.siblings[0].value, "stored");
  EXPECT_TRUE(kept.context.Covers(Dot{A, 1}));
  EXPECT_EQ(FindResolver("siblings")->AfterUpdate(&stored, updated), updated);
}

}  // namespace
}  // namespace ringkv
