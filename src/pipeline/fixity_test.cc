#include "pipeline/fixity.h"

#include <gtest/gtest.h>

#include "common/text.h"
#include "pipeline/metadata.h"

namespace vidgate::pipeline {
namespace {

const std::string kAbcSha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(FixityTest, DeclaredChecksumsAreReadAndLowerCased) {
  auto none = DeclaredChecksums(nlohmann::json{{"title", "x"}});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  std::string upper = kAbcSha256;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  auto two = DeclaredChecksums(
      {{"checksum", {{"sha256", upper}, {"md5", "900150983cd24fb0d6963f7d28e17f72"}}}});
  ASSERT_TRUE(two.ok()) << two.status().message();
  EXPECT_EQ(two->at("sha256"), kAbcSha256);
  EXPECT_EQ(two->size(), 2u);
  EXPECT_EQ(AlgorithmsFor(*two), (std::vector<std::string>{"sha256", "md5"}));
  EXPECT_EQ(AlgorithmsFor({}), (std::vector<std::string>{"sha256"}));
}

TEST(FixityTest, BadDeclarationsNameTheKey) {
  struct Case {
    nlohmann::json checksum;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{{"crc32", "00000000"}}, "'checksum.crc32' names an unknown algorithm"},
      {{{"sha256", "abc"}}, "'checksum.sha256' is not a sha256 digest in hex"},
      {{{"sha1", 12}}, "'checksum.sha1' is not a sha1 digest in hex"},
      {{{"md5", std::string(31, 'a') + "g"}}, "'checksum.md5' is not a md5 digest"},
      {"ba78", "'checksum' must be an object"},
      {nlohmann::json::object(), "'checksum' must be an object"},
  };
  for (const auto& c : cases) {
    auto got = DeclaredChecksums({{"checksum", c.checksum}});
    ASSERT_FALSE(got.ok()) << c.checksum.dump();
    EXPECT_EQ(got.status().code(), Code::kInvalidArgument);
    EXPECT_NE(got.status().message().find(c.expected), std::string::npos) << got.status().message();
  }
  // The metadata gate refuses such a sidecar with the same sentence.
  auto gate = ValidateSidecar(R"({"title":"t","checksum":{"sha256":"xyz"}})", {"title"});
  ASSERT_FALSE(gate.ok());
  EXPECT_NE(gate.status().message().find("'checksum.sha256'"), std::string::npos);
}

TEST(FixityTest, CheckNamesAlgorithmDeclaredAndComputed) {
  EXPECT_FALSE(CheckFixity({}, {{"sha256", kAbcSha256}}).has_value());
  auto good = CheckFixity({{"sha256", kAbcSha256}}, {{"sha256", kAbcSha256}});
  ASSERT_TRUE(good.has_value());
  EXPECT_TRUE(good->ok);
  EXPECT_EQ(good->message, "the original matches the declared sha256");
  const std::string wrong(64, '0');
  auto bad = CheckFixity({{"sha256", wrong}, {"md5", "900150983cd24fb0d6963f7d28e17f72"}},
                         {{"sha256", kAbcSha256}, {"md5", "900150983cd24fb0d6963f7d28e17f72"}});
  ASSERT_TRUE(bad.has_value());
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->message,
            "the original's sha256 is " + kAbcSha256 + ", the sidecar declares " + wrong);
  ASSERT_EQ(bad->detail["mismatches"].size(), 1u);
  EXPECT_EQ(bad->detail["mismatches"][0]["algorithm"], "sha256");
  EXPECT_EQ(bad->detail["mismatches"][0]["declared"], wrong);
  EXPECT_EQ(bad->detail["mismatches"][0]["computed"], kAbcSha256);
  EXPECT_EQ(bad->detail["computed"]["md5"], "900150983cd24fb0d6963f7d28e17f72");
}

TEST(FixityTest, ManifestIsSortedTwoSpacedAndEncodesAsBagItAsks) {
  const std::string a(64, 'a'), b(64, 'b'), c(64, 'c');
  const std::string text = BagItManifest(
      {{"vidgate/report.json", 1, a}, {"clip.mp4", 2, b}, {"50%\nline\r.json", 3, c}});
  EXPECT_EQ(text,
            c + "  50%25%0Aline%0D.json\n" + b + "  clip.mp4\n" + a + "  vidgate/report.json\n");
  auto back = ParseBagItManifest(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->size(), 3u);
  EXPECT_EQ(back->at("50%\nline\r.json"), c);
  EXPECT_EQ(back->at("clip.mp4"), b);
  // A name that merely looks encoded round-trips too.
  auto literal = ParseBagItManifest(BagItManifest({{"a%41.mp4", 1, a}}));
  ASSERT_TRUE(literal.ok());
  EXPECT_EQ(literal->count("a%41.mp4"), 1u);

  // Found by review: a name that is not UTF-8 was written in the catalog's
  // text form, which names no file.
  const std::string latin1 = "caf\xe9.mp4";
  const std::string bytes_manifest = BagItManifest({{BytesToKey(latin1), 1, a}});
  EXPECT_EQ(bytes_manifest, a + "  " + latin1 + "\n");
  EXPECT_EQ(ParseBagItManifest(bytes_manifest)->count(BytesToKey(latin1)), 1u);

  auto broken = ParseBagItManifest(a + "  ok.mp4\n" + "nothex  x.mp4\n");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseBagItManifest(a + " one-space.mp4\n").ok());
  EXPECT_FALSE(ParseBagItManifest(a + "  \n").ok());
}

}  // namespace
}  // namespace vidgate::pipeline
