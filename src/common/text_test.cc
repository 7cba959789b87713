#include "common/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace vidgate {
namespace {

TEST(TextTest, ValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("clip"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x8e\xa5"));
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // over U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe6\x97"));          // cut short
}

TEST(TextTest, KeysOfNamesThatAreNotUtf8) {
  EXPECT_EQ(BytesToKey("clip.mp4"), "clip.mp4");
  EXPECT_EQ(BytesToKey("caf\xc3\xa9.mp4"), "caf\xc3\xa9.mp4");
  // Latin-1 e-acute is the byte 0xE9: U+F7E9.
  EXPECT_EQ(BytesToKey("caf\xe9.mp4"), "caf\xef\x9f\xa9.mp4");
  EXPECT_EQ(KeyToBytes("caf\xef\x9f\xa9.mp4"), "caf\xe9.mp4");
  // A real U+F7E9 in a name is escaped byte by byte, so the two differ.
  EXPECT_EQ(BytesToKey("\xef\x9f\xa9"), "\xef\x9f\xaf\xef\x9e\x9f\xef\x9e\xa9");
  EXPECT_EQ(KeyToBytes(BytesToKey("\xef\x9f\xa9")), "\xef\x9f\xa9");
}

TEST(TextTest, EveryByteStringRoundTripsThroughAValidKey) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> len(0, 24);
  // Bytes biased to the interesting ones: high bytes, escapes' lead bytes.
  const std::string alphabet = std::string("a./-\n\x1b\\") +
                               "\x80\xbf\xc3\xa9\xe6\x97\xef\x9f\x9e" +
                               "\xf0\x9f\x8e\xa5\xed\xa0\xff";
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  for (int round = 0; round < 20000; ++round) {
    std::string bytes;
    for (int n = len(rng); n > 0; --n) bytes += alphabet[pick(rng)];
    const std::string key = BytesToKey(bytes);
    ASSERT_TRUE(IsValidUtf8(key)) << round;
    ASSERT_EQ(KeyToBytes(key), bytes) << round;
    // Whatever the name, it can go into JSON and come back.
    const std::string doc = nlohmann::json{{"name", key}}.dump();
    ASSERT_EQ(nlohmann::json::parse(doc)["name"].get<std::string>(), key);
  }
}

TEST(TextTest, PrintableEscapesWhatATerminalActsOn) {
  EXPECT_EQ(Printable("clip"), "clip");
  EXPECT_EQ(Printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(Printable("a\nb"), "a\\nb");
  EXPECT_EQ(Printable("a\\nb"), "a\\\\nb");  // a real backslash stays distinguishable
  EXPECT_EQ(Printable("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(Printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(Printable("raw\xe9"), "raw\\xe9");
  EXPECT_EQ(Printable(BytesToKey("caf\xe9")), "caf\\xe9");
  EXPECT_EQ(Printable("\xc2\x9b"), "\\u009b");                            // C1 CSI
  EXPECT_EQ(Printable("evil\xe2\x80\xaegpj.mp4"), "evil\\u202egpj.mp4");  // RTL override
  for (const std::string s : {"a\nb", "\x1b]0;title\x07", "x\r\ny"}) {
    const std::string p = Printable(s);
    for (char c : p) ASSERT_FALSE(static_cast<unsigned char>(c) < 0x20) << p;
  }
}

}  // namespace
}  // namespace vidgate
