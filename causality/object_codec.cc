// Canonical Cap'n Proto form of objects and contexts. Encoded bytes are one
// canonical segment without a segment table (capnp::canonicalize), so the
// bytes are a function of the value alone.
#include "causality/object_codec.h"

#include <capnp/message.h>
#include <kj/array.h>
#include <kj/exception.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "causality/canonical_writer.h"
#include "causality/direct_reader.h"
#include "causality/capnp_words.h"
#include "causality/object_limits.h"
#include "common/hash.h"

namespace ringkv {
namespace {

// Contexts of version 2 carry the KeyHash of the key they were read from
// (docs/wire-protocol.md, "Contexts").
constexpr uint16_t kBoundContextVersion = 2;
// Cap'n Proto's own default; our records nest only four levels deep.
constexpr int kNestingLimit = 64;

template <typename Reader>
std::string CanonicalBytes(Reader reader) {
  kj::Array<capnp::word> words = capnp::canonicalize(reader);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

void ActorToCapnp(const Actor& actor, schema::Actor::Builder out) {
  out.setNode(capnp::Text::Reader(actor.node.data(), actor.node.size()));
  out.setIncarnation(actor.incarnation);
}

Actor ActorFromCapnp(schema::Actor::Reader in) {
  capnp::Text::Reader node = in.getNode();
  return Actor{std::string(node.begin(), node.size()), in.getIncarnation()};
}

void EntriesToCapnp(const VersionVector& vv, capnp::List<schema::VvEntry>::Builder out) {
  const auto& entries = vv.entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    ActorToCapnp(entries[i].first, out[i].initActor());
    out[i].setCounter(entries[i].second);
  }
}

// Rejects rather than normalizes unsorted or zero entries: such bytes did not
// come from this encoder.
Result<VersionVector> EntriesFromCapnp(capnp::List<schema::VvEntry>::Reader in) {
  std::vector<VersionVector::Entry> entries;
  entries.reserve(in.size());
  for (schema::VvEntry::Reader e : in) {
    Actor actor = ActorFromCapnp(e.getActor());
    uint64_t counter = e.getCounter();
    if (counter == 0) return Status::Corruption("version vector entry with zero counter");
    if (!entries.empty() && !(entries.back().first < actor)) {
      return Status::Corruption("version vector entries not strictly sorted by actor");
    }
    entries.emplace_back(std::move(actor), counter);
  }
  return VersionVector(std::move(entries));
}

Status CheckVersion(uint16_t version, const char* what) {
  if (version == kObjectVersion) return Status::OK();
  return Status::Corruption(std::string("unsupported ") + what + " record version " +
                            std::to_string(version) + " (this build reads version " +
                            std::to_string(kObjectVersion) + ")");
}

// The Object conversion proper; may throw kj::Exception on malformed input.
Result<Object> ObjectFromCapnpUnchecked(schema::Object::Reader in) {
  RINGKV_RETURN_IF_ERROR(CheckVersion(in.getVersion(), "object"));
  Object object;
  Result<VersionVector> context = EntriesFromCapnp(in.getContext());
  if (!context.ok()) return context.status();
  object.context = std::move(context).value();
  auto siblings = in.getSiblings();
  object.siblings.reserve(siblings.size());
  for (schema::Sibling::Reader s : siblings) {
    Sibling sib;
    sib.dot = Dot{ActorFromCapnp(s.getActor()), s.getCounter()};
    sib.timestamp_us = s.getTimestampUs();
    sib.tombstone = s.getTombstone();
    sib.write_id = WriteId{s.getWriteIdHi(), s.getWriteIdLo()};
    capnp::Data::Reader value = s.getValue();
    sib.value.assign(reinterpret_cast<const char*>(value.begin()), value.size());
    object.siblings.push_back(std::move(sib));
  }
  std::string violation = CheckInvariants(object);
  if (!violation.empty()) return Status::Corruption("invalid object: " + violation);
  return object;
}

// Runs `fn(root)` on the single canonical segment in `bytes`, turning any
// Cap'n Proto exception into Corruption. `bytes` need not be word-aligned.
template <typename Schema, typename T, typename Fn>
Result<T> ReadCanonical(std::string_view bytes, const char* what, Fn fn) {
  if (bytes.size() % sizeof(capnp::word) != 0) {
    return Status::Corruption(std::string(what) + " length " + std::to_string(bytes.size()) +
                              " is not a multiple of 8");
  }
  if (bytes.empty()) return Status::Corruption(std::string("empty ") + what + " record");
  kj::Array<capnp::word> copy;
  const kj::ArrayPtr<const capnp::word> segment = WordsOf(bytes, &copy);
  capnp::ReaderOptions options;
  // Legitimate records are traversed about once; the slack covers the
  // pointers of tiny messages, the limit stops amplification attacks.
  options.traversalLimitInWords = 2 * segment.size() + 64;
  options.nestingLimit = kNestingLimit;
  try {
    capnp::SegmentArrayMessageReader reader(kj::arrayPtr(&segment, 1), options);
    return fn(reader.getRoot<Schema>());
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("malformed ") + what + ": " +
                              e.getDescription().cStr());
  }
}

}  // namespace

void ObjectToCapnp(const Object& object, schema::Object::Builder out) {
  out.setVersion(kObjectVersion);
  EntriesToCapnp(object.context, out.initContext(object.context.entries().size()));
  auto siblings = out.initSiblings(object.siblings.size());
  for (size_t i = 0; i < object.siblings.size(); ++i) {
    const Sibling& s = object.siblings[i];
    ActorToCapnp(s.dot.actor, siblings[i].initActor());
    siblings[i].setCounter(s.dot.counter);
    siblings[i].setTimestampUs(s.timestamp_us);
    siblings[i].setTombstone(s.tombstone);
    siblings[i].setWriteIdHi(s.write_id.hi);
    siblings[i].setWriteIdLo(s.write_id.lo);
    siblings[i].setValue(capnp::Data::Reader(
        reinterpret_cast<const kj::byte*>(s.value.data()), s.value.size()));
  }
}

Result<Object> ObjectFromCapnp(schema::Object::Reader in) {
  try {
    return ObjectFromCapnpUnchecked(in);
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string("malformed object: ") + e.getDescription().cStr());
  }
}

std::string EncodeObject(const Object& object) {
  if (std::optional<std::string> direct = WriteCanonicalObject(object, kObjectVersion)) {
    return std::move(*direct);
  }
  // Sized to the object: the default first segment (8 KiB) is zeroed on
  // every encode, which costs more than the encoding of a small object.
  capnp::MallocMessageBuilder message(
      static_cast<unsigned>(ObjectSize(object) / sizeof(capnp::word) + 1));
  ObjectToCapnp(object, message.initRoot<schema::Object>());
  return CanonicalBytes(message.getRoot<schema::Object>().asReader());
}

Result<Object> DecodeObject(std::string_view bytes) {
  // Read in place when the direct reader takes the record (about half of
  // Cap'n Proto's instructions); it leaves anything else, hostile or
  // corrupt, to Cap'n Proto's reader, whose verdict stands.
  if (!bytes.empty() && bytes.size() % sizeof(capnp::word) == 0) {
    direct::Segment segment(bytes.data(), bytes.size() / sizeof(capnp::word));
    Object object;
    if (direct::ReadRootObject(segment, &object)) return object;
  }
  return ReadCanonical<schema::Object, Object>(bytes, "object", ObjectFromCapnpUnchecked);
}

std::string EncodeContext(const VersionVector& context, std::string_view bucket,
                          std::string_view key) {
  return EncodeContext(context, KeyHash(bucket, key));
}

std::string EncodeContext(const VersionVector& context, uint64_t key_hash) {
  if (context.empty()) return "";
  if (std::optional<std::string> direct =
          WriteCanonicalContext(context, kBoundContextVersion, key_hash)) {
    return std::move(*direct);
  }
  capnp::MallocMessageBuilder message(static_cast<unsigned>(16 + 8 * context.entries().size()));
  auto root = message.initRoot<schema::Context>();
  root.setVersion(kBoundContextVersion);
  EntriesToCapnp(context, root.initEntries(context.entries().size()));
  root.setKeyHash(key_hash);
  return CanonicalBytes(root.asReader());
}

void AppendContext(std::string* out, const VersionVector& context, uint64_t key_hash) {
  if (context.empty() || AppendCanonicalContext(out, context, kBoundContextVersion, key_hash)) {
    return;
  }
  out->append(EncodeContext(context, key_hash));
}

Result<ClientContext> DecodeContext(std::string_view bytes) {
  if (bytes.empty()) return ClientContext{};
  return ReadCanonical<schema::Context, ClientContext>(
      bytes, "context", [](schema::Context::Reader in) -> Result<ClientContext> {
        const uint16_t version = in.getVersion();
        if (version != kObjectVersion && version != kBoundContextVersion) {
          return Status::Corruption("unsupported context version " + std::to_string(version) +
                                    " (this build reads versions 1 and 2)");
        }
        Result<VersionVector> clock = EntriesFromCapnp(in.getEntries());
        if (!clock.ok()) return clock.status();
        ClientContext out;
        out.clock = std::move(clock).value();
        if (version == kBoundContextVersion) out.key_hash = in.getKeyHash();
        return out;
      });
}

void VersionVectorToCapnp(const VersionVector& vv, capnp::List<schema::VvEntry>::Builder out) {
  EntriesToCapnp(vv, out);
}

Result<VersionVector> VersionVectorFromCapnp(capnp::List<schema::VvEntry>::Reader in) {
  return EntriesFromCapnp(in);
}

Status CheckContextKey(const ClientContext& context, std::string_view bucket,
                       std::string_view key) {
  if (!context.key_hash || *context.key_hash == KeyHash(bucket, key)) return Status::OK();
  return Status::InvalidArgument("the context was read from another key than " +
                                 std::string(bucket) + "/" + std::string(key) +
                                 ": read this key and write with its context");
}

}  // namespace ringkv
