#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/util.h"

namespace vidgate::aws {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

double ParseIsoTime(const std::string& t) {  // "2015-08-30T12:36:00Z"
  std::tm tm{};
  strptime(t.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return static_cast<double>(timegm(&tm));
}

// Reads a request.txt: "METHOD PATH HTTP/1.1", headers (a line starting with
// white space continues the previous one), a blank line, the body.
struct SuiteRequest {
  SigningRequest request;
  std::string body;
};

SuiteRequest ParseRequest(const std::string& text) {
  SuiteRequest out;
  std::string head = text, body;
  if (size_t blank = text.find("\n\n"); blank != std::string::npos) {
    head = text.substr(0, blank);
    body = text.substr(blank + 2);
  }
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  out.request.method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string query;
  if (size_t q = target.find('?'); q != std::string::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  out.request.path = target;
  for (size_t start = 0; !query.empty() && start <= query.size();) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string pair = query.substr(start, end - start);
    size_t eq = pair.find('=');
    out.request.query.emplace_back(
        PercentDecode(pair.substr(0, eq)),
        eq == std::string::npos ? "" : PercentDecode(pair.substr(eq + 1)));
    start = end + 1;
  }
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      out.request.headers.back().second += " " + line;
      continue;
    }
    size_t colon = line.find(':');
    out.request.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  out.body = body;
  return out;
}

std::string TrimEnd(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

TEST(SigV4SuiteTest, EveryPublishedHeaderCaseMatchesAllThreeAnswers) {
  const fs::path suite = fs::path(VIDGATE_SOURCE_DIR) / "src/aws/testdata/sigv4-suite";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(suite)) {
    if (!entry.is_directory()) continue;
    const fs::path dir = entry.path();
    SCOPED_TRACE(dir.filename().string());
    auto context = nlohmann::json::parse(Slurp(dir / "context.json"));
    SuiteRequest r = ParseRequest(Slurp(dir / "request.txt"));
    Credentials creds;
    creds.access_key_id = context["credentials"]["access_key_id"];
    creds.secret_access_key = context["credentials"]["secret_access_key"];
    creds.session_token = context["credentials"].value("token", "");
    SigningParams params;
    params.region = context["region"];
    params.service = context["service"];
    params.now = ParseIsoTime(context["timestamp"]);
    params.normalize_path = context["normalize"];
    params.content_sha256_header = context["sign_body"];
    params.omit_session_token = context.value("omit_session_token", false);
    r.request.payload_hash = Sha256Hex(r.body);
    Signed s = SignV4(r.request, creds, params);
    EXPECT_EQ(s.canonical_request, TrimEnd(Slurp(dir / "header-canonical-request.txt")));
    EXPECT_EQ(s.string_to_sign, TrimEnd(Slurp(dir / "header-string-to-sign.txt")));
    EXPECT_EQ(s.signature, TrimEnd(Slurp(dir / "header-signature.txt")));
    ++cases;
  }
  EXPECT_GE(cases, 38);
}

TEST(SigV4Test, S3PathsAreSignedAsSentNeverNormalised) {
  SigningRequest r;
  r.method = "GET";
  r.path = "/bucket/a/../b%20c";
  r.headers = {{"Host", "s3.amazonaws.com"}};
  r.payload_hash = std::string(kEmptyPayloadHash);
  SigningParams p;
  p.region = "us-east-1";
  p.service = "s3";
  p.s3_path = true;
  p.content_sha256_header = true;
  Signed s = SignV4(r, {"AKID", "SECRET", "", 0}, p);
  EXPECT_NE(s.canonical_request.find("\n/bucket/a/../b%20c\n"), std::string::npos)
      << s.canonical_request;
  EXPECT_NE(s.canonical_request.find("x-amz-content-sha256:" + std::string(kEmptyPayloadHash)),
            std::string::npos);
}

// The same S3 requests signed by Debian's python3-botocore: odd keys, a
// continuation token, a session token, conditional and ranged requests.
struct S3Case {
  std::string method, bucket_path;
  std::vector<Header> query;  // decoded
  std::vector<Header> headers;
  std::string body, session_token;
};

std::string RunBotocore(const nlohmann::json& cases) {
  const fs::path in = fs::temp_directory_path() / ("vidgate-botocore-" + NewUuid() + ".json");
  std::ofstream(in) << cases.dump();
  const std::string cmd = "/usr/bin/python3 '" + std::string(VIDGATE_SOURCE_DIR) +
                          "/src/aws/testdata/botocore_sign.py' < '" + in.string() + "'";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
  }
  fs::remove(in);
  return out;
}

TEST(SigV4BotocoreTest, S3RequestsSignLikeBotocore) {
  const std::string host = "127.0.0.1:9000";
  const std::vector<S3Case> cases = {
      {"GET", "/media/uploads/a b/caf\xc3\xa9+%#~!'()*.mp4", {}, {}, "", ""},
      {"GET",
       "/media",
       {{"list-type", "2"},
        {"prefix", "uploads/"},
        {"encoding-type", "url"},
        {"continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+x y"}},
       {},
       "",
       "FwoGZXIvYXdzEJr//////////wEaDEXAMPLE+/="},
      {"PUT",
       "/media/processed/clip/vidgate/report.json",
       {},
       {{"If-None-Match", "*"}, {"Content-Type", "application/json"}},
       "{\"ok\": true}",
       "session-token"},
      {"PUT",
       "/media/.vidgate/work/1.x@h",
       {{"partNumber", "3"}, {"uploadId", "VXBsb2FkIElE~for.6/9"}},
       {},
       "part bytes",
       ""},
      {"DELETE", "/media/failed/\xe6\x97\xa5\xe6\x9c\xac/v.mp4", {}, {}, "", ""},
      {"HEAD", "/media/uploads/x.mp4", {}, {{"Range", "bytes=0-99"}}, "", "tok"},
      {"POST", "/media/uploads/big.mp4", {{"uploads", ""}}, {}, "", ""},
  };
  const double now = 1764500000.25;
  nlohmann::json requests = nlohmann::json::array();
  std::vector<std::string> ours;
  for (const auto& c : cases) {
    SigningRequest r;
    r.method = c.method;
    r.path = UriEncode(c.bucket_path, /*keep_slash=*/true);
    r.query = c.query;
    r.headers = c.headers;
    r.headers.emplace_back("host", host);
    r.payload_hash = Sha256Hex(c.body);
    SigningParams p;
    p.region = "eu-central-1";
    p.service = "s3";
    p.now = now;
    p.s3_path = true;
    p.content_sha256_header = true;
    Signed s = SignV4(
        r, {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", c.session_token, 0},
        p);
    for (const auto& h : s.headers) {
      if (h.first == "authorization") ours.push_back(h.second);
    }
    std::string query;
    for (const auto& [k, v] : c.query) {
      query += (query.empty() ? "?" : "&") + UriEncode(k) + "=" + UriEncode(v);
    }
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [k, v] : c.headers) headers[k] = v;
    requests.push_back({{"method", c.method},
                        {"url", "http://" + host + r.path + query},
                        {"headers", headers},
                        {"body", c.body},
                        {"time", now},
                        {"region", "eu-central-1"},
                        {"access_key_id", "AKIAIOSFODNN7EXAMPLE"},
                        {"secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                        {"session_token", c.session_token}});
  }
  auto theirs = nlohmann::json::parse(RunBotocore(requests), nullptr, false);
  ASSERT_TRUE(theirs.is_array()) << "python3-botocore did not answer (is it installed?)";
  ASSERT_EQ(theirs.size(), ours.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i], theirs[i].get<std::string>()) << requests[i].dump();
  }
}

TEST(SigV4Test, UriEncodeKeepsOnlyUnreservedBytes) {
  EXPECT_EQ(UriEncode("a b+c%d#e~f/g"), "a%20b%2Bc%25d%23e~f%2Fg");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("\xe9\x01"), "%E9%01");
}

TEST(SigV4Test, AmzDateIsUtc) { EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z"); }

}  // namespace
}  // namespace vidgate::aws
