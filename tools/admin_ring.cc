#include "tools/admin_ring.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace ringkv {
namespace {

// Owners per text line of the partition table: a 1024-partition ring stays
// 64 lines.
constexpr size_t kOwnersPerLine = 16;

uint32_t MinPartitions(const RingView& ring) {
  uint32_t least = UINT32_MAX;
  for (const RingMemberView& m : ring.members) least = std::min(least, m.partitions);
  return ring.members.empty() ? 0 : least;
}

uint32_t MaxPartitions(const RingView& ring) {
  uint32_t most = 0;
  for (const RingMemberView& m : ring.members) most = std::max(most, m.partitions);
  return most;
}

}  // namespace

void PrintRingText(const RingView& ring) {
  std::printf("ring epoch %" PRIu64 "  partitions %zu  n %u  members %zu\n", ring.epoch,
              ring.owners.size(), ring.n, ring.members.size());
  std::printf("balance: %u to %u partitions per member\n", MinPartitions(ring),
              MaxPartitions(ring));
  std::printf("placement violations: %u (windows of %u partitions repeating an owner)\n",
              ring.violations, ring.n);
  std::printf("members:\n");
  for (const RingMemberView& m : ring.members) {
    std::printf("  %-8s %-21s %u partitions\n", m.node.c_str(), m.address.c_str(), m.partitions);
  }
  std::printf("owners:\n");
  for (size_t p = 0; p < ring.owners.size(); p += kOwnersPerLine) {
    std::printf("  %5zu", p);
    for (size_t i = p; i < std::min(ring.owners.size(), p + kOwnersPerLine); ++i) {
      std::printf(" %s", ring.owners[i].c_str());
    }
    std::printf("\n");
  }
}

void PrintRingJson(const RingView& ring) {
  nlohmann::json members = nlohmann::json::array();
  for (const RingMemberView& m : ring.members) {
    members.push_back({{"node", m.node}, {"address", m.address}, {"partitions", m.partitions}});
  }
  nlohmann::json out = {{"epoch", ring.epoch},
                        {"partitions", ring.owners.size()},
                        {"n", ring.n},
                        {"members", members},
                        {"balance", {{"min", MinPartitions(ring)}, {"max", MaxPartitions(ring)}}},
                        {"violations", ring.violations},
                        {"owners", ring.owners}};
  std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace ringkv
