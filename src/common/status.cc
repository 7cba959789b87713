#include "common/status.h"

#include <cstring>
#include <string>

namespace vidgate {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kInvalidArgument:
      return "InvalidArgument";
    case Code::kNotFound:
      return "NotFound";
    case Code::kAlreadyExists:
      return "AlreadyExists";
    case Code::kFailedPrecondition:
      return "FailedPrecondition";
    case Code::kUnavailable:
      return "Unavailable";
    case Code::kDeadlineExceeded:
      return "DeadlineExceeded";
    case Code::kResourceExhausted:
      return "ResourceExhausted";
    case Code::kPermissionDenied:
      return "PermissionDenied";
    case Code::kCancelled:
      return "Cancelled";
    case Code::kInternal:
      return "Internal";
  }
  return "Unknown";
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

Status ErrnoStatus(int err, std::string_view operation, std::string_view what) {
  std::string msg = std::string("cannot ") + std::string(operation) + " '" + std::string(what) +
                    "': " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return NotFound(msg);
    case EEXIST:
    case ENOTEMPTY:
      return AlreadyExists(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return PermissionDenied(msg);
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return ResourceExhausted(msg);
    case ETIMEDOUT:
      return DeadlineExceeded(msg);
    case EINVAL:
    case ENAMETOOLONG:
    case EISDIR:
      return InvalidArgument(msg);
    default:
      return Unavailable(msg);
  }
}

}  // namespace vidgate
