#include "proto/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

#include "causality/capnp_words.h"
#include "causality/object_codec.h"
#include "proto/codec_capnp.h"
#include "proto/direct_decoder.h"
#include "proto/direct_encoder.h"
#include "proto/wire.capnp.h"

namespace ringkv {
namespace {

// Each decoded field is read once or twice; the slack covers the default
// (empty) object of replies that carry none.
constexpr uint64_t kTraversalFactor = 4;
constexpr uint64_t kTraversalSlackWords = 256;
constexpr int kNestingLimit = 64;

capnp::Data::Reader AsData(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

capnp::Text::Reader AsText(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

std::string FromData(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

std::string FromText(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }

void SetStatus(const Status& status, schema::ReplyStatus::Builder out) {
  out.setCode(static_cast<uint8_t>(status.code()));
  if (!status.message().empty()) out.setMessage(AsText(status.message()));
}

Status GetStatus(schema::ReplyStatus::Reader in) {
  return Status::FromWire(in.getCode(), FromText(in.getMessage()));
}

size_t ApproxBytes(const Object& o) {
  size_t n = 64;
  for (const auto& [actor, counter] : o.context.entries()) n += actor.node.size() + 48;
  for (const Sibling& s : o.siblings) n += s.value.size() + s.dot.actor.node.size() + 88;
  return n;
}

// A first-segment size that holds the whole message in the common cases,
// for the messages Cap'n Proto's builder writes (the hot ones go through
// proto/direct_encoder.h, except in tests that compare the two paths):
// each blob is counted with its padding and the envelope and body structs
// with their size (a put's 136 bytes of them alone).
unsigned EstimateWords(const Message& m) {
  size_t bytes = 256 + m.from.size() + m.auth_token.size();
  std::visit(
      [&bytes](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, GetRequest> || std::is_same_v<T, ReplicaGetRequest>) {
          bytes += b.bucket.size() + b.key.size() + 16;
        } else if constexpr (std::is_same_v<T, PutRequest>) {
          bytes += b.bucket.size() + b.key.size() + b.value.size() + b.context.size() + 32;
        } else if constexpr (std::is_same_v<T, ReplicaPutRequest>) {
          bytes += b.bucket.size() + b.key.size() + b.hint_for.size() + 24 + ApproxBytes(b.object);
        } else if constexpr (std::is_same_v<T, AaeRootReply>) {
          bytes += 8 * b.branches.size();
        } else if constexpr (std::is_same_v<T, AaeBranchReply>) {
          bytes += 8 * b.segments.size();
        } else if constexpr (std::is_same_v<T, AaeKeysReply> ||
                             std::is_same_v<T, AaeReapRequest>) {
          for (const AaeKeyEntry& k : b.keys) {
            bytes += 64 + k.bucket.size() + k.key.size() + 40 * k.clock.entries().size();
          }
        } else if constexpr (std::is_same_v<T, TransferBatch>) {
          for (const TransferEntry& e : b.entries) {
            bytes += 64 + e.bucket.size() + e.key.size() + ApproxBytes(e.object);
          }
        } else if constexpr (std::is_same_v<T, RingAdminReply>) {
          bytes += b.state.size() + b.plan.size() + b.transfers.size() + 256;
        } else if constexpr (std::is_same_v<T, Gossip>) {
          bytes += b.ring_state.size() + 64 * b.heartbeats.size() + 64;
        } else if constexpr (std::is_same_v<T, GetReply> || std::is_same_v<T, PutReply> ||
                             std::is_same_v<T, ReplicaGetReply>) {
          bytes += b.status.message().size() + ApproxBytes(b.object);
        } else {
          bytes += 1024;
        }
      },
      m.body);
  return static_cast<unsigned>(bytes / sizeof(capnp::word) + 1);
}

// One Encode per body type; std::visit picks it.
struct BodyEncoder {
  schema::Envelope::Builder env;

  void operator()(const Ping&) { env.setPing(); }
  void operator()(const Pong& m) { env.initPong().setNode(AsText(m.node)); }
  void operator()(const GetRequest& m) {
    auto b = env.initGet();
    b.setBucket(AsData(m.bucket));
    b.setKey(AsData(m.key));
    b.setR(m.r);
    b.setPr(m.pr);
  }
  void operator()(const GetReply& m) {
    auto b = env.initGetReply();
    SetStatus(m.status, b.initStatus());
    b.setFound(m.found);
    ObjectToCapnp(m.object, b.initObject());
  }
  void operator()(const PutRequest& m) {
    auto b = env.initPut();
    b.setBucket(AsData(m.bucket));
    b.setKey(AsData(m.key));
    b.setValue(AsData(m.value));
    b.setTombstone(m.tombstone);
    b.setContext(AsData(m.context));
    b.setW(m.w);
    b.setPw(m.pw);
    b.setForwarded(m.forwarded);
    b.setTimestampUs(m.timestamp_us);
    b.setWriteIdHi(m.write_id.hi);
    b.setWriteIdLo(m.write_id.lo);
    b.setIfMatch(m.if_match);
  }
  void operator()(const PutReply& m) {
    auto b = env.initPutReply();
    SetStatus(m.status, b.initStatus());
    ObjectToCapnp(m.object, b.initObject());
  }
  void operator()(const ReplicaGetRequest& m) {
    auto b = env.initReplicaGet();
    b.setBucket(AsData(m.bucket));
    b.setKey(AsData(m.key));
  }
  void operator()(const ReplicaGetReply& m) {
    auto b = env.initReplicaGetReply();
    SetStatus(m.status, b.initStatus());
    b.setFound(m.found);
    ObjectToCapnp(m.object, b.initObject());
  }
  void operator()(const ReplicaPutRequest& m) {
    auto b = env.initReplicaPut();
    b.setBucket(AsData(m.bucket));
    b.setKey(AsData(m.key));
    ObjectToCapnp(m.object, b.initObject());
    if (!m.hint_for.empty()) b.setHintFor(AsText(m.hint_for));
    b.setHandoff(m.handoff);
  }
  void operator()(const ReplicaPutReply& m) {
    SetStatus(m.status, env.initReplicaPutReply().initStatus());
  }
  void operator()(const ErrorReply& m) { SetStatus(m.status, env.initError().initStatus()); }
  void operator()(const Gossip& m) {
    auto b = env.initGossip();
    b.setRingEpoch(m.ring_epoch);
    auto list = b.initHeartbeats(static_cast<unsigned>(m.heartbeats.size()));
    for (unsigned i = 0; i < list.size(); ++i) {
      list[i].setNode(AsText(m.heartbeats[i].node));
      list[i].setGeneration(m.heartbeats[i].generation);
      list[i].setVersion(m.heartbeats[i].version);
      list[i].setRingEpoch(m.heartbeats[i].ring_epoch);
    }
    if (!m.ring_state.empty()) b.setRingState(AsData(m.ring_state));
  }
  void operator()(const StatusRequest&) { env.setStatusRequest(); }
  void operator()(const RingRequest&) { env.setRingRequest(); }
  void operator()(const PeerHello& m) {
    auto b = env.initPeerHello();
    b.setNode(AsText(m.node));
    b.setNonce(AsData(m.nonce));
  }
  void operator()(const PeerChallenge& m) {
    auto b = env.initPeerChallenge();
    b.setNode(AsText(m.node));
    b.setNonce(AsData(m.nonce));
    b.setProof(AsData(m.proof));
  }
  void operator()(const PeerProof& m) { env.initPeerProof().setProof(AsData(m.proof)); }
  void operator()(const RingInfo& m) {
    auto b = env.initRingReply();
    b.setEpoch(m.epoch);
    b.setPartitions(m.partitions);
    b.setN(m.n);
    auto members = b.initMembers(static_cast<unsigned>(m.members.size()));
    for (unsigned i = 0; i < members.size(); ++i) {
      members[i].setId(AsText(m.members[i].id));
      members[i].setAddress(AsText(m.members[i].address));
    }
    SetBucket(m.default_bucket, b.initDefaultBucket());
    auto buckets = b.initBuckets(static_cast<unsigned>(m.buckets.size()));
    for (unsigned i = 0; i < buckets.size(); ++i) SetBucket(m.buckets[i], buckets[i]);
    if (!m.owners.empty()) SetList(m.owners, b.initOwners(static_cast<unsigned>(m.owners.size())));
  }
  void operator()(const RingAdminRequest& m) {
    auto b = env.initRingAdmin();
    b.setOp(AsText(m.op));
    b.setNode(AsText(m.node));
    b.setAddress(AsText(m.address));
    b.setPlanId(AsText(m.plan_id));
    b.setPartition(m.partition);
    b.setFrom(AsText(m.from));
    b.setReplacement(AsText(m.replacement));
    b.setSettings(AsText(m.settings));
    b.setBucket(AsData(m.bucket));
  }
  void operator()(const RingAdminReply& m) {
    auto b = env.initRingAdminReply();
    SetStatus(m.status, b.initStatus());
    if (!m.state.empty()) b.setState(AsData(m.state));
    if (!m.plan.empty()) b.setPlan(AsData(m.plan));
    if (!m.transfers.empty()) b.setTransfers(AsData(m.transfers));
  }
  void operator()(const TransferBatch& m) {
    auto b = env.initTransferBatch();
    b.setPartition(m.partition);
    b.setChangeEpoch(m.change_epoch);
    b.setStart(m.start);
    b.setLast(m.last);
    auto entries = b.initEntries(static_cast<unsigned>(m.entries.size()));
    for (unsigned i = 0; i < entries.size(); ++i) {
      entries[i].setBucket(AsData(m.entries[i].bucket));
      entries[i].setKey(AsData(m.entries[i].key));
      ObjectToCapnp(m.entries[i].object, entries[i].initObject());
    }
  }
  void operator()(const TransferBatchReply& m) {
    auto b = env.initTransferBatchReply();
    SetStatus(m.status, b.initStatus());
    b.setResume(m.resume);
    b.setBucket(AsData(m.bucket));
    b.setKey(AsData(m.key));
    b.setObjects(m.objects);
    b.setBytes(m.bytes);
  }
  void operator()(const PartitionSizesRequest& m) {
    auto b = env.initPartitionSizes();
    SetList(m.partitions, b.initPartitions(static_cast<unsigned>(m.partitions.size())));
  }
  void operator()(const PartitionSizesReply& m) {
    auto b = env.initPartitionSizesReply();
    SetStatus(m.status, b.initStatus());
    SetList(m.keys, b.initKeys(static_cast<unsigned>(m.keys.size())));
    SetList(m.bytes, b.initBytes(static_cast<unsigned>(m.bytes.size())));
  }
  void operator()(const AaeRootRequest& m) {
    auto b = env.initAaeRoot();
    b.setPartition(m.partition);
    b.setShape(m.shape);
    b.setHashVersion(m.hash_version);
    b.setTop(m.top);
  }
  void operator()(const AaeRootEqual&) { env.setAaeRootEqual(); }
  void operator()(const AaeRootReply& m) {
    auto b = env.initAaeRootReply();
    SetStatus(m.status, b.initStatus());
    SetList(m.branches, b.initBranches(static_cast<unsigned>(m.branches.size())));
  }
  void operator()(const AaeBranchRequest& m) {
    auto b = env.initAaeBranch();
    b.setPartition(m.partition);
    b.setShape(m.shape);
    b.setHashVersion(m.hash_version);
    SetList(m.branches, b.initBranches(static_cast<unsigned>(m.branches.size())));
  }
  void operator()(const AaeBranchReply& m) {
    auto b = env.initAaeBranchReply();
    SetStatus(m.status, b.initStatus());
    SetList(m.segments, b.initSegments(static_cast<unsigned>(m.segments.size())));
  }
  void operator()(const AaeKeysRequest& m) {
    auto b = env.initAaeKeys();
    b.setPartition(m.partition);
    b.setShape(m.shape);
    b.setHashVersion(m.hash_version);
    SetList(m.segments, b.initSegments(static_cast<unsigned>(m.segments.size())));
  }
  void operator()(const AaeKeysReply& m) {
    auto b = env.initAaeKeysReply();
    SetStatus(m.status, b.initStatus());
    SetKeyEntries(m.keys, b.initKeys(static_cast<unsigned>(m.keys.size())));
  }
  static void SetKeyEntries(const std::vector<AaeKeyEntry>& in,
                            capnp::List<schema::AaeKeyEntry>::Builder keys) {
    for (unsigned i = 0; i < keys.size(); ++i) {
      const AaeKeyEntry& k = in[i];
      keys[i].setSegment(k.segment);
      keys[i].setBucket(AsData(k.bucket));
      keys[i].setKey(AsData(k.key));
      keys[i].setLeaf(k.leaf);
      VersionVectorToCapnp(k.clock,
                           keys[i].initClock(static_cast<unsigned>(k.clock.entries().size())));
    }
  }
  void operator()(const AaeReapRequest& m) {
    auto b = env.initAaeReap();
    b.setPartition(m.partition);
    b.setCommit(m.commit);
    b.setHintsOnly(m.hints_only);
    SetKeyEntries(m.keys, b.initKeys(static_cast<unsigned>(m.keys.size())));
  }
  void operator()(const AaeReapReply& m) {
    auto b = env.initAaeReapReply();
    SetStatus(m.status, b.initStatus());
    auto held = b.initHeld(static_cast<unsigned>(m.held.size()));
    for (unsigned i = 0; i < held.size(); ++i) held.set(i, m.held[i]);
  }
  void operator()(const AaeStatusRequest& m) { env.initAaeStatus().setVerify(m.verify); }
  void operator()(const AaeStatusReply& m) {
    auto b = env.initAaeStatusReply();
    SetStatus(m.status, b.initStatus());
    b.setNode(AsText(m.node));
    b.setEnabled(m.enabled);
    auto parts = b.initPartitions(static_cast<unsigned>(m.partitions.size()));
    for (unsigned i = 0; i < parts.size(); ++i) {
      const AaePartitionStatus& p = m.partitions[i];
      parts[i].setPartition(p.partition);
      parts[i].setState(AsText(p.state));
      parts[i].setRoot(p.root);
      parts[i].setVerified(p.verified);
      parts[i].setRecomputed(p.recomputed);
      parts[i].setLastExchangeUs(p.last_exchange_us);
      parts[i].setLastPeer(AsText(p.last_peer));
      parts[i].setLastResult(AsText(p.last_result));
      parts[i].setKeysRepaired(p.keys_repaired);
      parts[i].setBytesSent(p.bytes_sent);
      parts[i].setTombstonesPending(p.tombstones_pending);
      parts[i].setTombstonesReaped(p.tombstones_reaped);
      parts[i].setLastReapUs(p.last_reap_us);
    }
  }
  void operator()(const AaeReapNowRequest& m) {
    auto b = env.initAaeReapNow();
    b.setPartition(m.partition);
    b.setAll(m.all);
  }
  void operator()(const AaeReapNowReply& m) {
    auto b = env.initAaeReapNowReply();
    SetStatus(m.status, b.initStatus());
    b.setNode(AsText(m.node));
    auto passes = b.initPasses(static_cast<unsigned>(m.passes.size()));
    for (unsigned i = 0; i < passes.size(); ++i) {
      const AaeReapPass& p = m.passes[i];
      passes[i].setPartition(p.partition);
      SetStatus(p.status, passes[i].initStatus());
      passes[i].setRounds(p.rounds);
      passes[i].setChecked(p.checked);
      passes[i].setReapedHere(p.reaped_here);
      passes[i].setReapedPeers(p.reaped_peers);
      passes[i].setKeptHintHere(p.kept_hint_here);
      passes[i].setKeptReplica(p.kept_replica);
      passes[i].setKeptHintElsewhere(p.kept_hint_elsewhere);
      passes[i].setKeptChanged(p.kept_changed);
    }
  }
  void operator()(const AaeExchangeRequest& m) {
    auto b = env.initAaeExchange();
    b.setPartition(m.partition);
    b.setPeer(AsText(m.peer));
  }
  void operator()(const AaeExchangeReply& m) {
    auto b = env.initAaeExchangeReply();
    SetStatus(m.status, b.initStatus());
    b.setPeer(AsText(m.peer));
    b.setSegmentsDiffering(m.segments_differing);
    b.setKeysDiffering(m.keys_differing);
    b.setKeysRepaired(m.keys_repaired);
    b.setBytes(m.bytes);
  }
  template <typename T, typename List>
  static void SetList(const std::vector<T>& in, List out) {
    for (unsigned i = 0; i < out.size(); ++i) out.set(i, in[i]);
  }
  static void SetBucket(const BucketInfo& in, schema::BucketInfo::Builder out) {
    out.setName(AsData(in.name));
    out.setN(in.n);
    out.setR(in.r);
    out.setW(in.w);
    out.setResolver(in.resolver == "siblings" ? 0 : in.resolver == "lww" ? 1 : 2);
    out.setResolverName(AsText(in.resolver));
    out.setMaxSiblings(in.max_siblings);
    out.setWarnSiblings(in.warn_siblings);
    out.setPluginVersion(in.plugin_version);
    out.setPluginHash(AsText(in.plugin_hash));
  }
  void operator()(const NodeStatus& m) {
    auto b = env.initStatusReply();
    b.setNode(AsText(m.node));
    b.setIncarnation(m.incarnation);
    auto peers = b.initPeers(static_cast<unsigned>(m.peers.size()));
    for (unsigned i = 0; i < peers.size(); ++i) {
      peers[i].setNode(AsText(m.peers[i].node));
      peers[i].setUp(m.peers[i].up);
      peers[i].setPhi(m.peers[i].phi);
    }
    auto hints = b.initHints(static_cast<unsigned>(m.hints.size()));
    for (unsigned i = 0; i < hints.size(); ++i) {
      hints[i].setTarget(AsText(m.hints[i].target));
      hints[i].setCount(m.hints[i].count);
    }
    b.setHintsDelivered(m.hints_delivered);
    b.setRingEpoch(m.ring_epoch);
    b.setHintWriteFailures(m.hint_write_failures);
    auto metrics = b.initMetrics(static_cast<unsigned>(m.metrics.size()));
    for (unsigned i = 0; i < metrics.size(); ++i) SetMetric(m.metrics[i], metrics[i]);
  }
  static void SetMetric(const MetricSample& in, schema::MetricSample::Builder out) {
    out.setName(AsText(in.name));
    out.setType(static_cast<uint8_t>(in.type));
    out.setHelp(AsText(in.help));
    auto labels = out.initLabels(static_cast<unsigned>(in.labels.size()));
    for (unsigned i = 0; i < labels.size(); ++i) {
      labels[i].setName(AsText(in.labels[i].first));
      labels[i].setValue(AsText(in.labels[i].second));
    }
    out.setValue(in.value);
    out.setCount(in.count);
    out.setSum(in.sum);
    auto buckets = out.initBuckets(static_cast<unsigned>(in.buckets.size()));
    for (unsigned i = 0; i < buckets.size(); ++i) {
      buckets[i].setUpperBound(in.buckets[i].upper_bound);
      buckets[i].setCount(in.buckets[i].cumulative_count);
    }
  }
};

// Nullopt for a type added by a newer node: one unknown series should not
// cost a reader the whole status.
std::optional<MetricSample> MetricFromCapnp(schema::MetricSample::Reader in) {
  if (in.getType() > static_cast<uint8_t>(MetricType::kHistogram)) return std::nullopt;
  MetricSample m;
  m.name = FromText(in.getName());
  m.type = static_cast<MetricType>(in.getType());
  m.help = FromText(in.getHelp());
  for (auto l : in.getLabels()) {
    m.labels.emplace_back(FromText(l.getName()), FromText(l.getValue()));
  }
  m.value = in.getValue();
  m.count = in.getCount();
  m.sum = in.getSum();
  for (auto b : in.getBuckets()) m.buckets.push_back({b.getUpperBound(), b.getCount()});
  return m;
}

template <typename T, typename List>
std::vector<T> ListOf(List in) {
  std::vector<T> out;
  out.reserve(in.size());
  for (auto v : in) out.push_back(v);
  return out;
}

Result<std::vector<AaeKeyEntry>> KeyEntriesOf(capnp::List<schema::AaeKeyEntry>::Reader in) {
  std::vector<AaeKeyEntry> out;
  out.reserve(in.size());
  for (auto k : in) {
    Result<VersionVector> clock = VersionVectorFromCapnp(k.getClock());
    if (!clock.ok()) return clock.status();
    out.push_back({k.getSegment(), FromData(k.getBucket()), FromData(k.getKey()), k.getLeaf(),
                   std::move(clock).value()});
  }
  return out;
}

// Reads the union member of `env` into a MessageBody. May throw
// kj::Exception on malformed input; the caller converts it.
Result<MessageBody> DecodeBody(schema::Envelope::Reader env) {
  using W = schema::Envelope;
  switch (env.which()) {
    case W::PING:
      return MessageBody(Ping{});
    case W::PONG:
      return MessageBody(Pong{FromText(env.getPong().getNode())});
    case W::GET: {
      auto r = env.getGet();
      GetRequest m;
      m.bucket = FromData(r.getBucket());
      m.key = FromData(r.getKey());
      m.r = r.getR();
      m.pr = r.getPr();
      return MessageBody(std::move(m));
    }
    case W::GET_REPLY: {
      auto r = env.getGetReply();
      auto object = ObjectFromCapnp(r.getObject());
      if (!object.ok()) return object.status();
      GetReply m;
      m.status = GetStatus(r.getStatus());
      m.found = r.getFound();
      m.object = std::move(object).value();
      return MessageBody(std::move(m));
    }
    case W::PUT: {
      auto r = env.getPut();
      PutRequest m;
      m.bucket = FromData(r.getBucket());
      m.key = FromData(r.getKey());
      m.value = FromData(r.getValue());
      m.tombstone = r.getTombstone();
      m.context = FromData(r.getContext());
      m.w = r.getW();
      m.pw = r.getPw();
      m.forwarded = r.getForwarded();
      m.timestamp_us = r.getTimestampUs();
      m.write_id = WriteId{r.getWriteIdHi(), r.getWriteIdLo()};
      m.if_match = r.getIfMatch();
      return MessageBody(std::move(m));
    }
    case W::PUT_REPLY: {
      auto r = env.getPutReply();
      auto object = ObjectFromCapnp(r.getObject());
      if (!object.ok()) return object.status();
      PutReply m;
      m.status = GetStatus(r.getStatus());
      m.object = std::move(object).value();
      return MessageBody(std::move(m));
    }
    case W::REPLICA_GET: {
      auto r = env.getReplicaGet();
      return MessageBody(ReplicaGetRequest{FromData(r.getBucket()), FromData(r.getKey())});
    }
    case W::REPLICA_GET_REPLY: {
      auto r = env.getReplicaGetReply();
      auto object = ObjectFromCapnp(r.getObject());
      if (!object.ok()) return object.status();
      ReplicaGetReply m;
      m.status = GetStatus(r.getStatus());
      m.found = r.getFound();
      m.object = std::move(object).value();
      return MessageBody(std::move(m));
    }
    case W::REPLICA_PUT: {
      auto r = env.getReplicaPut();
      auto object = ObjectFromCapnp(r.getObject());
      if (!object.ok()) return object.status();
      ReplicaPutRequest m;
      m.bucket = FromData(r.getBucket());
      m.key = FromData(r.getKey());
      m.object = std::move(object).value();
      m.hint_for = FromText(r.getHintFor());
      m.handoff = r.getHandoff();
      return MessageBody(std::move(m));
    }
    case W::REPLICA_PUT_REPLY:
      return MessageBody(ReplicaPutReply{GetStatus(env.getReplicaPutReply().getStatus())});
    case W::ERROR:
      return MessageBody(ErrorReply{GetStatus(env.getError().getStatus())});
    case W::GOSSIP: {
      auto r = env.getGossip();
      Gossip m;
      m.ring_epoch = r.getRingEpoch();
      for (auto hb : r.getHeartbeats()) {
        m.heartbeats.push_back(
            {FromText(hb.getNode()), hb.getGeneration(), hb.getVersion(), hb.getRingEpoch()});
      }
      m.ring_state = FromData(r.getRingState());
      return MessageBody(std::move(m));
    }
    case W::PEER_HELLO: {
      auto r = env.getPeerHello();
      return MessageBody(PeerHello{FromText(r.getNode()), FromData(r.getNonce())});
    }
    case W::PEER_CHALLENGE: {
      auto r = env.getPeerChallenge();
      return MessageBody(
          PeerChallenge{FromText(r.getNode()), FromData(r.getNonce()), FromData(r.getProof())});
    }
    case W::PEER_PROOF:
      return MessageBody(PeerProof{FromData(env.getPeerProof().getProof())});
    case W::STATUS_REQUEST:
      return MessageBody(StatusRequest{});
    case W::RING_REQUEST:
      return MessageBody(RingRequest{});
    case W::RING_REPLY: {
      auto r = env.getRingReply();
      auto bucket = [](schema::BucketInfo::Reader b) {
        std::string resolver = FromText(b.getResolverName());
        if (resolver.empty()) resolver = b.getResolver() == 1 ? "lww" : "siblings";
        return BucketInfo{FromData(b.getName()),  b.getN(),
                          b.getR(),               b.getW(),
                          std::move(resolver),    b.getMaxSiblings(),
                          b.getWarnSiblings(),    b.getPluginVersion(),
                          FromText(b.getPluginHash())};
      };
      RingInfo m;
      m.epoch = r.getEpoch();
      m.partitions = r.getPartitions();
      m.n = r.getN();
      for (auto mem : r.getMembers()) {
        m.members.push_back({FromText(mem.getId()), FromText(mem.getAddress())});
      }
      m.default_bucket = bucket(r.getDefaultBucket());
      for (auto b : r.getBuckets()) m.buckets.push_back(bucket(b));
      for (uint32_t o : r.getOwners()) m.owners.push_back(o);
      return MessageBody(std::move(m));
    }
    case W::AAE_ROOT: {
      auto r = env.getAaeRoot();
      return MessageBody(
          AaeRootRequest{r.getPartition(), r.getShape(), r.getHashVersion(), r.getTop()});
    }
    case W::AAE_ROOT_EQUAL:
      return MessageBody(AaeRootEqual{});
    case W::AAE_ROOT_REPLY: {
      auto r = env.getAaeRootReply();
      AaeRootReply m;
      m.status = GetStatus(r.getStatus());
      m.branches = ListOf<uint64_t>(r.getBranches());
      return MessageBody(std::move(m));
    }
    case W::AAE_BRANCH: {
      auto r = env.getAaeBranch();
      return MessageBody(AaeBranchRequest{r.getPartition(), r.getShape(), r.getHashVersion(),
                                          ListOf<uint32_t>(r.getBranches())});
    }
    case W::AAE_BRANCH_REPLY: {
      auto r = env.getAaeBranchReply();
      return MessageBody(
          AaeBranchReply{GetStatus(r.getStatus()), ListOf<uint64_t>(r.getSegments())});
    }
    case W::AAE_KEYS: {
      auto r = env.getAaeKeys();
      return MessageBody(AaeKeysRequest{r.getPartition(), r.getShape(), r.getHashVersion(),
                                        ListOf<uint32_t>(r.getSegments())});
    }
    case W::AAE_KEYS_REPLY: {
      auto r = env.getAaeKeysReply();
      AaeKeysReply m;
      m.status = GetStatus(r.getStatus());
      Result<std::vector<AaeKeyEntry>> keys = KeyEntriesOf(r.getKeys());
      if (!keys.ok()) return keys.status();
      m.keys = std::move(keys).value();
      return MessageBody(std::move(m));
    }
    case W::AAE_REAP: {
      auto r = env.getAaeReap();
      AaeReapRequest m;
      m.partition = r.getPartition();
      m.commit = r.getCommit();
      m.hints_only = r.getHintsOnly();
      Result<std::vector<AaeKeyEntry>> keys = KeyEntriesOf(r.getKeys());
      if (!keys.ok()) return keys.status();
      m.keys = std::move(keys).value();
      return MessageBody(std::move(m));
    }
    case W::AAE_REAP_REPLY: {
      auto r = env.getAaeReapReply();
      return MessageBody(AaeReapReply{GetStatus(r.getStatus()), ListOf<bool>(r.getHeld())});
    }
    case W::AAE_STATUS:
      return MessageBody(AaeStatusRequest{env.getAaeStatus().getVerify()});
    case W::AAE_STATUS_REPLY: {
      auto r = env.getAaeStatusReply();
      AaeStatusReply m;
      m.status = GetStatus(r.getStatus());
      m.node = FromText(r.getNode());
      m.enabled = r.getEnabled();
      for (auto p : r.getPartitions()) {
        AaePartitionStatus s;
        s.partition = p.getPartition();
        s.state = FromText(p.getState());
        s.root = p.getRoot();
        s.verified = p.getVerified();
        s.recomputed = p.getRecomputed();
        s.last_exchange_us = p.getLastExchangeUs();
        s.last_peer = FromText(p.getLastPeer());
        s.last_result = FromText(p.getLastResult());
        s.keys_repaired = p.getKeysRepaired();
        s.bytes_sent = p.getBytesSent();
        s.tombstones_pending = p.getTombstonesPending();
        s.tombstones_reaped = p.getTombstonesReaped();
        s.last_reap_us = p.getLastReapUs();
        m.partitions.push_back(std::move(s));
      }
      return MessageBody(std::move(m));
    }
    case W::AAE_REAP_NOW: {
      auto r = env.getAaeReapNow();
      return MessageBody(AaeReapNowRequest{r.getPartition(), r.getAll()});
    }
    case W::AAE_REAP_NOW_REPLY: {
      auto r = env.getAaeReapNowReply();
      AaeReapNowReply m;
      m.status = GetStatus(r.getStatus());
      m.node = FromText(r.getNode());
      for (auto p : r.getPasses()) {
        m.passes.push_back(AaeReapPass{p.getPartition(), GetStatus(p.getStatus()), p.getRounds(),
                                       p.getChecked(), p.getReapedHere(), p.getReapedPeers(),
                                       p.getKeptHintHere(), p.getKeptReplica(),
                                       p.getKeptHintElsewhere(), p.getKeptChanged()});
      }
      return MessageBody(std::move(m));
    }
    case W::AAE_EXCHANGE: {
      auto r = env.getAaeExchange();
      return MessageBody(AaeExchangeRequest{r.getPartition(), FromText(r.getPeer())});
    }
    case W::AAE_EXCHANGE_REPLY: {
      auto r = env.getAaeExchangeReply();
      return MessageBody(AaeExchangeReply{GetStatus(r.getStatus()), FromText(r.getPeer()),
                                          r.getSegmentsDiffering(), r.getKeysDiffering(),
                                          r.getKeysRepaired(), r.getBytes()});
    }
    case W::RING_ADMIN: {
      auto r = env.getRingAdmin();
      return MessageBody(RingAdminRequest{FromText(r.getOp()), FromText(r.getNode()),
                                          FromText(r.getAddress()), FromText(r.getPlanId()),
                                          r.getPartition(), FromText(r.getFrom()),
                                          FromText(r.getReplacement()),
                                          FromText(r.getSettings()), FromData(r.getBucket())});
    }
    case W::RING_ADMIN_REPLY: {
      auto r = env.getRingAdminReply();
      return MessageBody(RingAdminReply{GetStatus(r.getStatus()), FromData(r.getState()),
                                        FromData(r.getPlan()), FromData(r.getTransfers())});
    }
    case W::TRANSFER_BATCH: {
      auto r = env.getTransferBatch();
      TransferBatch m;
      m.partition = r.getPartition();
      m.change_epoch = r.getChangeEpoch();
      m.start = r.getStart();
      m.last = r.getLast();
      for (auto e : r.getEntries()) {
        auto object = ObjectFromCapnp(e.getObject());
        if (!object.ok()) return object.status();
        m.entries.push_back(
            {FromData(e.getBucket()), FromData(e.getKey()), std::move(object).value()});
      }
      return MessageBody(std::move(m));
    }
    case W::TRANSFER_BATCH_REPLY: {
      auto r = env.getTransferBatchReply();
      return MessageBody(TransferBatchReply{GetStatus(r.getStatus()), r.getResume(),
                                            FromData(r.getBucket()), FromData(r.getKey()),
                                            r.getObjects(), r.getBytes()});
    }
    case W::PARTITION_SIZES:
      return MessageBody(PartitionSizesRequest{ListOf<uint32_t>(env.getPartitionSizes().getPartitions())});
    case W::PARTITION_SIZES_REPLY: {
      auto r = env.getPartitionSizesReply();
      return MessageBody(PartitionSizesReply{GetStatus(r.getStatus()), ListOf<uint64_t>(r.getKeys()),
                                             ListOf<uint64_t>(r.getBytes())});
    }
    case W::STATUS_REPLY: {
      auto r = env.getStatusReply();
      NodeStatus m;
      m.node = FromText(r.getNode());
      m.incarnation = r.getIncarnation();
      for (auto p : r.getPeers()) m.peers.push_back({FromText(p.getNode()), p.getUp(), p.getPhi()});
      for (auto h : r.getHints()) m.hints.push_back({FromText(h.getTarget()), h.getCount()});
      m.hints_delivered = r.getHintsDelivered();
      m.ring_epoch = r.getRingEpoch();
      m.hint_write_failures = r.getHintWriteFailures();
      for (auto sample : r.getMetrics()) {
        if (auto metric = MetricFromCapnp(sample)) m.metrics.push_back(std::move(*metric));
      }
      return MessageBody(std::move(m));
    }
  }
  // A member added by a newer sender: capnp reports its raw ordinal.
  return Status::Corruption("unknown message type " +
                            std::to_string(static_cast<unsigned>(env.which())));
}

Result<Message> DecodeWords(kj::ArrayPtr<const capnp::word> words) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words.size() * kTraversalFactor + kTraversalSlackWords;
  options.nestingLimit = kNestingLimit;
  capnp::FlatArrayMessageReader reader(words, options);
  if (reader.getEnd() != words.end()) {
    return Status::Corruption("trailing bytes after the message");
  }
  auto env = reader.getRoot<schema::Envelope>();
  if (env.getVersion() != kProtocolVersion) {
    return Status::Corruption("unsupported protocol version " +
                              std::to_string(env.getVersion()));
  }
  auto body = DecodeBody(env);
  if (!body.ok()) return body.status();
  Message message;
  message.request_id = env.getRequestId();
  message.from = FromText(env.getFrom());
  message.timeout_ms = env.getTimeoutMs();
  message.sender_generation = env.getSenderGeneration();
  message.sent_mono_us = env.getSentMonoUs();
  message.auth_token = FromText(env.getAuthToken());
  message.body = std::move(body).value();
  return message;
}

// The tree stage of an exchange (docs/anti-entropy.md) is sent in Cap'n
// Proto's canonical form: one segment, each struct cut after its last
// non-zero data word and its last non-null pointer. Readers take a shorter
// struct as an older writer's and read the missing fields as defaults, so
// it is an ordinary message to every decoder; what it drops here is the
// envelope's empty pointers (authToken, and the body of aaeRootEqual),
// which are most of the cost of comparing two identical replicas.
bool SentCanonical(const MessageBody& body) {
  return std::holds_alternative<AaeRootRequest>(body) ||
         std::holds_alternative<AaeRootEqual>(body) ||
         std::holds_alternative<AaeRootReply>(body) ||
         std::holds_alternative<AaeBranchRequest>(body) ||
         std::holds_alternative<AaeBranchReply>(body);
}

// A flat-array message (segment table, then the segment) of one segment.
std::string SingleSegmentMessage(kj::ArrayPtr<const capnp::word> segment) {
  // Segment count minus one (0), then the segment's size in words, both
  // uint32 little-endian.
  std::string out(8, '\0');
  const uint32_t words = static_cast<uint32_t>(segment.size());
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((words >> (8 * i)) & 0xff);
  out.append(reinterpret_cast<const char*>(segment.begin()),
             segment.size() * sizeof(capnp::word));
  return out;
}

}  // namespace

// The hot types are written and read directly (docs/wire-protocol.md,
// "Decoding and encoding"); Cap'n Proto does the rest.
std::string EncodeMessage(const Message& message) {
  if (std::optional<std::string> direct = EncodeDirect(message)) return std::move(*direct);
  return EncodeMessageCapnp(message);
}

std::string EncodeMessageCapnp(const Message& message) {
  // Cap'n Proto zeroes its first segment (1024 words by default); sizing it
  // to the message saves that memset on every small message, and one
  // segment also means no far pointers.
  capnp::MallocMessageBuilder builder(EstimateWords(message));
  auto env = builder.initRoot<schema::Envelope>();
  env.setVersion(kProtocolVersion);
  env.setRequestId(message.request_id);
  if (!message.from.empty()) env.setFrom(AsText(message.from));
  env.setTimeoutMs(message.timeout_ms);
  env.setSenderGeneration(message.sender_generation);
  env.setSentMonoUs(message.sent_mono_us);
  if (!message.auth_token.empty()) env.setAuthToken(AsText(message.auth_token));
  std::visit(BodyEncoder{env}, message.body);
  if (SentCanonical(message.body)) {
    kj::Array<capnp::word> canonical = capnp::canonicalize(env.asReader());
    return SingleSegmentMessage(canonical);
  }
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asChars();
  return std::string(bytes.begin(), bytes.size());
}

Result<Message> DecodeMessage(std::string_view bytes) {
  if (std::optional<Message> direct = DecodeDirect(bytes)) return std::move(*direct);
  return DecodeMessageCapnp(bytes);
}

Result<Message> DecodeMessageCapnp(std::string_view bytes) {
  if (bytes.empty()) return Status::Corruption("empty message");
  if (bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption("message size " + std::to_string(bytes.size()) +
                              " is not a multiple of 8");
  }
  // The frame body sits after a 12-byte header in the connection buffer.
  kj::Array<capnp::word> copy;
  const kj::ArrayPtr<const capnp::word> words = WordsOf(bytes, &copy);
  try {
    return DecodeWords(words);
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("undecodable message: ") +
                              e.getDescription().cStr());
  }
}

}  // namespace ringkv
