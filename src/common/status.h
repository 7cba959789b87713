// status.h: vidgate's one error convention.
//
// Every fallible call returns a Status or a Result<T>. The code tells the
// caller what to do (it drives pipeline/retry):
//   kInvalidArgument     the input itself is bad (media that cannot be decoded,
//                        a bad config value); retrying will not help.
//   kNotFound            the object, row or file does not exist.
//   kAlreadyExists       the target exists; nothing was overwritten.
//   kFailedPrecondition  the system is not in the state the call needs (a lost
//                        lease, a schema newer than this binary).
//   kUnavailable         a backend (disk, database, network) failed; retry with
//                        back-off.
//   kDeadlineExceeded    a time limit ran out; retryable.
//   kResourceExhausted   disk full, quota; retryable.
//   kPermissionDenied    access refused; retryable (an operator can fix it).
//   kCancelled           shutdown asked the operation to stop.
//   kInternal            a bug or an impossible state.
// The message is one sentence a user can act on, naming the file, key or
// stream at fault.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vidgate {

enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kUnavailable,
  kDeadlineExceeded,
  kResourceExhausted,
  kPermissionDenied,
  kCancelled,
  kInternal,
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message".
  Status WithContext(std::string_view context) const;
  // "NotFound: message" for logs and tests.
  std::string ToString() const;

  // Explicitly drops a status whose failure does not matter to the caller.
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Maps an errno value from an operation on `what` (a path or key) to a Status.
Status ErrnoStatus(int err, std::string_view operation, std::string_view what);

// Result<T> holds a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(Code::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vidgate

#define VG_CONCAT_INNER(a, b) a##b
#define VG_CONCAT(a, b) VG_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not ok.
#define VG_RETURN_IF_ERROR(expr) VG_RETURN_IF_ERROR_IMPL(VG_CONCAT(vg_status_, __COUNTER__), expr)
#define VG_RETURN_IF_ERROR_IMPL(tmp, expr) \
  do {                                     \
    ::vidgate::Status tmp = (expr);        \
    if (!tmp.ok()) return tmp;             \
  } while (0)

// Declares `lhs` from the value of a Result, or returns its Status.
#define VG_ASSIGN_OR_RETURN(lhs, expr) \
  VG_ASSIGN_OR_RETURN_IMPL(VG_CONCAT(vg_result_, __COUNTER__), lhs, expr)
#define VG_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
