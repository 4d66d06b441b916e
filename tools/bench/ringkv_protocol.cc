#include "tools/bench/ringkv_protocol.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <variant>

#include "causality/object_codec.h"
#include "proto/codec.h"
#include "proto/frame.h"
#include "proto/messages.h"

namespace ringkv::bench {
namespace {

// A stable lower-case name for the error table.
std::string ErrorKind(const Status& status) {
  std::string name(CodeName(status.code()));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

class RingkvFactory : public ProtocolFactory {
 public:
  explicit RingkvFactory(RingkvOptions options) : options_(std::move(options)) {}
  std::unique_ptr<Protocol> NewProtocol() override {
    return std::make_unique<RingkvProtocol>(options_);
  }

 private:
  RingkvOptions options_;
};

}  // namespace

void RingkvProtocol::Encode(uint64_t id, const Request& request, std::string* out) {
  Message message;
  message.request_id = id;
  message.timeout_ms = options_.timeout_ms;
  message.auth_token = options_.token;
  switch (request.kind) {
    case RequestKind::kGet: {
      GetRequest get;
      get.bucket = options_.bucket;
      get.key = std::string(request.key);
      get.r = options_.r;
      get.pr = options_.pr;
      if (request.want_context) want_context_.emplace_back(id, get.key);
      message.body = std::move(get);
      break;
    }
    case RequestKind::kPut: {
      PutRequest put;
      put.bucket = options_.bucket;
      put.key = std::string(request.key);
      put.value = std::string(request.value);
      put.context = std::string(request.context);
      put.w = options_.w;
      put.pw = options_.pw;
      put.if_match = request.if_match;
      message.body = std::move(put);
      break;
    }
    case RequestKind::kPing:
      message.body = Ping{};
      break;
  }
  AppendFrame(EncodeMessage(message), out);
}

Protocol::ParseState RingkvProtocol::Parse(std::string_view buf, size_t* consumed, Reply* reply) {
  const FrameParse frame = ParseFrame(buf);
  if (frame.state == FrameParse::State::kNeedMore) return ParseState::kNeedMore;
  if (frame.state == FrameParse::State::kError) {
    reply->error_kind = "bad_frame";
    return ParseState::kError;
  }
  *consumed = frame.consumed;
  Result<Message> decoded = DecodeMessage(frame.body);
  if (!decoded.ok()) {
    reply->error_kind = "bad_message";
    return ParseState::kError;
  }
  Message& message = *decoded;
  reply->id = message.request_id;
  const auto wanted = std::find_if(want_context_.begin(), want_context_.end(),
                                   [&](const auto& w) { return w.first == reply->id; });
  const bool want_context = wanted != want_context_.end();
  std::string context_key;
  if (want_context) {
    context_key = std::move(wanted->second);
    want_context_.erase(wanted);
  }

  if (auto* get = std::get_if<GetReply>(&message.body)) {
    if (!get->status.ok() && !get->status.IsNotFound()) {
      reply->error_kind = ErrorKind(get->status);
      return ParseState::kReply;
    }
    reply->ok = true;
    const auto values = get->object.Values();
    reply->found = get->status.ok() && get->found && !values.empty();
    reply->siblings = static_cast<uint32_t>(values.size());
    if (!values.empty()) reply->value_size = values.front()->value.size();
    for (const Sibling* v : values) reply->object_size += v->value.size();
    if (want_context) {
      reply->context = EncodeContext(get->object.context, options_.bucket, context_key);
    }
  } else if (auto* put = std::get_if<PutReply>(&message.body)) {
    if (!put->status.ok()) {
      reply->error_kind = ErrorKind(put->status);
      return ParseState::kReply;
    }
    reply->ok = true;
    reply->siblings = static_cast<uint32_t>(put->object.Values().size());
  } else if (std::holds_alternative<Pong>(message.body)) {
    reply->ok = true;
  } else if (auto* error = std::get_if<ErrorReply>(&message.body)) {
    reply->error_kind = ErrorKind(error->status);
  } else {
    reply->error_kind = "unexpected_reply";
  }
  return ParseState::kReply;
}

std::unique_ptr<ProtocolFactory> NewRingkvProtocolFactory(const RingkvOptions& options) {
  return std::make_unique<RingkvFactory>(options);
}

}  // namespace ringkv::bench
