#include "replication/ring_state_codec.h"

#include <capnp/message.h>

#include <map>
#include <utility>

#include "proto/flat_record.h"
#include "replication/ring_state.capnp.h"

namespace ringkv {
namespace {

constexpr uint16_t kStateRecordVersion = 1;

capnp::Text::Reader AsText(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }
capnp::Data::Reader AsData(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}
std::string FromText(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }
std::string FromData(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

// Reads a record of type T from `bytes` with `fn(reader)`; any decoding
// failure (short, misaligned, out of bounds) is Corruption.
template <typename T, typename Fn>
auto Read(std::string_view bytes, const char* what, Fn fn) -> decltype(fn(typename T::Reader())) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption(std::string(what) + ": not a whole number of words");
  }
  if (bytes.size() > kMaxStateBytes) {
    return Status::InvalidArgument(std::string(what) + " of " + std::to_string(bytes.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(kMaxStateBytes));
  }
  return ReadFlatRecord<T>(bytes, std::string(what) + " undecodable", fn);
}

void SetStaged(const std::vector<StagedChange>& staged,
               capnp::List<schema::StagedRecord>::Builder out) {
  for (unsigned i = 0; i < out.size(); ++i) {
    out[i].setKind(static_cast<uint8_t>(staged[i].kind));
    out[i].setNode(AsText(staged[i].node));
    out[i].setReplacement(AsText(staged[i].with));
  }
}

Result<std::vector<StagedChange>> GetStaged(capnp::List<schema::StagedRecord>::Reader in) {
  std::vector<StagedChange> staged;
  for (auto s : in) {
    if (s.getKind() > static_cast<uint8_t>(StagedChange::Kind::kForceReplace)) {
      return Status::Corruption("staged change of unknown kind");
    }
    staged.push_back({static_cast<StagedChange::Kind>(s.getKind()), FromText(s.getNode()),
                      FromText(s.getReplacement())});
  }
  return staged;
}

}  // namespace

std::string EncodeRingState(const RingState& state) {
  capnp::MallocMessageBuilder builder;
  auto r = builder.initRoot<schema::RingStateRecord>();
  r.setVersion(kStateRecordVersion);
  r.setEpoch(state.epoch);
  r.setPartitions(state.partitions);
  r.setN(state.n);
  std::map<NodeId, uint32_t> index;
  auto members = r.initMembers(static_cast<unsigned>(state.members.size()));
  for (unsigned i = 0; i < members.size(); ++i) {
    members[i].setId(AsText(state.members[i].id));
    members[i].setAddress(AsText(state.members[i].address));
    members[i].setStatus(static_cast<uint8_t>(state.members[i].status));
    index[state.members[i].id] = i;
  }
  auto indexes = [&index](const std::vector<NodeId>& ids, capnp::List<uint32_t>::Builder out) {
    for (unsigned i = 0; i < out.size(); ++i) {
      auto it = index.find(ids[i]);
      out.set(i, it == index.end() ? UINT32_MAX : it->second);
    }
  };
  indexes(state.owners, r.initOwners(static_cast<unsigned>(state.owners.size())));
  indexes(state.next_owners, r.initNextOwners(static_cast<unsigned>(state.next_owners.size())));
  r.setChangeEpoch(state.change_epoch);
  auto transfers = r.initTransfers(static_cast<unsigned>(state.transfers.size()));
  for (unsigned i = 0; i < transfers.size(); ++i) {
    const Move& m = state.transfers[i];
    transfers[i].setPartition(m.partition);
    transfers[i].setFrom(AsText(m.from));
    transfers[i].setTo(AsText(m.to));
    transfers[i].setDone(m.done);
  }
  SetStaged(state.staged, r.initStaged(static_cast<unsigned>(state.staged.size())));
  auto buckets = r.initBuckets(static_cast<unsigned>(state.buckets.size()));
  for (unsigned i = 0; i < buckets.size(); ++i) {
    const BucketInfo& b = state.buckets[i];
    buckets[i].setName(AsData(b.name));
    buckets[i].setN(b.n);
    buckets[i].setR(b.r);
    buckets[i].setW(b.w);
    buckets[i].setResolver(AsText(b.resolver));
    buckets[i].setMaxSiblings(b.max_siblings);
    buckets[i].setWarnSiblings(b.warn_siblings);
    buckets[i].setPluginVersion(b.plugin_version);
    buckets[i].setPluginHash(AsText(b.plugin_hash));
  }
  r.setTransfersPerNode(state.limits.per_node);
  r.setTransferMibPerSec(state.limits.mib_per_sec);
  return FlatRecordBytes(builder);
}

Result<RingState> DecodeRingState(std::string_view bytes) {
  Result<RingState> state = Read<schema::RingStateRecord>(
      bytes, "ring state", [](schema::RingStateRecord::Reader r) -> Result<RingState> {
        if (r.getVersion() != kStateRecordVersion) {
          return Status::Corruption("ring state record version " +
                                    std::to_string(r.getVersion()));
        }
        RingState s;
        s.epoch = r.getEpoch();
        s.partitions = r.getPartitions();
        s.n = r.getN();
        if (r.getMembers().size() > kMaxStateMembers) {
          return Status::InvalidArgument("ring state with over 1024 members");
        }
        for (auto m : r.getMembers()) {
          s.members.push_back({FromText(m.getId()), FromText(m.getAddress()),
                               static_cast<MemberStatus>(m.getStatus())});
        }
        auto ids = [&s](capnp::List<uint32_t>::Reader in,
                        std::vector<NodeId>* out) -> Status {
          for (uint32_t i : in) {
            if (i >= s.members.size()) return Status::Corruption("owner index out of range");
            out->push_back(s.members[i].id);
          }
          return Status::OK();
        };
        RINGKV_RETURN_IF_ERROR(ids(r.getOwners(), &s.owners));
        RINGKV_RETURN_IF_ERROR(ids(r.getNextOwners(), &s.next_owners));
        s.change_epoch = r.getChangeEpoch();
        for (auto m : r.getTransfers()) {
          s.transfers.push_back(
              {m.getPartition(), FromText(m.getFrom()), FromText(m.getTo()), m.getDone()});
        }
        Result<std::vector<StagedChange>> staged = GetStaged(r.getStaged());
        if (!staged.ok()) return staged.status();
        s.staged = std::move(staged).value();
        if (r.getBuckets().size() > kMaxStateBuckets) {
          return Status::InvalidArgument("ring state with over " +
                                         std::to_string(kMaxStateBuckets) + " buckets");
        }
        for (auto b : r.getBuckets()) {
          s.buckets.push_back({FromData(b.getName()), b.getN(), b.getR(), b.getW(),
                               FromText(b.getResolver()), b.getMaxSiblings(),
                               b.getWarnSiblings(), b.getPluginVersion(),
                               FromText(b.getPluginHash())});
        }
        s.limits = {r.getTransfersPerNode(), r.getTransferMibPerSec()};
        return s;
      });
  if (!state.ok()) return state.status();
  RINGKV_RETURN_IF_ERROR(ValidateState(*state));
  return state;
}

std::string EncodePlan(const PlanView& plan) {
  capnp::MallocMessageBuilder builder;
  auto r = builder.initRoot<schema::RingPlanRecord>();
  r.setId(AsText(plan.id));
  r.setEpoch(plan.epoch);
  SetStaged(plan.staged, r.initStaged(static_cast<unsigned>(plan.staged.size())));
  auto moves = r.initMoves(static_cast<unsigned>(plan.moves.size()));
  for (unsigned i = 0; i < moves.size(); ++i) {
    const PlanMove& m = plan.moves[i];
    moves[i].setPartition(m.move.partition);
    moves[i].setFrom(AsText(m.move.from));
    moves[i].setTo(AsText(m.move.to));
    moves[i].setKeys(m.keys);
    moves[i].setBytes(m.bytes);
    moves[i].setSizeKnown(m.size_known);
  }
  r.setMinPartitions(plan.after.min_partitions);
  r.setMaxPartitions(plan.after.max_partitions);
  r.setViolations(plan.after.violations);
  r.setForced(plan.forced);
  r.setEtaSec(plan.eta_sec);
  return FlatRecordBytes(builder);
}

Result<PlanView> DecodePlan(std::string_view bytes) {
  return Read<schema::RingPlanRecord>(
      bytes, "plan", [](schema::RingPlanRecord::Reader r) -> Result<PlanView> {
        PlanView p;
        p.id = FromText(r.getId());
        p.epoch = r.getEpoch();
        Result<std::vector<StagedChange>> staged = GetStaged(r.getStaged());
        if (!staged.ok()) return staged.status();
        p.staged = std::move(staged).value();
        for (auto m : r.getMoves()) {
          p.moves.push_back(
              {{m.getPartition(), FromText(m.getFrom()), FromText(m.getTo()), false},
               m.getKeys(),
               m.getBytes(),
               m.getSizeKnown()});
        }
        p.after.min_partitions = r.getMinPartitions();
        p.after.max_partitions = r.getMaxPartitions();
        p.after.violations = r.getViolations();
        p.forced = r.getForced();
        p.eta_sec = r.getEtaSec();
        return p;
      });
}

std::string EncodeTransferReport(const TransferReport& report) {
  capnp::MallocMessageBuilder builder;
  auto r = builder.initRoot<schema::TransferReportRecord>();
  r.setNode(AsText(report.node));
  auto list = r.initTransfers(static_cast<unsigned>(report.transfers.size()));
  for (unsigned i = 0; i < list.size(); ++i) {
    const TransferProgress& t = report.transfers[i];
    list[i].setPartition(t.partition);
    list[i].setFrom(AsText(t.from));
    list[i].setTo(AsText(t.to));
    list[i].setState(AsText(t.state));
    list[i].setObjects(t.objects);
    list[i].setBytes(t.bytes);
    list[i].setTotalObjects(t.total_objects);
    list[i].setTotalBytes(t.total_bytes);
    list[i].setBytesPerSec(t.bytes_per_sec);
    list[i].setEtaSec(t.eta_sec);
    list[i].setReason(AsText(t.reason));
    list[i].setAttempts(t.attempts);
    list[i].setRetryInSec(t.retry_in_sec);
  }
  return FlatRecordBytes(builder);
}

Result<TransferReport> DecodeTransferReport(std::string_view bytes) {
  return Read<schema::TransferReportRecord>(
      bytes, "transfer report",
      [](schema::TransferReportRecord::Reader r) -> Result<TransferReport> {
        TransferReport report;
        report.node = FromText(r.getNode());
        for (auto t : r.getTransfers()) {
          report.transfers.push_back({t.getPartition(), FromText(t.getFrom()),
                                      FromText(t.getTo()), FromText(t.getState()),
                                      t.getObjects(), t.getBytes(), t.getTotalObjects(),
                                      t.getTotalBytes(), t.getBytesPerSec(), t.getEtaSec(),
                                      FromText(t.getReason()), t.getAttempts(),
                                      t.getRetryInSec()});
        }
        return report;
      });
}

}  // namespace ringkv
