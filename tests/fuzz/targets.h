// The fuzz targets (docs/fuzzing.md): one function per decoder fed with
// hostile bytes. Each is linked twice: behind libFuzzer's entry point
// (libfuzzer_entry.cc, `make fuzz`) and into the corpus replay test
// (replay_test.cc, `make test`), so the corpus in the tree runs in CI.
//
// A target returns normally on any input. It aborts only when a decoder
// breaks its contract (a decoded value that does not survive re-encoding, a
// view outside the input); sanitizers report everything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace ringkv::fuzz {

int FuzzFrame(const uint8_t* data, size_t size);
int FuzzMessage(const uint8_t* data, size_t size);
int FuzzRecord(const uint8_t* data, size_t size);
int FuzzContext(const uint8_t* data, size_t size);
int FuzzClusterFile(const uint8_t* data, size_t size);

// A broken contract: abort, so libFuzzer saves the input and the replay
// test fails.
[[noreturn]] inline void ContractBroken(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: decoder contract broken: %s\n", file, line, what);
  std::abort();
}

}  // namespace ringkv::fuzz

#define RINGKV_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::ringkv::fuzz::ContractBroken(#cond, __FILE__, __LINE__))
