// libFuzzer's entry point for one target; tests/fuzz/meson.build compiles
// this file once per target with RINGKV_FUZZ_TARGET naming its function.
#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ringkv::fuzz::RINGKV_FUZZ_TARGET(data, size);
}
