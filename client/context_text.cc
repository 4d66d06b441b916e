#include "client/context_text.h"

#include <array>
#include <cstdint>

#include "causality/object_codec.h"

namespace ringkv {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> MakeReverse() {
  std::array<int8_t, 256> rev{};
  for (auto& r : rev) r = -1;
  for (int i = 0; i < 64; ++i) rev[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
  return rev;
}
constexpr std::array<int8_t, 256> kReverse = MakeReverse();

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v =
        (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return Status::InvalidArgument("bad base64url length");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int8_t v = kReverse[static_cast<uint8_t>(c)];
    if (v < 0) return Status::InvalidArgument("bad base64url character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero, so every byte string has one text form.
  if ((acc & ((1u << bits) - 1)) != 0) return Status::InvalidArgument("bad base64url padding bits");
  return out;
}

std::string ContextToText(std::string_view context) { return Base64UrlEncode(context); }

Result<std::string> ContextFromText(std::string_view text) {
  Result<std::string> bytes = Base64UrlDecode(text);
  if (!bytes.ok()) return Status::InvalidArgument("bad context: " + bytes.status().message());
  Result<ClientContext> context = DecodeContext(*bytes);
  if (!context.ok()) return Status::InvalidArgument("bad context: " + context.status().message());
  return bytes;
}

}  // namespace ringkv
