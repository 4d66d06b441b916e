#include "antientropy/segment_blocks.h"

#include <sys/mman.h>

#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "antientropy/hashing.h"

namespace ringkv::aae {
namespace {

constexpr size_t kBlockBytes = kSegmentsPerBranch * sizeof(uint64_t);
constexpr size_t kChunkBytes = size_t{2} << 20;  // one x86-64 huge page

struct Pool {
  std::mutex mu;
  std::vector<uint64_t*> free;
  // The unused tail of the newest chunk: fresh (zero, maybe untouched)
  // memory, handed out before the free list's used blocks need a memset.
  char* next = nullptr;
  char* end = nullptr;
  uint64_t mapped = 0;
};

Pool& ThePool() {
  // Never destroyed: a tree may outlive static destruction order.
  static Pool* pool = new Pool;
  return *pool;
}

// A new chunk, aligned to its size so that the kernel can back it with one
// huge page: map twice the size and unmap the unaligned ends.
char* MapChunk() {
  void* raw = mmap(nullptr, 2 * kChunkBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kChunkBytes - 1) & ~(uintptr_t{kChunkBytes} - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t tail = aligned + kChunkBytes;
  const uintptr_t raw_end = start + 2 * kChunkBytes;
  if (raw_end > tail) munmap(reinterpret_cast<void*>(tail), raw_end - tail);
  // Advice only: without transparent huge pages the chunk is faulted in
  // 4 KiB pages, as plain allocations were.
  madvise(reinterpret_cast<void*>(aligned), kChunkBytes, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(aligned);
}

}  // namespace

uint64_t* AllocateSegmentBlock() {
  Pool& pool = ThePool();
  std::lock_guard lock(pool.mu);
  if (!pool.free.empty()) {
    uint64_t* block = pool.free.back();
    pool.free.pop_back();
    std::memset(block, 0, kBlockBytes);
    return block;
  }
  if (pool.next == pool.end) {
    pool.next = MapChunk();
    pool.end = pool.next + kChunkBytes;
    pool.mapped += kChunkBytes;
  }
  auto* block = reinterpret_cast<uint64_t*>(pool.next);
  pool.next += kBlockBytes;
  return block;
}

void FreeSegmentBlock(uint64_t* block) {
  if (block == nullptr) return;
  Pool& pool = ThePool();
  std::lock_guard lock(pool.mu);
  pool.free.push_back(block);
}

uint64_t SegmentBlockBytesMapped() {
  Pool& pool = ThePool();
  std::lock_guard lock(pool.mu);
  return pool.mapped;
}

}  // namespace ringkv::aae
