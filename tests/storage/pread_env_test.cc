// PreadEnv's files: reads at offsets, short reads at the end, errors as
// IOError, the descriptor budget, and concurrent reads of one file.
#include "storage/pread_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/storage/temp_dir.h"

namespace ringkv {
namespace {

using testing::TempDir;

// Bytes that differ at every offset of a short file, including zeros.
std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 7 + i / 256) & 0xff);
  return s;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

std::unique_ptr<leveldb::RandomAccessFile> OpenFile(PreadEnv* env, const std::string& path) {
  leveldb::RandomAccessFile* file = nullptr;
  const leveldb::Status s = env->NewRandomAccessFile(path, &file);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<leveldb::RandomAccessFile>(file);
}

// Reads n bytes at offset; the status must be OK.
std::string ReadAt(const leveldb::RandomAccessFile& file, uint64_t offset, size_t n) {
  std::string scratch(n, '\0');
  leveldb::Slice got;
  const leveldb::Status s = file.Read(offset, n, &got, scratch.data());
  EXPECT_TRUE(s.ok()) << s.ToString();
  return got.ToString();
}

class PreadEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() + "/000005.ldb";
    WriteFile(path_, content_);
  }

  TempDir dir_{"ringkv-pread"};
  std::string path_;
  const std::string content_ = Pattern(10000);
};

TEST_F(PreadEnvTest, ReadsAtOffsetsAndShortAtTheEnd) {
  PreadEnv env(leveldb::Env::Default());
  std::unique_ptr<leveldb::RandomAccessFile> file = OpenFile(&env, path_);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(ReadAt(*file, 0, 100), content_.substr(0, 100));
  EXPECT_EQ(ReadAt(*file, 4093, 4100), content_.substr(4093, 4100));
  EXPECT_EQ(ReadAt(*file, 0, content_.size()), content_);
  EXPECT_EQ(ReadAt(*file, 9990, 100), content_.substr(9990));  // short read, still OK
  EXPECT_EQ(ReadAt(*file, content_.size(), 10), "");
  EXPECT_EQ(ReadAt(*file, 1 << 20, 10), "");
  EXPECT_EQ(ReadAt(*file, 123, 0), "");
}

TEST_F(PreadEnvTest, MissingFileIsIoErrorNamingIt) {
  PreadEnv env(leveldb::Env::Default());
  const std::string missing = dir_.path() + "/000009.ldb";
  // Not null, so that the test sees the failure clear it.
  leveldb::RandomAccessFile* file = reinterpret_cast<leveldb::RandomAccessFile*>(1);
  const leveldb::Status s = env.NewRandomAccessFile(missing, &file);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find(missing), std::string::npos) << s.ToString();
  EXPECT_NE(s.ToString().find(std::strerror(ENOENT)), std::string::npos) << s.ToString();
  EXPECT_EQ(file, nullptr);
}

TEST_F(PreadEnvTest, FilesOverTheDescriptorBudgetReopenOnEachRead) {
  PreadEnv env(leveldb::Env::Default(), /*max_open_fds=*/1);
  const std::string other = dir_.path() + "/000006.ldb";
  WriteFile(other, content_);
  std::unique_ptr<leveldb::RandomAccessFile> holds_fd = OpenFile(&env, path_);
  std::unique_ptr<leveldb::RandomAccessFile> reopens = OpenFile(&env, other);
  ASSERT_NE(holds_fd, nullptr);
  ASSERT_NE(reopens, nullptr);
  EXPECT_EQ(ReadAt(*reopens, 500, 10), content_.substr(500, 10));

  // Unlinked, a file with its descriptor still reads; one without cannot.
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  ASSERT_EQ(::unlink(other.c_str()), 0);
  EXPECT_EQ(ReadAt(*holds_fd, 500, 10), content_.substr(500, 10));
  char scratch[10];
  leveldb::Slice got("stale");
  const leveldb::Status s = reopens->Read(500, sizeof(scratch), &got, scratch);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.ToString().find(other), std::string::npos) << s.ToString();
  EXPECT_TRUE(got.empty());

  // Closing the file that held the descriptor gives it back.
  holds_fd.reset();
  WriteFile(path_, content_);
  std::unique_ptr<leveldb::RandomAccessFile> again = OpenFile(&env, path_);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  EXPECT_EQ(ReadAt(*again, 9000, 5), content_.substr(9000, 5));
}

TEST_F(PreadEnvTest, ConcurrentReadsOfOneFile) {
  for (const int budget : {1, 0}) {
    PreadEnv env(leveldb::Env::Default(), budget);
    std::unique_ptr<leveldb::RandomAccessFile> file = OpenFile(&env, path_);
    ASSERT_NE(file, nullptr);
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (size_t t = 0; t < mismatches.size(); ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = 0; i < 500; ++i) {
          const uint64_t offset = (t * 2311 + i * 97) % content_.size();
          std::string scratch(300, '\0');
          leveldb::Slice got;
          const leveldb::Status s = file->Read(offset, scratch.size(), &got, scratch.data());
          if (!s.ok() || got.ToString() != content_.substr(offset, 300)) ++mismatches[t];
        }
      });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0)) << "budget " << budget;
  }
}

}  // namespace
}  // namespace ringkv
