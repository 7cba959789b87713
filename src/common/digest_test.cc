#include "common/digest.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace vidgate {
namespace {

TEST(DigestTest, KnownAnswersForAbc) {
  // FIPS 180-2 and RFC 1321 examples.
  auto digest = MultiDigest::Create({"md5", "sha1", "sha256", "sha512"});
  ASSERT_TRUE(digest.ok());
  digest->Update("a");
  digest->Update("bc");
  auto hex = digest->Finish();
  EXPECT_EQ(hex["md5"], "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex["sha1"], "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(hex["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex["sha512"],
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c"
            "23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(DigestTest, UnknownAlgorithmIsNamed) {
  auto digest = MultiDigest::Create({"sha256", "crc32"});
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.status().code(), Code::kInvalidArgument);
  EXPECT_NE(digest.status().message().find("'crc32'"), std::string::npos);
}

TEST(DigestTest, HexShapes) {
  EXPECT_TRUE(IsHexDigestOf("md5", "900150983CD24FB0D6963F7D28E17F72"));
  EXPECT_FALSE(IsHexDigestOf("md5", "900150983cd24fb0d6963f7d28e17f7"));    // short
  EXPECT_FALSE(IsHexDigestOf("md5", "900150983cd24fb0d6963f7d28e17f7g"));   // not hex
  EXPECT_FALSE(IsHexDigestOf("sha256", "900150983cd24fb0d6963f7d28e17f72"));  // md5's length
  EXPECT_FALSE(IsHexDigestOf("crc32", "00000000"));
}

// The file digests agree with coreutils' sha256sum and md5sum on a file
// bigger than one read.
TEST(DigestTest, FileAgreesWithCoreutils) {
  const std::string path = ::testing::TempDir() + "/digest_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    std::mt19937 rng(7);
    for (int i = 0; i < (3 << 20) + 12345; ++i) out.put(static_cast<char>(rng()));
  }
  auto digests = DigestFile(path, {"sha256", "md5"});
  ASSERT_TRUE(digests.ok()) << digests.status().message();
  EXPECT_EQ(digests->size, (3 << 20) + 12345);
  auto tool = [&](const std::string& command) {
    std::string out(128, '\0');
    FILE* p = ::popen((command + " '" + path + "'").c_str(), "r");
    const size_t n = std::fread(out.data(), 1, out.size(), p);
    ::pclose(p);
    out.resize(n);
    return out.substr(0, out.find(' '));
  };
  EXPECT_EQ(digests->hex["sha256"], tool("sha256sum"));
  EXPECT_EQ(digests->hex["md5"], tool("md5sum"));
  std::filesystem::remove(path);
}

TEST(DigestTest, MissingFileAndStop) {
  auto missing = DigestFile(::testing::TempDir() + "/no-such-file", {"sha256"});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("no-such-file"), std::string::npos);

  const std::string path = ::testing::TempDir() + "/digest_stop.bin";
  std::ofstream(path) << "x";
  auto stopped = DigestFile(path, {"sha256"}, [] { return Cancelled("stop"); });
  EXPECT_EQ(stopped.status().code(), Code::kCancelled);
  auto empty_ok = DigestFile(path, {"sha256"}, [] { return Status(); });
  ASSERT_TRUE(empty_ok.ok());
  EXPECT_EQ(empty_ok->size, 1);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vidgate
