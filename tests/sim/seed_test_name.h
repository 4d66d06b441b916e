// The name of a parameterized (scenario, seed index) case of the simulation
// suites: the scenario with '-' spelled '_' (gtest names allow no '-'),
// "_seed" and the seed it runs, kFirstSeed + index; e.g. aae_wipe_seed1003.
// The seed in the name is what `ringkv-sim --seed` replays.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

namespace ringkv::sim {

template <int kFirstSeed>
struct SeedTestName {
  std::string operator()(
      const ::testing::TestParamInfo<std::tuple<std::string, int>>& info) const {
    std::string name = std::get<0>(info.param);
    for (char& ch : name) ch = ch == '-' ? '_' : ch;
    return name + "_seed" + std::to_string(kFirstSeed + std::get<1>(info.param));
  }
};

}  // namespace ringkv::sim
