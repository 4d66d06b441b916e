// Buggify: fault points that fire only in simulation (after FoundationDB's
// BUGGIFY).
//
// A site is named by a string. On its first use in a run the site is
// switched on or off for the whole run (one in four sites is on), and an
// enabled site then fires with its own probability each time it is
// evaluated. So each seed exercises a different handful of rare paths,
// deterministically. Disabled entirely outside the simulator: production code
// never sees this header. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/random.h"

namespace ringkv::sim {

class Buggify {
 public:
  Buggify(uint64_t seed, bool enabled) : random_(seed), enabled_(enabled) {}

  // True when `site` is active this run and fires now (chance `p`).
  bool Fire(const std::string& site, double p = 0.05) {
    if (!enabled_) return false;
    auto it = sites_.find(site);
    if (it == sites_.end()) it = sites_.emplace(site, random_.OneIn(4)).first;
    return it->second && random_.NextDouble() < p;
  }
  bool enabled() const { return enabled_; }
  // Sites seen so far and whether each is active (for the run summary).
  const std::map<std::string, bool>& sites() const { return sites_; }

 private:
  Random random_;
  bool enabled_;
  std::map<std::string, bool> sites_;
};

}  // namespace ringkv::sim
