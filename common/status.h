// Status and Result<T>: errors as values.
//
// A Status is either OK or a code plus a one-line human message. Every
// operation that can fail on bad input, a peer or the disk returns one; a
// missing key, an unreached quorum and a timeout are ordinary results, not
// exceptions. Status is a small value type: copy it freely. Thread-safe as
// any value is (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ringkv {

class [[nodiscard]] Status {
 public:
  // DO NOT CHANGE the numeric values: they travel on the wire (docs/wire-protocol.md).
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound = 1,
    kInvalidArgument = 2,
    kUnavailable = 3,   // quorum not reached, peer down
    kTimeout = 4,       // deadline passed before enough replies
    kCorruption = 5,    // malformed frame, bad checksum, undecodable record
    kIOError = 6,
    kBusy = 7,          // overloaded, try again
    kInternal = 8,
    // A write that would make its key's object (all siblings together)
    // larger than the per-key cap (docs/limits.md).
    kObjectTooLarge = 9,
    // A node that authenticates clients got a request without a token it
    // knows (docs/security.md, "Client tokens").
    kUnauthenticated = 10,
    // The request's token lacks the grant the request needs.
    kForbidden = 11,
    // A write that would give its key more siblings than the bucket's cap
    // (max_siblings, docs/limits.md "Siblings").
    kTooManySiblings = 12,
    // A conditional put (PutRequest::if_match) whose context does not cover
    // every sibling its coordinator holds: the key changed since the read.
    kPreconditionFailed = 13,
  };

  Status() = default;
  static Status OK() { return Status(); }
  static Status NotFound(std::string msg = "not found") { return {Code::kNotFound, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) { return {Code::kInvalidArgument, std::move(msg)}; }
  static Status Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
  static Status Timeout(std::string msg) { return {Code::kTimeout, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {Code::kCorruption, std::move(msg)}; }
  static Status IOError(std::string msg) { return {Code::kIOError, std::move(msg)}; }
  static Status Busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  static Status Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
  static Status ObjectTooLarge(std::string msg) { return {Code::kObjectTooLarge, std::move(msg)}; }
  static Status Unauthenticated(std::string msg) { return {Code::kUnauthenticated, std::move(msg)}; }
  static Status Forbidden(std::string msg) { return {Code::kForbidden, std::move(msg)}; }
  static Status TooManySiblings(std::string msg) { return {Code::kTooManySiblings, std::move(msg)}; }
  static Status PreconditionFailed(std::string msg) {
    return {Code::kPreconditionFailed, std::move(msg)};
  }
  // Rebuilds a status that arrived on the wire; unknown codes become kInternal.
  static Status FromWire(uint8_t code, std::string msg);

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool IsTimeout() const { return code_ == Code::kTimeout; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsObjectTooLarge() const { return code_ == Code::kObjectTooLarge; }
  bool IsUnauthenticated() const { return code_ == Code::kUnauthenticated; }
  bool IsForbidden() const { return code_ == Code::kForbidden; }
  bool IsTooManySiblings() const { return code_ == Code::kTooManySiblings; }
  bool IsPreconditionFailed() const { return code_ == Code::kPreconditionFailed; }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  // "OK" or "<code name>: <message>".
  std::string ToString() const;

  bool operator==(const Status& o) const { return code_ == o.code_ && msg_ == o.msg_; }

 private:
  Status(Code c, std::string m) : code_(c), msg_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string msg_;
};

std::string_view CodeName(Status::Code code);

// Result<T> holds a T or a non-OK Status.
// REQUIRES: ok() before value(); constructing from an OK Status is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ringkv

// Propagates a non-OK Status from an expression returning Status.
#define RINGKV_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::ringkv::Status _st = (expr);          \
    if (!_st.ok()) return _st;              \
  } while (0)
