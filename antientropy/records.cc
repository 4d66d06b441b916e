#include "antientropy/records.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>

#include "antientropy/aae.capnp.h"
#include "causality/canonical_writer.h"
#include "causality/object_codec.h"

namespace ringkv::aae {
namespace {

constexpr char kIndexKind = 'i';
constexpr char kTreeKind = 't';
constexpr char kMarkerKind = 'c';

void AppendUint32be(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void AppendVarint32(std::string* out, uint32_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

std::string Prefix(char kind, uint32_t partition) {
  std::string out{kAaeTag, kind};
  AppendUint32be(&out, partition);
  return out;
}

std::string ToBytes(capnp::MessageBuilder& builder) {
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asChars();
  return std::string(bytes.begin(), bytes.size());
}

// Runs `fn(root)` on the message in `bytes`; Corruption when it does not
// decode.
template <typename Schema, typename Fn>
auto ReadRecord(std::string_view bytes, const char* what, Fn fn) -> decltype(fn(
    std::declval<typename Schema::Reader>())) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption(std::string("malformed ") + what);
  }
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions options;
    options.traversalLimitInWords = words.size() * 4 + 256;
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    return fn(reader.getRoot<Schema>());
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("undecodable ") + what + ": " +
                              e.getDescription().cStr());
  }
}

}  // namespace

std::string IndexKey(uint32_t partition, uint32_t segment, std::string_view bucket,
                     std::string_view key) {
  std::string out = IndexSegmentStart(partition, segment);
  AppendVarint32(&out, static_cast<uint32_t>(bucket.size()));
  out.append(bucket);
  out.append(key);
  return out;
}

std::string IndexSegmentStart(uint32_t partition, uint32_t segment) {
  std::string out = Prefix(kIndexKind, partition);
  out.push_back(static_cast<char>(segment >> 8));
  out.push_back(static_cast<char>(segment));
  return out;
}

std::string IndexSegmentEnd(uint32_t partition, uint32_t segment) {
  return segment + 1 < kSegments ? IndexSegmentStart(partition, segment + 1)
                                 : IndexPartitionEnd(partition);
}

std::string IndexPartitionStart(uint32_t partition) { return Prefix(kIndexKind, partition); }

std::string IndexPartitionEnd(uint32_t partition) {
  if (partition == UINT32_MAX) return std::string{kAaeTag, kIndexKind + 1};
  return Prefix(kIndexKind, partition + 1);
}

Status ParseIndexKey(std::string_view skey, uint32_t* partition, uint32_t* segment,
                     std::string* bucket, std::string* key) {
  if (skey.size() < 9 || skey[0] != kAaeTag || skey[1] != kIndexKind) {
    return Status::Corruption("not an index key");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(skey.data());
  if (partition != nullptr) {
    *partition = (uint32_t{p[2]} << 24) | (uint32_t{p[3]} << 16) | (uint32_t{p[4]} << 8) | p[5];
  }
  if (segment != nullptr) *segment = (uint32_t{p[6]} << 8) | p[7];
  uint32_t len = 0;
  size_t i = 8;
  for (int shift = 0;; shift += 7) {
    if (i >= skey.size() || shift > 28) return Status::Corruption("bad bucket length in index key");
    const uint32_t byte = p[i++];
    len |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  if (len > skey.size() - i) return Status::Corruption("bucket past the end of index key");
  if (bucket != nullptr) bucket->assign(skey.substr(i, len));
  if (key != nullptr) key->assign(skey.substr(i + len));
  return Status::OK();
}

std::string EncodeIndexEntry(const IndexEntry& entry) {
  // Written on every object write: directly, as one segment behind its
  // segment table, when the writer covers the clock.
  const uint64_t data[2] = {entry.leaf, entry.tombstone ? 1u : 0u};
  if (std::optional<std::string> segment = WriteCanonicalClockStruct(data, entry.clock)) {
    std::string out(8, '\0');
    const uint64_t words = segment->size() / 8;
    for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>(words >> (8 * i));
    out.append(*segment);
    return out;
  }
  capnp::MallocMessageBuilder builder(
      static_cast<unsigned>(8 + 6 * entry.clock.entries().size()));
  auto root = builder.initRoot<schema::IndexEntry>();
  root.setLeaf(entry.leaf);
  root.setTombstone(entry.tombstone);
  VersionVectorToCapnp(entry.clock,
                       root.initClock(static_cast<unsigned>(entry.clock.entries().size())));
  return ToBytes(builder);
}

Result<IndexEntry> DecodeIndexEntry(std::string_view bytes) {
  return ReadRecord<schema::IndexEntry>(
      bytes, "index entry", [](schema::IndexEntry::Reader in) -> Result<IndexEntry> {
        Result<VersionVector> clock = VersionVectorFromCapnp(in.getClock());
        if (!clock.ok()) return clock.status();
        return IndexEntry{in.getLeaf(), std::move(clock).value(), in.getTombstone()};
      });
}

std::string TreeKey(uint32_t partition) { return Prefix(kTreeKind, partition); }
std::string TreeRangeStart() { return std::string{kAaeTag, kTreeKind}; }
std::string TreeRangeEnd() { return std::string{kAaeTag, kTreeKind + 1}; }

std::string EncodeTreeImage(const HashTree& tree) {
  std::vector<uint32_t> segments;
  std::vector<uint64_t> hashes;
  tree.NonZero(&segments, &hashes);
  capnp::MallocMessageBuilder builder(static_cast<unsigned>(16 + segments.size() * 2));
  auto root = builder.initRoot<schema::TreeImage>();
  root.setShape(kShape);
  root.setHashVersion(kHashVersion);
  auto s = root.initSegments(static_cast<unsigned>(segments.size()));
  auto h = root.initHashes(static_cast<unsigned>(hashes.size()));
  for (unsigned i = 0; i < segments.size(); ++i) {
    s.set(i, segments[i]);
    h.set(i, hashes[i]);
  }
  return ToBytes(builder);
}

Result<std::unique_ptr<HashTree>> DecodeTreeImage(std::string_view bytes) {
  return ReadRecord<schema::TreeImage>(
      bytes, "tree image",
      [](schema::TreeImage::Reader in) -> Result<std::unique_ptr<HashTree>> {
        if (in.getShape() != kShape || in.getHashVersion() != kHashVersion) {
          return Status::Corruption("tree image of another shape or hash version");
        }
        auto segments = in.getSegments();
        auto hashes = in.getHashes();
        if (segments.size() != hashes.size()) {
          return Status::Corruption("tree image: segments and hashes differ in number");
        }
        auto tree = std::make_unique<HashTree>();
        int64_t previous = -1;
        for (unsigned i = 0; i < segments.size(); ++i) {
          if (segments[i] >= kSegments || int64_t{segments[i]} <= previous) {
            return Status::Corruption("tree image: segment numbers out of order");
          }
          previous = segments[i];
          tree->Apply(segments[i], hashes[i]);
        }
        return tree;
      });
}

std::string GapKey() { return std::string{kAaeTag, 'g'}; }

std::string MarkerKey() { return std::string{kAaeTag, kMarkerKind}; }

std::string EncodeMarker() {
  capnp::MallocMessageBuilder builder(8);
  auto root = builder.initRoot<schema::CleanMarker>();
  root.setShape(kShape);
  root.setHashVersion(kHashVersion);
  return ToBytes(builder);
}

bool MarkerCurrent(std::string_view bytes) {
  Result<bool> current = ReadRecord<schema::CleanMarker>(
      bytes, "marker", [](schema::CleanMarker::Reader in) -> Result<bool> {
        return in.getShape() == kShape && in.getHashVersion() == kHashVersion;
      });
  return current.ok() && *current;
}

}  // namespace ringkv::aae
