// Nemesis: the fault schedule of a scenario (Jepsen's name for it).
//
// Between start and end it injects one fault at a time at random intervals,
// each healed after a random duration: process crash, power loss (unsynced
// writes lost), disk wipe (new incarnation), pause, partitions of every
// shape (halves, isolate one, one-way cut, bridge, swizzle), clock jumps,
// full disk, slow disk, and lossy/duplicating/reordering links. At most
// `max_faulty` nodes are down, paused or disk-faulted at once. HealAll ends
// every fault so checkers can run on a quiet, connected cluster. Every
// choice comes from the run's seed. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tests/sim/buggify.h"
#include "tests/sim/sim_cluster.h"

namespace ringkv::sim {

struct NemesisOptions {
  int64_t start_us = 0;
  int64_t end_us = 0;
  int64_t min_gap_us = 100'000;
  int64_t max_gap_us = 1'500'000;
  int64_t min_duration_us = 200'000;
  int64_t max_duration_us = 3'000'000;
  bool crash = false;
  bool power_loss = false;
  bool wipe = false;
  int max_wipes = 1;
  bool pause = false;
  bool partition = false;
  bool clock_jump = false;
  int64_t max_clock_jump_us = 2'000'000;
  bool disk_full = false;
  bool slow_disk = false;
  bool link_chaos = false;
  int max_faulty = 1;
};

class Nemesis {
 public:
  // `cluster` and `buggify` outlive the nemesis.
  Nemesis(SimCluster* cluster, NemesisOptions options, Buggify* buggify);
  void Start();
  // Heals every fault now: links, lossless network, resumed and restarted
  // nodes, healthy disks. Clock offsets stay (skew is not a fault to heal).
  void HealAll();
  uint64_t faults_injected() const { return faults_; }
  const std::vector<std::string>& log() const { return log_; }

 private:
  enum Kind { kCrash, kPowerLoss, kWipe, kPause, kPartition, kClock, kDiskFull, kSlowDisk, kLinks };
  void Tick();
  void Inject(Kind kind);
  int PickHealthyNode();
  int64_t Duration();
  void Partition();
  void Note(const std::string& what);

  SimCluster* cluster_;
  NemesisOptions options_;
  Buggify* buggify_;
  Random random_;
  std::vector<Kind> kinds_;
  std::vector<bool> faulty_;
  int faulty_count_ = 0;
  bool partitioned_ = false;
  bool links_bad_ = false;
  int wipes_ = 0;
  uint64_t faults_ = 0;
  LinkProfile calm_;
  std::vector<std::string> log_;
};

}  // namespace ringkv::sim
