#include "common/secrets.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/util.h"

namespace vidgate {
namespace {

TEST(RedactUrlTest, HidesEveryPlaceAUrlCarriesASecret) {
  EXPECT_EQ(RedactUrl("https://hooks.example/x"), "https://hooks.example/x");
  EXPECT_EQ(RedactUrl("https://u:pw@hooks.example/x"), "https://u:***@hooks.example/x");
  EXPECT_EQ(RedactUrl("https://tok@hooks.example/x", {.hide_user = true}),
            "https://***@hooks.example/x");
  EXPECT_EQ(RedactUrl("https://h/x?token=abc&sig=def"), "https://h/x?token=***&sig=***");
  EXPECT_EQ(RedactUrl("https://h/x?abc123"), "https://h/x?***");
  EXPECT_EQ(RedactUrl("https://h/x#frag-secret"), "https://h/x#***");
  EXPECT_EQ(RedactUrl("https://h?k=v#f"), "https://h?k=***#***");
  // An '@' inside the password: the last one ends the user information.
  EXPECT_EQ(RedactUrl("postgresql://u:p@ss@db:5432/x"), "postgresql://u:***@db:5432/x");
  EXPECT_EQ(RedactUrl("not a url"), "not a url");
}

TEST(RedactUrlTest, LongPathSegmentsWhenAsked) {
  UrlRedaction webhook{.hide_user = true, .hide_path_segments_from = 16};
  EXPECT_EQ(
      RedactUrl("https://hooks.slack.com/services/T0001/B0001/XXXXXXXXXXXXXXXXXXXXXXXX", webhook),
      "https://hooks.slack.com/services/T0001/B0001/***");
  EXPECT_EQ(RedactUrl("https://h/hook", webhook), "https://h/hook");
  EXPECT_EQ(RedactUrl("https://h/a/b/", webhook), "https://h/a/b/");
  EXPECT_EQ(RedactUrl("https://h/abcdefghijklmnopqrstuvwxyz?x=1", webhook), "https://h/***?x=***");
}

TEST(RedactUrlTest, OnlyTheParametersTheCallerNames) {
  UrlRedaction pg;
  pg.secret_parameter = [](std::string_view k) { return k == "password"; };
  EXPECT_EQ(RedactUrl("postgresql://u@db/x?sslmode=require&password=hunter2", pg),
            "postgresql://u@db/x?sslmode=require&password=***");
}

TEST(RedactUrlTest, TheSecretNeverSurvives) {
  const std::string secret = "S3cr3t-Tok3n";
  for (const std::string& url :
       {"https://" + secret + "@h/", "https://u:" + secret + "@h/", "https://h/?t=" + secret,
        "https://h/?" + secret, "https://h/#" + secret, "https://h/p?a=1&b=" + secret + "#x"}) {
    EXPECT_EQ(RedactUrl(url, {.hide_user = true}).find(secret), std::string::npos) << url;
  }
}

class ResolveSecretTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& p : files_) std::filesystem::remove(p);
  }
  std::string WriteFile(const std::string& contents) {
    auto path = std::filesystem::temp_directory_path() / ("vidgate-secret-" + NewUuid());
    std::ofstream(path, std::ios::binary) << contents;
    files_.push_back(path);
    return path.string();
  }
  std::vector<std::filesystem::path> files_;
};

TEST_F(ResolveSecretTest, LiteralIsReturnedAsIs) {
  auto r = ResolveSecret("plain-value");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "plain-value");
  auto empty = ResolveSecret("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
}

TEST_F(ResolveSecretTest, EnvVariable) {
  ASSERT_EQ(setenv("VIDGATE_NOTIFY_TEST_SECRET", "from-env", 1), 0);
  auto r = ResolveSecret("env:VIDGATE_NOTIFY_TEST_SECRET");
  unsetenv("VIDGATE_NOTIFY_TEST_SECRET");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "from-env");
}

TEST_F(ResolveSecretTest, MissingEnvVariableIsInvalidArgument) {
  unsetenv("VIDGATE_NOTIFY_TEST_MISSING");
  auto r = ResolveSecret("env:VIDGATE_NOTIFY_TEST_MISSING");
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "environment variable VIDGATE_NOTIFY_TEST_MISSING is not set");

  ASSERT_EQ(setenv("VIDGATE_NOTIFY_TEST_EMPTY", "", 1), 0);
  EXPECT_EQ(ResolveSecret("env:VIDGATE_NOTIFY_TEST_EMPTY").status().code(), Code::kInvalidArgument);
  unsetenv("VIDGATE_NOTIFY_TEST_EMPTY");
  EXPECT_EQ(ResolveSecret("env:").status().code(), Code::kInvalidArgument);
}

TEST_F(ResolveSecretTest, FileContentsWithoutTrailingNewline) {
  auto r = ResolveSecret("file:" + WriteFile("file secret\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "file secret");
  auto crlf = ResolveSecret("file:" + WriteFile("crlf\r\n"));
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(*crlf, "crlf");
  auto bare = ResolveSecret("file:" + WriteFile("no-newline"));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(*bare, "no-newline");
}

TEST_F(ResolveSecretTest, UnreadableFiles) {
  auto missing = ResolveSecret("file:/nonexistent/vidgate/secret");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/vidgate/secret"), std::string::npos);
  EXPECT_EQ(ResolveSecret("file:" + WriteFile("\n")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(
      ResolveSecret("file:" + std::filesystem::temp_directory_path().string()).status().code(),
      Code::kInvalidArgument);
}

TEST_F(ResolveSecretTest, FileWithoutReadPermissionIsPermissionDenied) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  std::string path = WriteFile("x");
  std::filesystem::permissions(path, std::filesystem::perms::none);
  EXPECT_EQ(ResolveSecret("file:" + path).status().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace vidgate
