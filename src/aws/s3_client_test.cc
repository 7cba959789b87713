#include "aws/s3_client.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include "aws/testing/fault_proxy.h"
#include "aws/testing/s3rver.h"
#include "common/util.h"

namespace vidgate::aws {
namespace {

namespace fs = std::filesystem;

// Against a real s3rver on loopback.
class S3ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    curl_ = new net::CurlGlobal();
    auto s = testing::S3rver::Start({"media"});
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value().release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete curl_;
  }
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vidgate-s3client-" + NewUuid());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  S3Options Options(const std::string& bucket = "media") {
    S3Options o;
    o.bucket = bucket;
    o.endpoint = server_->endpoint();
    o.path_style = true;
    o.sleep = [](double) {};
    return o;
  }
  std::string Prefix() { return "t-" + NewUuid().substr(0, 8) + "/"; }

  static net::CurlGlobal* curl_;
  static testing::S3rver* server_;
  fs::path dir_;
  SystemClock clock_;
  net::Client http_;
  std::unique_ptr<CredentialsProvider> creds_ = StaticCredentials({"S3RVER", "S3RVER", "", 0});
};
net::CurlGlobal* S3ClientTest::curl_ = nullptr;
testing::S3rver* S3ClientTest::server_ = nullptr;

TEST_F(S3ClientTest, OddKeysRoundTrip) {
  S3Client s3(Options(), creds_.get(), &http_, &clock_);
  const std::string p = Prefix();
  const std::vector<std::string> keys = {
      p + "a b/caf\xc3\xa9 clip.mp4",       p + "x+y.mp4",  p + "100%.mp4", p + "h#t~.mp4",
      p + "\xe6\x97\xa5\xe6\x9c\xac/v.mp4", p + "q?=&.json"};
  for (const auto& k : keys) {
    ASSERT_TRUE(s3.Put(k, "bytes of " + k, false).ok()) << k;
  }
  for (const auto& k : keys) {
    auto head = s3.Head(k);
    ASSERT_TRUE(head.ok()) << k << ": " << head.status().message();
    EXPECT_EQ(head->size, static_cast<int64_t>(("bytes of " + k).size()));
    EXPECT_FALSE(head->etag.empty());
    EXPECT_GT(head->last_modified, 1e9);
    auto got = s3.Get(k, 1000);
    ASSERT_TRUE(got.ok()) << k << ": " << got.status().message();
    EXPECT_EQ(*got, "bytes of " + k);
  }
  auto page = s3.List(p, "");
  ASSERT_TRUE(page.ok()) << page.status().message();
  std::vector<std::string> listed;
  for (const auto& o : page->objects) listed.push_back(o.key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(listed, sorted);
  for (const auto& k : keys) EXPECT_TRUE(s3.Delete(k).ok()) << k;
  EXPECT_TRUE(s3.List(p, "")->objects.empty());
  EXPECT_TRUE(s3.Delete(keys[0]).ok()) << "deleting what is gone is ok";
}

TEST_F(S3ClientTest, ListingGoesPageByPage) {
  S3Client s3(Options(), creds_.get(), &http_, &clock_);
  const std::string p = Prefix();
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(s3.Put(p + "k" + std::to_string(i), "x", false).ok());
  ASSERT_TRUE(s3.Put("elsewhere-" + p, "x", false).ok());
  std::vector<std::string> all;
  std::string token;
  int pages = 0;
  do {
    auto page = s3.List(p, token, 3);
    ASSERT_TRUE(page.ok()) << page.status().message();
    for (const auto& o : page->objects) all.push_back(o.key);
    token = page->next_token;
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all.front(), p + "k0");
}

TEST_F(S3ClientTest, MultipartUploadAndStreamedDownload) {
  S3Options o = Options();
  o.part_size = 5 << 20;
  o.single_put_limit = 5 << 20;
  o.parallel_parts = 3;
  S3Client s3(o, creds_.get(), &http_, &clock_);
  std::string data(13 << 20, '\0');
  std::mt19937 rng(7);
  for (auto& c : data) c = static_cast<char>(rng());
  const std::string path = (dir_ / "big.bin").string();
  ASSERT_TRUE(WriteLocalFile(path, data).ok());
  const std::string key = Prefix() + "big file.bin";
  ASSERT_TRUE(s3.Upload(path, key, true).ok());
  auto head = s3.Head(key);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, static_cast<int64_t>(data.size()));
  std::string back;
  auto got = s3.Download(key, [&](std::string_view piece) {
    back.append(piece);
    return Status();
  });
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->size, static_cast<int64_t>(data.size()));
  EXPECT_TRUE(back == data) << "downloaded bytes differ";
}

TEST_F(S3ClientTest, CopyKeepsBytesAndOddNames) {
  S3Client s3(Options(), creds_.get(), &http_, &clock_);
  const std::string p = Prefix();
  for (const std::string name : {"plain.mp4", "a b+c#d.mp4", "caf\xc3\xa9.mp4"}) {
    ASSERT_TRUE(s3.Put(p + "uploads/" + name, "video " + name, false).ok());
    Status s = s3.Copy(p + "uploads/" + name, p + "processed/" + name, true);
    ASSERT_TRUE(s.ok()) << name << ": " << s.message();
    EXPECT_EQ(*s3.Get(p + "processed/" + name, 100), "video " + name);
  }
  EXPECT_EQ(s3.Copy(p + "uploads/none.mp4", p + "x.mp4", true).code(), Code::kNotFound);
}

TEST_F(S3ClientTest, ErrorsNameTheObjectAndMapToTheRetryPolicy) {
  S3Client s3(Options(), creds_.get(), &http_, &clock_);
  auto missing = s3.Head("no/such key.mp4");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_NE(missing.status().message().find("s3://media/no/such key.mp4"), std::string::npos)
      << missing.status().message();
  auto get = s3.Get("no/such key.mp4", 10);
  EXPECT_EQ(get.status().code(), Code::kNotFound);
  ASSERT_TRUE(s3.Put("big-one", std::string(100, 'x'), false).ok());
  EXPECT_EQ(s3.Get("big-one", 10).status().code(), Code::kInvalidArgument);

  S3Client nobucket(Options("no-such-bucket"), creds_.get(), &http_, &clock_);
  auto list = nobucket.List("", "");
  EXPECT_EQ(list.status().code(), Code::kFailedPrecondition) << list.status().message();
  EXPECT_NE(list.status().message().find("NoSuchBucket"), std::string::npos)
      << list.status().message();
}

// The tests' fault proxy is transparent until told otherwise, odd keys too.
TEST_F(S3ClientTest, TheFaultProxyForwardsFaithfullyAndFailsOnDemand) {
  testing::FaultProxy proxy(server_->endpoint());
  ASSERT_TRUE(proxy.Start());
  S3Options o = Options();
  o.endpoint = proxy.endpoint();
  S3Client s3(o, creds_.get(), &http_, &clock_);
  const std::string p = Prefix();
  const std::string odd = p + "uploads/my clip #1 +50% \xC3\xA9.json";
  ASSERT_TRUE(s3.Put(odd, "{}", false).ok());
  // A range goes through as S3 answered it: its 206 is already the slice.
  std::string bytes;
  for (int i = 0; i < 3000; ++i) bytes.push_back(static_cast<char>('a' + i % 26));
  ASSERT_TRUE(s3.Put(p + "ranged.bin", bytes, false).ok());
  std::string got;
  auto ranged = s3.DownloadRange(p + "ranged.bin", 100, 500, [&](std::string_view piece) {
    got.append(piece);
    return Status();
  });
  ASSERT_TRUE(ranged.ok()) << ranged.status().message();
  EXPECT_EQ(got, bytes.substr(100, 500));
  EXPECT_EQ(ranged->size, 3000);
  auto head = s3.Head(odd);
  ASSERT_TRUE(head.ok()) << head.status().message();
  EXPECT_EQ(head->size, 2);
  Status copied = s3.Copy(odd, p + "failed/my clip #1 +50% \xC3\xA9.json", true);
  ASSERT_TRUE(copied.ok()) << copied.message();
  auto page = s3.List(p, "");
  ASSERT_TRUE(page.ok()) << page.status().message();
  EXPECT_EQ(page->objects.size(), 3u);  // ranged.bin and the two sidecars
  proxy.FailWrites("/media/" + p + "processed/", 403, "AccessDenied");
  EXPECT_EQ(s3.Put(p + "processed/x", "x", false).code(), Code::kPermissionDenied);
  EXPECT_TRUE(s3.Put(p + "processedx", "x", false).ok());
  proxy.FailNext(2, 503, "SlowDown");
  EXPECT_TRUE(s3.Head(odd).ok()) << "two 503s are retried through";
  EXPECT_EQ(proxy.failed(), 3);
}

// A server that lies and stumbles: answers chosen per request.
class FakeS3Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      ++calls_;
      answer_(req, res);
    };
    server_.Get(".*", handler);
    server_.Put(".*", handler);
    server_.Post(".*", handler);
    server_.Delete(".*", handler);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    http_.reset();
    server_.stop();
    thread_.join();
  }
  std::unique_ptr<S3Client> Client(const std::function<void(S3Options&)>& tweak = {}) {
    S3Options o;
    o.bucket = "b";
    o.endpoint = "http://127.0.0.1:" + std::to_string(port_);
    o.path_style = true;
    o.sleep = [](double) {};
    if (tweak) tweak(o);
    return std::make_unique<S3Client>(o, creds_.get(), http_.get(), &clock_);
  }
  static std::string ErrorXml(const std::string& code) {
    return "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>m</Message></Error>";
  }

  net::CurlGlobal curl_;
  std::unique_ptr<net::Client> http_ = std::make_unique<net::Client>();
  std::unique_ptr<CredentialsProvider> creds_ = StaticCredentials({"AK", "SK", "", 0});
  SystemClock clock_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> calls_{0};
  std::function<void(const httplib::Request&, httplib::Response&)> answer_;
};

TEST_F(FakeS3Test, SlowDownIsRetriedAndAccessDeniedIsNot) {
  answer_ = [this](const httplib::Request&, httplib::Response& res) {
    if (calls_ <= 2) {
      res.status = 503;
      res.set_content(ErrorXml("SlowDown"), "application/xml");
    } else {
      res.set_content("ok", "text/plain");
    }
  };
  auto s3 = Client();
  auto got = s3->Get("k", 10);
  // Head (503, 503, 200) then the GET.
  EXPECT_TRUE(got.ok()) << got.status().message();
  calls_ = 0;
  answer_ = [](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
    res.set_content(ErrorXml("AccessDenied"), "application/xml");
  };
  EXPECT_EQ(s3->Put("k", "v", false).code(), Code::kPermissionDenied);
  EXPECT_EQ(calls_, 1);
}

TEST_F(FakeS3Test, AnErrorInsideA200IsAnError) {
  answer_ = [](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "HEAD" || req.method == "GET") {  // the source exists
      res.set_header("ETag", "\"e\"");
      res.set_content("x", "text/plain");
      return;
    }
    res.set_content(ErrorXml("InternalError"), "application/xml");  // 200 with an Error
  };
  auto s3 = Client();
  Status s = s3->Copy("src", "dst", false);
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.message();
  EXPECT_NE(s.message().find("InternalError"), std::string::npos) << s.message();
  EXPECT_GT(calls_, 2) << "InternalError was not retried";
}

// A peer that cuts the first answer short, then ignores Range (200 with the
// whole object) or answers from another byte than asked: the download still
// holds each byte once.
TEST_F(FakeS3Test, AResumedDownloadNeverAppendsBytesTwice) {
  const std::string object = std::string(300000, 'a') + std::string(300000, 'b');
  for (const std::string mode : {"ignores-range", "range-from-zero", "range-too-far"}) {
    SCOPED_TRACE(mode);
    calls_ = 0;
    answer_ = [&](const httplib::Request& req, httplib::Response& res) {
      res.set_header("ETag", "\"e1\"");
      if (calls_ == 1) {  // half the object, then the connection drops
        res.set_content_provider(object.size(), "application/octet-stream",
                                 [&](size_t offset, size_t, httplib::DataSink& sink) {
                                   if (offset >= object.size() / 2) return false;
                                   sink.write(object.data() + offset, object.size() / 2);
                                   return true;
                                 });
        return;
      }
      EXPECT_TRUE(req.has_header("Range"));
      // cpp-httplib answers Range by itself; this peer is one that does not.
      const_cast<httplib::Request&>(req).ranges.clear();
      if (mode == "ignores-range") {
        res.set_content(object, "application/octet-stream");
      } else {
        const size_t from = mode == "range-from-zero" ? 0 : object.size() - 10;
        res.status = 206;
        res.set_header("Content-Range",
                       fmt::format("bytes {}-{}/{}", from, object.size() - 1, object.size()));
        res.set_content(object.substr(from), "application/octet-stream");
      }
    };
    auto s3 = Client();
    std::string got;
    auto downloaded = s3->Download("k", [&](std::string_view piece) {
      got.append(piece);
      return Status();
    });
    if (mode == "range-too-far") {
      EXPECT_EQ(downloaded.status().code(), Code::kUnavailable);
      EXPECT_NE(downloaded.status().message().find("when asked from byte"), std::string::npos)
          << downloaded.status().message();
      EXPECT_LE(got.size(), object.size() / 2);
      continue;
    }
    ASSERT_TRUE(downloaded.ok()) << downloaded.status().message();
    EXPECT_EQ(downloaded->size, static_cast<int64_t>(object.size()));
    EXPECT_EQ(got.size(), object.size());
    EXPECT_TRUE(got == object);
    EXPECT_GE(calls_, 2);
  }
}

// The object behind a resumed download changed: the reader is told, not
// handed the halves of two objects.
TEST_F(FakeS3Test, AnObjectThatChangesMidDownloadIsRefused) {
  const std::string object(400000, 'x');
  answer_ = [&](const httplib::Request& req, httplib::Response& res) {
    const_cast<httplib::Request&>(req).ranges.clear();            // answers the whole object
    res.set_header("ETag", calls_ == 1 ? "\"old\"" : "\"new\"");  // a peer ignoring If-Match
    if (calls_ == 1) {
      res.set_content_provider(object.size(), "application/octet-stream",
                               [&](size_t offset, size_t, httplib::DataSink& sink) {
                                 if (offset > 0) return false;
                                 sink.write(object.data(), 1000);
                                 return true;
                               });
      return;
    }
    res.set_content(object, "application/octet-stream");
  };
  auto s3 = Client();
  auto downloaded = s3->Download("k", [](std::string_view) { return Status(); });
  EXPECT_EQ(downloaded.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(downloaded.status().message().find("changed while it was read"), std::string::npos)
      << downloaded.status().message();
}

// Above CopyObject's limit a copy is a multipart upload of server-side part
// copies: each range once, in order, from the version seen (If-Match), the
// parts completed in order; an error inside a 200 is retried, a refusal
// aborts the upload so nothing is left billed.
TEST_F(FakeS3Test, ABigCopyIsMadeOfPartCopiesAndAbortedOnRefusal) {
  for (const bool refuse : {false, true}) {
    SCOPED_TRACE(refuse ? "a part refused" : "all parts copied");
    std::mutex mu;
    std::vector<std::string> ranges;
    std::string completed;
    int aborted = 0;
    int part2_tries = 0;
    answer_ = [&](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu);
      if (req.method == "HEAD") {
        res.set_header("ETag", "\"src\"");
        res.set_header("Last-Modified", "Mon, 30 Nov 2026 16:00:00 GMT");
        res.set_content(std::string(25, 'x'), "application/octet-stream");
      } else if (req.method == "POST" && req.has_param("uploads")) {
        res.set_content(
            "<InitiateMultipartUploadResult><UploadId>U1</UploadId></"
            "InitiateMultipartUploadResult>",
            "application/xml");
      } else if (req.method == "PUT" && req.has_param("partNumber")) {
        EXPECT_EQ(req.get_param_value("uploadId"), "U1");
        // (cpp-httplib decodes header values: "/b/big%20src" on the wire)
        EXPECT_EQ(req.get_header_value("x-amz-copy-source"), "/b/big src");
        EXPECT_EQ(req.get_header_value("x-amz-copy-source-if-match"), "\"src\"");
        const std::string part = req.get_param_value("partNumber");
        if (part == "2" && ++part2_tries == 1) {  // S3's 200 with an error inside
          res.set_content(ErrorXml("InternalError"), "application/xml");
          return;
        }
        if (part == "3" && refuse) {
          res.status = 403;
          res.set_content(ErrorXml("AccessDenied"), "application/xml");
          return;
        }
        ranges.push_back(part + ":" + req.get_header_value("x-amz-copy-source-range"));
        res.set_content("<CopyPartResult><ETag>\"p" + part + "\"</ETag></CopyPartResult>",
                        "application/xml");
      } else if (req.method == "POST" && req.has_param("uploadId")) {
        completed = req.body;
        res.set_content("<CompleteMultipartUploadResult/>", "application/xml");
      } else if (req.method == "DELETE" && req.has_param("uploadId")) {
        ++aborted;
        res.status = 204;
      } else {
        ADD_FAILURE() << "unexpected " << req.method << " " << req.path;
        res.status = 500;
      }
    };
    auto s3 = Client([](S3Options& o) {
      o.single_copy_limit = 10;
      o.copy_part_size = 10;
    });
    Status s = s3->Copy("big src", "big dst", /*if_absent=*/true);
    if (refuse) {
      EXPECT_EQ(s.code(), Code::kPermissionDenied) << s.message();
      EXPECT_EQ(aborted, 1);
      EXPECT_TRUE(completed.empty());
      continue;
    }
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(ranges, (std::vector<std::string>{"1:bytes=0-9", "2:bytes=10-19", "3:bytes=20-24"}));
    EXPECT_EQ(part2_tries, 2);
    EXPECT_EQ(aborted, 0);
    const size_t p1 = completed.find("\"p1\""), p2 = completed.find("\"p2\""),
                 p3 = completed.find("\"p3\"");
    EXPECT_TRUE(p1 != std::string::npos && p1 < p2 && p2 < p3 && p3 != std::string::npos)
        << completed;
  }
}

}  // namespace
}  // namespace vidgate::aws
