// The frame parser (proto/frame.h) on a byte stream: the input is what a
// connection delivered, parsed frame after frame as the server does.
#include <string>
#include <string_view>

#include "proto/frame.h"
#include "tests/fuzz/targets.h"

namespace ringkv::fuzz {

int FuzzFrame(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte picks a cap, so small caps (and the boundary of each) are
  // reached without megabytes of input.
  static constexpr uint32_t kCaps[] = {kDefaultMaxFrameBytes, 0, 1, 16, 64, 1024};
  const uint32_t cap = size == 0 ? kDefaultMaxFrameBytes : kCaps[data[0] % std::size(kCaps)];

  std::string_view rest = input;
  while (true) {
    FrameParse parse = ParseFrame(rest, cap);
    if (parse.state != FrameParse::State::kFrame) {
      RINGKV_FUZZ_CHECK(parse.state == FrameParse::State::kNeedMore ||
                        !parse.error.ok());
      break;
    }
    RINGKV_FUZZ_CHECK(parse.consumed == kFrameHeaderSize + parse.body.size());
    RINGKV_FUZZ_CHECK(parse.consumed <= rest.size());
    RINGKV_FUZZ_CHECK(parse.body.data() == rest.data() + kFrameHeaderSize);
    RINGKV_FUZZ_CHECK(parse.body.size() <= cap);
    rest.remove_prefix(parse.consumed);
  }

  // The checksum stops random bytes at the header, so the input is also
  // framed as a body: it must come back whole, and every proper prefix of
  // the frame must ask for more bytes.
  if (size <= cap) {
    std::string framed;
    AppendFrame(input, &framed);
    FrameParse whole = ParseFrame(framed, cap);
    RINGKV_FUZZ_CHECK(whole.state == FrameParse::State::kFrame);
    RINGKV_FUZZ_CHECK(whole.body == input);
    RINGKV_FUZZ_CHECK(whole.consumed == framed.size());
    const size_t cut = size == 0 ? 0 : data[size - 1] % framed.size();
    FrameParse partial = ParseFrame(std::string_view(framed).substr(0, cut), cap);
    RINGKV_FUZZ_CHECK(partial.state == FrameParse::State::kNeedMore);
  }
  return 0;
}

}  // namespace ringkv::fuzz
