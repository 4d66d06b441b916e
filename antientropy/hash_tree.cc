#include "antientropy/hash_tree.h"

#include <algorithm>

namespace ringkv::aae {

HashTree::HashTree(const HashTree& other) : top_(other.top_), branches_(other.branches_) {
  for (uint32_t b = 0; b < kBranches; ++b) {
    if (!other.segments_[b]) continue;
    segments_[b].reset(AllocateSegmentBlock());
    std::copy_n(other.segments_[b].get(), kSegmentsPerBranch, segments_[b].get());
  }
}

void HashTree::Apply(uint32_t segment, uint64_t delta) {
  if (delta == 0) return;
  const uint32_t b = BranchOf(segment % kSegments);
  if (!segments_[b]) segments_[b].reset(AllocateSegmentBlock());
  segments_[b][segment % kSegmentsPerBranch] ^= delta;
  branches_[b] ^= delta;
  top_ ^= delta;
}

uint64_t HashTree::segment(uint32_t segment) const {
  const uint32_t b = BranchOf(segment % kSegments);
  return segments_[b] ? segments_[b][segment % kSegmentsPerBranch] : 0;
}

void HashTree::AppendSegments(uint32_t branch, std::vector<uint64_t>* out) const {
  const uint64_t* s = segments_[branch % kBranches].get();
  for (uint32_t i = 0; i < kSegmentsPerBranch; ++i) out->push_back(s ? s[i] : 0);
}

void HashTree::NonZero(std::vector<uint32_t>* segments, std::vector<uint64_t>* hashes) const {
  for (uint32_t b = 0; b < kBranches; ++b) {
    if (!segments_[b]) continue;
    for (uint32_t i = 0; i < kSegmentsPerBranch; ++i) {
      if (segments_[b][i] == 0) continue;
      segments->push_back(b * kSegmentsPerBranch + i);
      hashes->push_back(segments_[b][i]);
    }
  }
}

size_t HashTree::memory_bytes() const {
  size_t n = sizeof(*this);
  for (const auto& s : segments_) n += s ? kSegmentsPerBranch * sizeof(uint64_t) : 0;
  return n;
}

bool HashTree::operator==(const HashTree& other) const {
  if (top_ != other.top_ || branches_ != other.branches_) return false;
  for (uint32_t b = 0; b < kBranches; ++b) {
    for (uint32_t i = 0; i < kSegmentsPerBranch; ++i) {
      if (segment(b * kSegmentsPerBranch + i) != other.segment(b * kSegmentsPerBranch + i)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace ringkv::aae
