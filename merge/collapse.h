// Collapse: what a merge bucket does where siblings meet. After the causal
// merge (Sync) has dropped every sibling a context superseded, the values
// left are truly concurrent; a value merge turns them into one sibling, and
// concurrent tombstones into one tombstone. The result depends only on the
// set of siblings, never on the order they arrived in, so every replica that
// holds the same siblings stores the same bytes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "causality/object.h"
#include "common/status.h"

namespace ringkv {

// Merges two or more value siblings, given in canonical order, into the
// bytes of one value; an error declines.
using ValueMerge = std::function<Result<std::string>(const std::vector<const Sibling*>&)>;

// The stamp order: (timestamp, node, incarnation, counter). A merged value
// carries the greatest stamp of its inputs, so merging merged values gives
// the stamps a plain max does, and LWW over stamps stays a join.
bool StampLess(const Sibling& a, const Sibling& b);

// The sibling that stands for `inputs` (non-empty) merged into `value`: the
// dot and timestamp of the greatest stamp, no write id (it is no one write).
Sibling MergedSibling(const std::vector<const Sibling*>& inputs, std::string value);

// `s` with its values merged into one by `merge` (left as they are when it
// declines, its status in *declined) and its tombstones into the
// greatest-stamped one. Fewer than two values: no call. The merged value
// stands under the sibling `into` (a value of `s`; its dot, stamp and write
// id) when given, else under MergedSibling's greatest stamp. Only a dot
// minted for this very merge may carry it into storage: under an older one,
// a context that saw that dot but not the other inputs would discard them
// all with it.
Object Collapse(Object s, const ValueMerge& merge, Status* declined = nullptr,
                const Dot* into = nullptr);

}  // namespace ringkv
