// The ABI header compiles as C++20 (the C plugins built -std=c99 -pedantic
// -Werror show it is C99): its structs are standard layout, and the
// entry point has C linkage.
#include <gtest/gtest.h>

#include <type_traits>

#include "merge/ringkv_merge.h"

TEST(MergeHeaderTest, CompilesAsCxx20WithStandardLayoutStructs) {
  EXPECT_TRUE(std::is_standard_layout_v<rkv_merge_plugin>);
  EXPECT_TRUE(std::is_standard_layout_v<rkv_sibling>);
  EXPECT_TRUE(std::is_standard_layout_v<rkv_host_api>);
  EXPECT_EQ(RKV_MERGE_ABI_VERSION, 1u);
  rkv_merge_plugin_entry_fn entry = nullptr;
  EXPECT_EQ(entry, nullptr);
}
