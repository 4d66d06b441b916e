#include "http/errors.h"

#include <nlohmann/json.hpp>

namespace ringkv::http {

Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  nlohmann::json body = {{"error", code}, {"message", message}};
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response ErrorFromStatus(const Status& status) {
  switch (status.code()) {
    case Status::Code::kInvalidArgument:
      return ErrorResponse(400, "bad_request", status.message());
    case Status::Code::kNotFound:
      return ErrorResponse(404, "not_found", status.message());
    case Status::Code::kObjectTooLarge:
      return ErrorResponse(413, "object_too_large", status.message());
    case Status::Code::kUnavailable: {
      Response r = ErrorResponse(503, "quorum_unavailable", status.message());
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case Status::Code::kBusy: {
      Response r = ErrorResponse(503, "busy", status.message());
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case Status::Code::kTimeout:
      return ErrorResponse(504, "timeout", status.message());
    case Status::Code::kTooManySiblings:
      return ErrorResponse(409, "too_many_siblings", status.message());
    case Status::Code::kPreconditionFailed:
      return ErrorResponse(412, "precondition_failed", status.message());
    case Status::Code::kUnauthenticated: {
      Response r = ErrorResponse(401, "unauthenticated", status.message());
      r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"ringkv\"");
      return r;
    }
    case Status::Code::kForbidden:
      return ErrorResponse(403, "forbidden", status.message());
    default:
      return ErrorResponse(500, "internal", status.ToString());
  }
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 300: return "Multiple Choices";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

}  // namespace ringkv::http
