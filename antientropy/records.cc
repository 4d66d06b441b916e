#include "antientropy/records.h"

#include <capnp/message.h>

#include "antientropy/aae.capnp.h"
#include "proto/flat_record.h"

namespace ringkv::aae {
namespace {

constexpr char kTreeKind = 't';
constexpr char kMarkerKind = 'c';

void AppendUint32be(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

std::string Prefix(char kind, uint32_t partition) {
  std::string out{kAaeTag, kind};
  AppendUint32be(&out, partition);
  return out;
}

// Runs `fn(root)` on the message in `bytes`; Corruption when it does not
// decode.
template <typename Schema, typename Fn>
auto ReadRecord(std::string_view bytes, const char* what, Fn fn) -> decltype(fn(
    std::declval<typename Schema::Reader>())) {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption(std::string("malformed ") + what);
  }
  return ReadFlatRecord<Schema>(bytes, std::string("undecodable ") + what, fn);
}

}  // namespace

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
  return FlatRecordBytes(builder);
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

std::string MarkerKey() { return std::string{kAaeTag, kMarkerKind}; }

std::string EncodeMarker() {
  capnp::MallocMessageBuilder builder(8);
  auto root = builder.initRoot<schema::CleanMarker>();
  root.setShape(kShape);
  root.setHashVersion(kHashVersion);
  return FlatRecordBytes(builder);
}

bool MarkerCurrent(std::string_view bytes) {
  Result<bool> current = ReadRecord<schema::CleanMarker>(
      bytes, "marker", [](schema::CleanMarker::Reader in) -> Result<bool> {
        return in.getShape() == kShape && in.getHashVersion() == kHashVersion;
      });
  return current.ok() && *current;
}

}  // namespace ringkv::aae
