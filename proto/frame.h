// Framing of messages on a byte stream (docs/wire-protocol.md):
//
//   frame    := length:uint32le checksum:uint64le body[length]
//   checksum := XXH3-64(body), seed 0
//
// The length cap protects a node from a peer that announces a huge frame; a
// frame over the cap or with a bad checksum is an error and the connection
// that carried it is closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ringkv {

inline constexpr size_t kFrameHeaderSize = 12;
inline constexpr uint32_t kDefaultMaxFrameBytes = 16u << 20;  // 16 MiB

// Appends the framed `body` to `out`.
void AppendFrame(std::string_view body, std::string* out);
// Writes the kFrameHeaderSize header bytes of `body`'s frame to `header`,
// for writers that place the body themselves.
void EncodeFrameHeader(std::string_view body, char* header);

// The outcome of looking at the start of a buffer.
struct FrameParse {
  enum class State { kNeedMore, kFrame, kError } state = State::kNeedMore;
  std::string_view body;  // valid when kFrame; points into the input
  size_t consumed = 0;    // bytes of header + body when kFrame
  Status error;           // when kError: why (oversized, bad checksum)
};

// Looks for one complete frame at the start of `buf`. Never reads past it.
FrameParse ParseFrame(std::string_view buf, uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

// The size (header + body) of the frame whose header starts `buf`, as the
// header announces it; 0 while the header is incomplete. Unchecked: a
// reader sizing its buffer by it judges the length against its cap first.
size_t AnnouncedFrameSize(std::string_view buf);

}  // namespace ringkv
