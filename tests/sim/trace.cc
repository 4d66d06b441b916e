#include "tests/sim/trace.h"

#include <cinttypes>
#include <memory>

namespace ringkv::sim {

Trace::Trace() : state_(XXH3_createState()) { XXH3_64bits_reset(state_.get()); }

void Trace::Record(int64_t time_us, std::string_view what, int64_t node, uint64_t detail) {
  int64_t fields[3] = {time_us, node, static_cast<int64_t>(detail)};
  XXH3_64bits_update(state_.get(), fields, sizeof(fields));
  XXH3_64bits_update(state_.get(), what.data(), what.size());
  ++records_;
  if (sink_ != nullptr) {
    std::fprintf(sink_, "%12.6f n%-4" PRId64 " %.*s %016" PRIx64 "\n", time_us / 1e6, node,
                 static_cast<int>(what.size()), what.data(), detail);
  }
}

void Trace::Note(int64_t time_us, std::string_view what, int64_t node, std::string_view text) {
  int64_t fields[2] = {time_us, node};
  XXH3_64bits_update(state_.get(), fields, sizeof(fields));
  XXH3_64bits_update(state_.get(), what.data(), what.size());
  XXH3_64bits_update(state_.get(), text.data(), text.size());
  ++records_;
  if (sink_ != nullptr) {
    std::fprintf(sink_, "%12.6f n%-4" PRId64 " %.*s %.*s\n", time_us / 1e6, node,
                 static_cast<int>(what.size()), what.data(), static_cast<int>(text.size()),
                 text.data());
  }
}

std::string Trace::HexHash() const {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, hash());
  return buf;
}

}  // namespace ringkv::sim
