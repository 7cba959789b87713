#include "common/util.h"

#include <gtest/gtest.h>

#include <regex>
#include <vector>

namespace vidgate {
namespace {

TEST(UtilTest, FormatTimeIsRfc3339Utc) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(1700000000.25), "2023-11-14T22:13:20.250Z");
  EXPECT_EQ(FormatTime(1700000000.9996), "2023-11-14T22:13:21.000Z");
}

TEST(UtilTest, UuidsAreV4AndDistinct) {
  std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_TRUE(std::regex_match(a, v4)) << a;
  EXPECT_NE(a, b);
}

TEST(UtilTest, HmacMatchesRfc4231Case2) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(UtilTest, Sha256InPiecesIsSha256OfTheWhole) {
  const std::string abc_digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(Sha256Hex("abc"), abc_digest);
  Sha256 pieces;
  pieces.Update("a");
  pieces.Update("");
  pieces.Update("bc");
  EXPECT_EQ(pieces.HexDigest(), abc_digest);
  const std::string big(1 << 20, 'q');
  Sha256 halves;
  halves.Update(std::string_view(big).substr(0, 1000));
  halves.Update(std::string_view(big).substr(1000));
  EXPECT_EQ(halves.HexDigest(), Sha256Hex(big));
}

TEST(UtilTest, JsonStringReadsOnlyStrings) {
  const auto doc = nlohmann::json::parse(R"({"a":"x","b":1,"c":null,"d":["x"]})");
  EXPECT_EQ(JsonString(doc, "a"), "x");
  EXPECT_EQ(JsonString(doc, "b"), "");
  EXPECT_EQ(JsonString(doc, "c"), "");
  EXPECT_EQ(JsonString(doc, "d"), "");
  EXPECT_EQ(JsonString(doc, "missing"), "");
  EXPECT_EQ(JsonString(nlohmann::json::array(), "a"), "");
  EXPECT_EQ(JsonString(nlohmann::json(3), "a"), "");
}

TEST(UtilTest, Base64RoundTripsAndRefusesGarbage) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(*Base64Decode(Base64Encode(s)), s);
  }
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zm9!").ok());
}

}  // namespace
}  // namespace vidgate

namespace vidgate {
namespace {

TEST(UtilTest, Iso8601TimesParseWithOffsetsAndFractions) {
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00Z"), 1440938160.0);
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00.25Z"), 1440938160.25);
  EXPECT_EQ(ParseIso8601("2015-08-30T14:36:00+02:00"), 1440938160.0);
  EXPECT_EQ(ParseIso8601("2015-08-30T12:06:00-00:30"), 1440938160.0);
}

// Each of these once read past the text's end or took what is no time
// (the API takes `since` from a query string).
TEST(UtilTest, Iso8601RefusesShortOrStrangeOffsetsWithoutReadingPastTheEnd) {
  for (const char* bad :
       {"2026-11-30T13:00:00+1:0", "2026-11-30T13:00:00+", "2026-11-30T13:00:00+01",
        "2026-11-30T13:00:00+01:", "2026-11-30T13:00:00+0100", "2026-11-30T13:00:00+24:00",
        "2026-11-30T13:00:00+01:60", "2026-11-30T13:00:00.5e3Z", "2026-11-30T13:00:00.Z",
        "2026-11-30T13:00:00 01:00", "2026-11-30T13:00:00+01:00x", "2026-11-30T13:00:00"}) {
    // The parse works on a heap copy: under ASan a read past it is caught.
    EXPECT_FALSE(ParseIso8601(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace vidgate
