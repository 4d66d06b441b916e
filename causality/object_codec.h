// Canonical Cap'n Proto encoding of objects and client contexts
// (causality/object.capnp; see docs/storage-format.md).
//
// Canonical means equal objects always give equal bytes (single segment,
// capnp::canonicalize), which Merkle hashing and tests rely on. Decoding
// validates structure and invariants: malformed input is a Corruption status,
// never an exception or a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "causality/object.capnp.h"
#include "causality/object.h"
#include "common/status.h"

namespace ringkv {

// The version an encoded Object carries; its two readers (Cap'n Proto's
// and causality/direct_reader.h) take no other. Contexts of version 1 use
// it too.
inline constexpr uint16_t kObjectVersion = 1;

std::string EncodeObject(const Object& object);
Result<Object> DecodeObject(std::string_view bytes);

// The opaque context a client carries between a read of (bucket, key) and a
// write: the object's clock and the key it belongs to.
struct ClientContext {
  VersionVector clock;
  // KeyHash(bucket, key) of the key it was read from; absent in contexts of
  // version 1, which are bound to no key.
  std::optional<uint64_t> key_hash;
};

// Version 2, bound to (bucket, key); the empty clock encodes as "".
std::string EncodeContext(const VersionVector& context, std::string_view bucket,
                          std::string_view key);
// The same with `key_hash` == KeyHash(bucket, key) known already.
std::string EncodeContext(const VersionVector& context, uint64_t key_hash);
// The same bytes appended to `*out`.
void AppendContext(std::string* out, const VersionVector& context, uint64_t key_hash);
// Empty input decodes to the empty context (a blind write). Reads versions
// 1 and 2.
Result<ClientContext> DecodeContext(std::string_view bytes);
// InvalidArgument when `context` is bound to another key than (bucket, key).
Status CheckContextKey(const ClientContext& context, std::string_view bucket,
                       std::string_view key);

// Between Object and its Cap'n Proto form inside a larger message.
void ObjectToCapnp(const Object& object, schema::Object::Builder out);
Result<Object> ObjectFromCapnp(schema::Object::Reader in);
// A version vector as a list of entries inside a larger message; the reader
// rejects unsorted or zero entries (Corruption).
void VersionVectorToCapnp(const VersionVector& vv, capnp::List<schema::VvEntry>::Builder out);
Result<VersionVector> VersionVectorFromCapnp(capnp::List<schema::VvEntry>::Reader in);

}  // namespace ringkv
