#include "common/secrets.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vidgate
