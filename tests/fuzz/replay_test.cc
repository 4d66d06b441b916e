// Replays the fuzz corpus in the tree (tests/fuzz/corpus/<target>/) and the
// seeds made from today's encoders through the fuzz targets, built with the
// normal compiler: every input a fuzzer ever found interesting stays a
// regression test in `make test`. A crash kills this binary, which the test
// runner counts as a failure; the last "replaying" line names the input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/seeds.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {
namespace {

using TargetFn = int (*)(const uint8_t*, size_t);

void Run(TargetFn fn, const std::string& what, const std::string& bytes) {
  std::fprintf(stderr, "replaying %s (%zu bytes)\n", what.c_str(), bytes.size());
  EXPECT_EQ(fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0) << what;
}

// Runs every corpus file of `target` and its in-memory seeds; returns how
// many corpus files there were.
size_t Replay(const std::string& target, TargetFn fn) {
  const std::filesystem::path dir = std::filesystem::path(RINGKV_FUZZ_CORPUS) / target;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(dir)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    Run(fn, path.string(), std::string(std::istreambuf_iterator<char>(in), {}));
  }
  for (const Seed& seed : MakeSeeds()) {
    if (seed.target == target) Run(fn, "seed " + seed.name, seed.bytes);
  }
  return files.size();
}

TEST(FuzzReplay, Frame) { EXPECT_GT(Replay("frame", FuzzFrame), 0u); }
TEST(FuzzReplay, Message) { EXPECT_GT(Replay("message", FuzzMessage), 0u); }
TEST(FuzzReplay, Record) { EXPECT_GT(Replay("record", FuzzRecord), 0u); }
TEST(FuzzReplay, Context) { EXPECT_GT(Replay("context", FuzzContext), 0u); }
TEST(FuzzReplay, ClusterFile) { EXPECT_GT(Replay("cluster_file", FuzzClusterFile), 0u); }

}  // namespace
}  // namespace ringkv::fuzz
