#include "proto/frame.h"

#include <xxhash.h>

#include <cinttypes>
#include <cstdio>
#include <string>

namespace ringkv {
namespace {

void PutFixed32(uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

void PutFixed64(uint64_t v, char* p) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

}  // namespace

void EncodeFrameHeader(std::string_view body, char* header) {
  PutFixed32(static_cast<uint32_t>(body.size()), header);
  PutFixed64(XXH3_64bits(body.data(), body.size()), header + 4);
}

void AppendFrame(std::string_view body, std::string* out) {
  char header[kFrameHeaderSize];
  EncodeFrameHeader(body, header);
  out->append(header, kFrameHeaderSize);
  out->append(body);
}

size_t AnnouncedFrameSize(std::string_view buf) {
  if (buf.size() < kFrameHeaderSize) return 0;
  return kFrameHeaderSize + GetFixed32(buf.data());
}

FrameParse ParseFrame(std::string_view buf, uint32_t max_frame_bytes) {
  FrameParse result;
  if (buf.size() < kFrameHeaderSize) return result;
  const uint32_t length = GetFixed32(buf.data());
  // Judged on the header alone, so a peer announcing a huge frame is
  // refused before a single body byte is buffered.
  if (length > max_frame_bytes) {
    result.state = FrameParse::State::kError;
    result.error = Status::Corruption("frame of " + std::to_string(length) +
                                      " bytes exceeds the cap of " +
                                      std::to_string(max_frame_bytes) + " bytes");
    return result;
  }
  if (buf.size() - kFrameHeaderSize < length) return result;
  const uint64_t expected = GetFixed64(buf.data() + 4);
  std::string_view body = buf.substr(kFrameHeaderSize, length);
  const uint64_t actual = XXH3_64bits(body.data(), body.size());
  if (actual != expected) {
    result.state = FrameParse::State::kError;
    char why[96];
    std::snprintf(why, sizeof(why), "frame checksum mismatch (header %016" PRIx64
                  ", body %016" PRIx64 ")", expected, actual);
    result.error = Status::Corruption(why);
    return result;
  }
  result.state = FrameParse::State::kFrame;
  result.body = body;
  result.consumed = kFrameHeaderSize + length;
  return result;
}

}  // namespace ringkv
