#include "common/quorum.h"

#include <charconv>
#include <string>

namespace ringkv {

Result<uint32_t> ResolveQuorum(uint32_t requested, uint32_t fallback, uint32_t n,
                               std::string_view what) {
  uint32_t v = requested;
  if (v == kQuorumDefault) v = fallback;
  if (v == kQuorumQuorum) v = n / 2 + 1;
  if (v == kQuorumAll) v = n;
  if (v > n) {
    return Status::InvalidArgument(std::string(what) + "=" + std::to_string(v) +
                                   " exceeds the bucket's n=" + std::to_string(n));
  }
  return v;
}

Result<uint32_t> ParseQuorumArg(std::string_view text) {
  if (text == "default") return kQuorumDefault;
  if (text == "one") return 1u;
  if (text == "quorum") return kQuorumQuorum;
  if (text == "all") return kQuorumAll;
  uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::InvalidArgument("quorum must be a number or one|quorum|all, got '" +
                                   std::string(text) + "'");
  }
  if (v == 0) return Status::InvalidArgument("quorum must be at least 1");
  // On the wire these numbers are the names quorum and all; as counts they
  // exceed any bucket's n.
  if (v >= kQuorumQuorum) {
    return Status::InvalidArgument("quorum count " + std::string(text) +
                                   " exceeds any bucket's n; write all for every replica");
  }
  return v;
}

}  // namespace ringkv
