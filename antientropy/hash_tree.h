// HashTree: one replica's hash tree of one partition (docs/anti-entropy.md).
// 65,536 segment hashes under 256 branch hashes under one top hash; each
// level is the XOR of the one below, so a write moves one segment, its
// branch and the top by the same delta, in O(1). A delta is not idempotent
// (applied twice it cancels): the caller applies each committed write once.
//
// A branch's 256 segments are allocated when it first becomes non-zero, so
// a tree of a few keys is small; the blocks come from a pool that the
// kernel can back with huge pages (segment_blocks.h). Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "antientropy/hashing.h"
#include "antientropy/segment_blocks.h"

namespace ringkv::aae {

class HashTree {
 public:
  HashTree() = default;
  HashTree(const HashTree& other);
  HashTree(HashTree&&) = default;
  HashTree& operator=(HashTree&&) = default;
  HashTree& operator=(const HashTree&) = delete;

  // XORs `delta` into `segment`, its branch and the top.
  void Apply(uint32_t segment, uint64_t delta);

  uint64_t top() const { return top_; }
  const std::array<uint64_t, kBranches>& branches() const { return branches_; }
  uint64_t segment(uint32_t segment) const;
  // The 256 segment hashes of `branch`, appended to `out`.
  void AppendSegments(uint32_t branch, std::vector<uint64_t>* out) const;
  // Segment numbers whose hash is not zero, ascending, with their hashes.
  void NonZero(std::vector<uint32_t>* segments, std::vector<uint64_t>* hashes) const;
  size_t memory_bytes() const;

  bool operator==(const HashTree& other) const;

 private:
  struct FreeBlock {
    void operator()(uint64_t* block) const { FreeSegmentBlock(block); }
  };
  // kSegmentsPerBranch hashes, or null for a branch that was never
  // non-zero.
  using Segments = std::unique_ptr<uint64_t[], FreeBlock>;
  uint64_t top_ = 0;
  std::array<uint64_t, kBranches> branches_{};
  std::array<Segments, kBranches> segments_;
};

}  // namespace ringkv::aae
