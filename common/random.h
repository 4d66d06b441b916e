// Random: the one source of randomness for protocol code.
//
// Seeded explicitly so that a simulation run is reproducible from its seed.
// Not thread-safe; each node (each loop) owns one.
#pragma once

#include <cstdint>
#include <random>

namespace ringkv {

class Random {
 public:
  explicit Random(uint64_t seed) : gen_(seed) {}
  uint64_t Next() { return gen_(); }
  // Uniform in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n) { return gen_() % n; }
  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  bool OneIn(uint64_t n) { return Uniform(n) == 0; }

 private:
  std::mt19937_64 gen_;
};

}  // namespace ringkv
