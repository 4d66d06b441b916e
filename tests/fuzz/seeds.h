// The seed corpus: valid inputs for every fuzz target, made by the real
// encoders (so a seed is exactly what a node, a client or ringkv-cluster
// writes). `fuzz_seed_corpus DIR` writes them to DIR/<target>/seed-<name>;
// the replay test also runs them from memory, so seeds follow the encoders
// even before the tree's copies are regenerated. See docs/fuzzing.md.
#pragma once

#include <string>
#include <vector>

namespace ringkv::fuzz {

struct Seed {
  std::string target;  // a corpus folder: frame, message, record, context, cluster_file
  std::string name;    // file name without the "seed-" prefix
  std::string bytes;
};

std::vector<Seed> MakeSeeds();

}  // namespace ringkv::fuzz
