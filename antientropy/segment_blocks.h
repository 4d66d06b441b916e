// Segment blocks: the memory of a hash tree's branches (hash_tree.h), one
// block of 256 segment hashes (2 KiB) per branch that is not all zero.
//
// Why a pool of its own: a node's trees fill as keys arrive, so with
// plain allocations every 4 KiB page of tree memory (8,192 for 64
// partitions) is first touched by a write, and a first touch is a page
// fault in the write path; on a virtual machine a fault costs tens of
// microseconds, which was most of what anti-entropy cost a load of new
// keys (docs/performance.md, "Issue 11's write cost: first touch"). The
// blocks are carved from 2 MiB chunks aligned to 2 MiB and advised for
// transparent huge pages, so the kernel backs a chunk (1,024 blocks) with
// one fault where it can, and with 4 KiB pages as before where it cannot.
// Freed blocks are kept for reuse (a rebuilt tree's, a saved image's) and
// chunks are never returned: tree memory only grows to the trees' size.
//
// Thread-safe: the process's trees share it (tests run several nodes in
// one process).
#pragma once

#include <cstdint>

namespace ringkv::aae {

// A block of kSegmentsPerBranch zeroed 64-bit hashes. Throws
// std::bad_alloc when no memory can be mapped (as `new` does).
uint64_t* AllocateSegmentBlock();
// Returns a block from AllocateSegmentBlock (null: nothing).
void FreeSegmentBlock(uint64_t* block);

// Bytes mapped for blocks in this process (used and free).
uint64_t SegmentBlockBytesMapped();

}  // namespace ringkv::aae
