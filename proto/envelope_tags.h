// The Envelope union's tags of the messages the direct reader and writer
// handle (proto/direct_decoder.h, proto/direct_encoder.h): each member's
// position in proto/wire.capnp's union, which tests check against the
// compiled schema.
#pragma once

#include <cstdint>

namespace ringkv::envelope_tag {

inline constexpr uint16_t kGet = 2;
inline constexpr uint16_t kGetReply = 3;
inline constexpr uint16_t kPut = 4;
inline constexpr uint16_t kPutReply = 5;
inline constexpr uint16_t kReplicaGet = 6;
inline constexpr uint16_t kReplicaGetReply = 7;
inline constexpr uint16_t kReplicaPut = 8;
inline constexpr uint16_t kReplicaPutReply = 9;

}  // namespace ringkv::envelope_tag
