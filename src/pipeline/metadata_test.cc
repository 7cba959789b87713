#include "pipeline/metadata.h"

#include <gtest/gtest.h>

namespace vidgate::pipeline {
namespace {

const std::vector<std::string> kTitle = {"title"};

TEST(MetadataTest, ValidSidecar) {
  auto m = ValidateSidecar(R"({"title": "Sunset", "tags": ["a"]})", kTitle);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["title"], "Sunset");
}

struct Bad {
  std::string text;
  std::string mentions;
};

class MetadataErrorTest : public ::testing::TestWithParam<Bad> {};

TEST_P(MetadataErrorTest, OneSentenceNamingTheProblem) {
  auto m = ValidateSidecar(GetParam().text, kTitle);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Code::kInvalidArgument);
  EXPECT_NE(m.status().message().find(GetParam().mentions), std::string::npos)
      << m.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MetadataErrorTest,
    ::testing::Values(Bad{"{\"title\": ", "not valid JSON"}, Bad{"", "not valid JSON"},
                      Bad{"[1, 2]", "JSON object"}, Bad{"{\"name\": \"x\"}", "'title'"},
                      Bad{"{\"title\": \"  \"}", "'title' is empty"},
                      Bad{"{\"title\": null}", "'title' is empty"},
                      Bad{std::string(1 << 20, ' ') + "{}", "over the limit of 1 MiB"},
                      Bad{std::string(100, '[') + std::string(100, ']'), "nested 100 levels"}));

TEST(MetadataTest, BracketsInsideStringsDoNotCountAsNesting) {
  std::string deep_string = "{\"title\": \"" + std::string(100, '[') + "\"}";
  EXPECT_TRUE(ValidateSidecar(deep_string, kTitle).ok());
}

// metadata_fuzz found it: a number too large for a double is a sentence,
// not an exception out of the metadata gate.
TEST(MetadataTest, ANumberTooLargeIsInvalidNotACrash) {
  for (const char* text : {"{\"title\": 8E8888}", "8888888888888888888888E88888888888888",
                           "{\"title\": \"t\", \"n\": -1e999}"}) {
    auto r = ValidateSidecar(text, {"title"});
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("sidecar"), std::string::npos) << r.status().message();
  }
}

TEST(MetadataTest, NoRequiredKeys) { EXPECT_TRUE(ValidateSidecar("{}", {}).ok()); }

}  // namespace
}  // namespace vidgate::pipeline
