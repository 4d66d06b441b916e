#include "node/incarnation.h"

#include <gtest/gtest.h>

#include "storage/memory_storage.h"

namespace ringkv {
namespace {

TEST(IncarnationTest, StableForOneDirectoryAndFreshForANewOne) {
  MemoryStorage a, b;
  auto first = LoadOrCreateIncarnation(&a);
  ASSERT_TRUE(first.ok());
  EXPECT_NE(*first, 0u);
  EXPECT_EQ(*LoadOrCreateIncarnation(&a), *first);
  EXPECT_NE(*LoadOrCreateIncarnation(&b), *first);
}

TEST(GenerationTest, GrowsAtEveryStartEvenWhenTheClockGoesBack) {
  MemoryStorage s;
  auto g1 = NextGeneration(&s, 1'000'000);
  ASSERT_TRUE(g1.ok());
  EXPECT_EQ(*g1, 1'000'000u);
  auto g2 = NextGeneration(&s, 500);  // clock stepped back
  ASSERT_TRUE(g2.ok());
  EXPECT_EQ(*g2, 1'000'001u);
  auto g3 = NextGeneration(&s, 2'000'000);
  ASSERT_TRUE(g3.ok());
  EXPECT_EQ(*g3, 2'000'000u);
}

}  // namespace
}  // namespace ringkv
