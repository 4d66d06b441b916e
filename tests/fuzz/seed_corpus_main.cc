// fuzz_seed_corpus DIR: writes the seed corpus (tests/fuzz/seeds.h) to
// DIR/<target>/seed-<name>. Earlier seed-* files go first, so a seed the
// encoders no longer make does not linger; every other file (regressions,
// minimized finds) is left alone. `make fuzz-seeds` runs it on the tree.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/fuzz/seeds.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const std::vector<ringkv::fuzz::Seed> seeds = ringkv::fuzz::MakeSeeds();
  for (const ringkv::fuzz::Seed& seed : seeds) {
    const std::filesystem::path dir = root / seed.target;
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().filename().string().starts_with("seed-")) {
        std::filesystem::remove(entry.path());
      }
    }
  }
  int written = 0;
  for (const ringkv::fuzz::Seed& seed : seeds) {
    std::filesystem::create_directories(root / seed.target);
    const std::filesystem::path path = root / seed.target / ("seed-" + seed.name);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(seed.bytes.data(), static_cast<std::streamsize>(seed.bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
    ++written;
  }
  std::printf("%d seeds written under %s\n", written, root.c_str());
  return 0;
}
