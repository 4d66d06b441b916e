// Canonical Cap'n Proto encoding of objects and client contexts
// (causality/object.capnp; see docs/storage-format.md).
//
// Canonical means equal objects always give equal bytes (single segment,
// capnp::canonicalize), which Merkle hashing and tests rely on. Decoding
// validates structure and invariants: malformed input is a Corruption status,
// never an exception or a crash.
#pragma once

#include <string>
#include <string_view>

#include "causality/object.capnp.h"
#include "causality/object.h"
#include "common/status.h"

namespace ringkv {

std::string EncodeObject(const Object& object);
Result<Object> DecodeObject(std::string_view bytes);

// The opaque context a client carries between a read and a write.
std::string EncodeContext(const VersionVector& context);
// Empty input decodes to the empty context (a blind write).
Result<VersionVector> DecodeContext(std::string_view bytes);

// Between Object and its Cap'n Proto form inside a larger message.
void ObjectToCapnp(const Object& object, schema::Object::Builder out);
Result<Object> ObjectFromCapnp(schema::Object::Reader in);
// A version vector as a list of entries inside a larger message; the reader
// rejects unsorted or zero entries (Corruption).
void VersionVectorToCapnp(const VersionVector& vv, capnp::List<schema::VvEntry>::Builder out);
Result<VersionVector> VersionVectorFromCapnp(capnp::List<schema::VvEntry>::Reader in);

}  // namespace ringkv
