#include "common/status.h"

#include <gtest/gtest.h>

namespace vidgate {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd number " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  VG_ASSIGN_OR_RETURN(int h, Half(x));
  VG_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ContextIsPrefixed) {
  Status s = NotFound("no such key").WithContext("uploads/a.mp4");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "uploads/a.mp4: no such key");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd number 3");
}

TEST(StatusTest, ErrnoMapsToCodes) {
  EXPECT_EQ(ErrnoStatus(ENOENT, "open", "x").code(), Code::kNotFound);
  EXPECT_EQ(ErrnoStatus(ENOSPC, "write", "x").code(), Code::kResourceExhausted);
  EXPECT_EQ(ErrnoStatus(EACCES, "open", "x").code(), Code::kPermissionDenied);
  EXPECT_EQ(ErrnoStatus(EIO, "read", "x").code(), Code::kUnavailable);
  EXPECT_NE(ErrnoStatus(ENOENT, "open", "dir/x").message().find("'dir/x'"), std::string::npos);
}

}  // namespace
}  // namespace vidgate
