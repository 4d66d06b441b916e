// Reading a Cap'n Proto record that was written with messageToFlatArray and
// stored or gossiped as bytes (a LevelDB value, a gossip field): shared by
// every layer above proto/ that keeps such records.
#pragma once

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace ringkv {

// The record in `builder` as the bytes ReadFlatRecord reads.
inline std::string FlatRecordBytes(capnp::MessageBuilder& builder) {
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asChars();
  return std::string(bytes.begin(), bytes.size());
}

// Runs `fn(root)` on the flat-array message in `bytes`, a whole number of
// words (the caller checks, with its own message). Any decoding failure
// (short, out of bounds, over the traversal limit) is Corruption
// "<undecodable>: <capnp's description>".
template <typename Schema, typename Fn>
auto ReadFlatRecord(std::string_view bytes, std::string_view undecodable, Fn fn)
    -> decltype(fn(std::declval<typename Schema::Reader>())) {
  // The bytes sit at an arbitrary offset (a std::string, a LevelDB value);
  // capnp reads words in place, so copy into aligned storage first.
  auto words = kj::heapArray<capnp::word>(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.begin(), bytes.data(), bytes.size());
  try {
    capnp::ReaderOptions options;
    // A record is traversed about once; the slack covers tiny ones, the
    // limit stops amplification by a forged record.
    options.traversalLimitInWords = words.size() * 4 + 256;
    capnp::FlatArrayMessageReader reader(words.asPtr(), options);
    return fn(reader.getRoot<Schema>());
  } catch (const kj::Exception& e) {
    return Status::Corruption(std::string(undecodable) + ": " + e.getDescription().cStr());
  }
}

}  // namespace ringkv
