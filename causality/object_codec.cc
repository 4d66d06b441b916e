// Canonical Cap'n Proto form of objects and contexts. Encoded bytes are one
// canonical segment without a segment table (capnp::canonicalize), so the
// bytes are a function of the value alone.
#include "causality/object_codec.h"

#include <capnp/message.h>
#include <kj/array.h>
#include <kj/exception.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace ringkv {
namespace {

constexpr uint16_t kRecordVersion = 1;
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
  if (version == kRecordVersion) return Status::OK();
  return Status::Corruption(std::string("unsupported ") + what + " record version " +
                            std::to_string(version) + " (this build reads version " +
                            std::to_string(kRecordVersion) + ")");
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
  size_t words = bytes.size() / sizeof(capnp::word);
  kj::Array<capnp::word> aligned = kj::heapArray<capnp::word>(words);
  std::memcpy(aligned.begin(), bytes.data(), bytes.size());
  capnp::ReaderOptions options;
  // Legitimate records are traversed about once; the slack covers the
  // pointers of tiny messages, the limit stops amplification attacks.
  options.traversalLimitInWords = 2 * words + 64;
  options.nestingLimit = kNestingLimit;
  kj::ArrayPtr<const capnp::word> segment = aligned.asPtr();
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
  out.setVersion(kRecordVersion);
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
  // Sized to the object: the default first segment (8 KiB) is zeroed on
  // every encode, which costs more than the encoding of a small object.
  size_t bytes = 64;
  for (const auto& [actor, counter] : object.context.entries()) bytes += actor.node.size() + 48;
  for (const Sibling& s : object.siblings) bytes += s.value.size() + s.dot.actor.node.size() + 80;
  capnp::MallocMessageBuilder message(static_cast<unsigned>(bytes / sizeof(capnp::word) + 1));
  ObjectToCapnp(object, message.initRoot<schema::Object>());
  return CanonicalBytes(message.getRoot<schema::Object>().asReader());
}

Result<Object> DecodeObject(std::string_view bytes) {
  return ReadCanonical<schema::Object, Object>(bytes, "object", ObjectFromCapnpUnchecked);
}

std::string EncodeContext(const VersionVector& context) {
  if (context.empty()) return "";
  capnp::MallocMessageBuilder message(static_cast<unsigned>(16 + 8 * context.entries().size()));
  auto root = message.initRoot<schema::Context>();
  root.setVersion(kRecordVersion);
  EntriesToCapnp(context, root.initEntries(context.entries().size()));
  return CanonicalBytes(root.asReader());
}

Result<VersionVector> DecodeContext(std::string_view bytes) {
  if (bytes.empty()) return VersionVector();
  return ReadCanonical<schema::Context, VersionVector>(
      bytes, "context", [](schema::Context::Reader in) -> Result<VersionVector> {
        RINGKV_RETURN_IF_ERROR(CheckVersion(in.getVersion(), "context"));
        return EntriesFromCapnp(in.getEntries());
      });
}

void VersionVectorToCapnp(const VersionVector& vv, capnp::List<schema::VvEntry>::Builder out) {
  EntriesToCapnp(vv, out);
}

Result<VersionVector> VersionVectorFromCapnp(capnp::List<schema::VvEntry>::Reader in) {
  return EntriesFromCapnp(in);
}

}  // namespace ringkv
