// ringkv-admin ring: one node's ring for an operator, as text or JSON
// (docs/cli.md): members with their partition counts, balance, placement
// violations, and the owner of every partition.
#pragma once

#include "client/ring_view.h"

namespace ringkv {

void PrintRingText(const RingView& ring);
void PrintRingJson(const RingView& ring);

}  // namespace ringkv
