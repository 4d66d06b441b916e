#include "common/status.h"

namespace ringkv {

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kUnavailable: return "unavailable";
    case Status::Code::kTimeout: return "timeout";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kIOError: return "io error";
    case Status::Code::kBusy: return "busy";
    case Status::Code::kInternal: return "internal";
    case Status::Code::kObjectTooLarge: return "object_too_large";
    case Status::Code::kUnauthenticated: return "unauthenticated";
    case Status::Code::kForbidden: return "forbidden";
    case Status::Code::kTooManySiblings: return "too_many_siblings";
    case Status::Code::kPreconditionFailed: return "precondition_failed";
  }
  return "internal";
}

Status Status::FromWire(uint8_t code, std::string msg) {
  if (code > static_cast<uint8_t>(Code::kPreconditionFailed)) return Internal(std::move(msg));
  auto c = static_cast<Code>(code);
  if (c == Code::kOk) return OK();
  return Status(c, std::move(msg));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s(CodeName(code_));
  if (!msg_.empty()) {
    s += ": ";
    s += msg_;
  }
  return s;
}

}  // namespace ringkv
