// Node metadata: stamping a new data directory, reading it back, and
// rejecting unknown or damaged metadata.
#include "storage/meta.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/keys.h"
#include "storage/memory_storage.h"

namespace ringkv {
namespace {

TEST(MetaTest, NewDirectoryIsStampedDurably) {
  MemoryStorage s;
  Result<uint64_t> inc = InitMeta(&s, 0x0102030405060708ull);
  ASSERT_TRUE(inc.ok()) << inc.status().ToString();
  EXPECT_EQ(*inc, 0x0102030405060708ull);
  s.DropUnsynced();  // the stamp was synced
  std::string v;
  ASSERT_TRUE(s.Get(MetaKey(kMetaIncarnation), &v).ok());
  EXPECT_EQ(v, std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  ASSERT_TRUE(s.Get(MetaKey(kMetaFormatVersion), &v).ok());
  EXPECT_EQ(v, std::string("\x02\x00\x00\x00", 4));
}

TEST(MetaTest, ExistingDirectoryKeepsItsIncarnation) {
  MemoryStorage s;
  ASSERT_TRUE(InitMeta(&s, 42).ok());
  Result<uint64_t> again = InitMeta(&s, 99);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 42u);
}

TEST(MetaTest, UnknownOrDamagedMetadataIsRejected) {
  MemoryStorage s;
  ASSERT_TRUE(InitMeta(&s, 42).ok());
  WriteBatch future;
  future.Put(MetaKey(kMetaFormatVersion), std::string("\x03\x00\x00\x00", 4));
  ASSERT_TRUE(s.Write(future, false).ok());
  EXPECT_TRUE(InitMeta(&s, 1).status().IsInvalidArgument());
  // Format 1 is migrated before InitMeta (storage/format_migration.h).
  WriteBatch old;
  old.Put(MetaKey(kMetaFormatVersion), std::string("\x01\x00\x00\x00", 4));
  ASSERT_TRUE(s.Write(old, false).ok());
  EXPECT_TRUE(InitMeta(&s, 1).status().IsInvalidArgument());

  WriteBatch short_value;
  short_value.Put(MetaKey(kMetaFormatVersion), "\x01");
  ASSERT_TRUE(s.Write(short_value, false).ok());
  EXPECT_TRUE(InitMeta(&s, 1).status().IsCorruption());

  MemoryStorage half;
  WriteBatch only_incarnation;
  only_incarnation.Put(MetaKey(kMetaIncarnation), std::string(8, '\x01'));
  ASSERT_TRUE(half.Write(only_incarnation, false).ok());
  EXPECT_TRUE(InitMeta(&half, 1).status().IsCorruption());
}

}  // namespace
}  // namespace ringkv
