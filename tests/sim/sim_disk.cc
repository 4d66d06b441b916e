#include "tests/sim/sim_disk.h"

namespace ringkv::sim {

Status SimDisk::Write(const WriteBatch& batch, bool sync) {
  ++stats_.writes;
  if (sync) ++stats_.synced_writes;
  int64_t latency = faults_.write_latency_us + (sync ? faults_.sync_latency_us : 0);
  if (latency > 0) process_->AddBusy(latency);
  if (faults_.full) {
    ++stats_.failed_writes;
    return Status::IOError("disk full (simulated)");
  }
  if (faults_.write_error > 0 && random_->NextDouble() < faults_.write_error) {
    ++stats_.failed_writes;
    return Status::IOError("write error (simulated)");
  }
  if (mutate_) {
    WriteBatch copy = batch;
    mutate_(&copy);
    return base_->Write(copy, sync);
  }
  return base_->Write(batch, sync);
}

}  // namespace ringkv::sim
