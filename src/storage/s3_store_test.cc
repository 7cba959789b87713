// The s3:// store against a real s3rver on loopback: the conformance suite,
// then what only S3 has.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <thread>

#include "aws/s3_client.h"
#include "aws/testing/s3rver.h"
#include "common/util.h"
#include "storage/store.h"
#include "storage/testing/store_conformance.h"

namespace vidgate::storage {
namespace {

namespace fs = std::filesystem;

// One s3rver and one libcurl for the whole binary.
class S3Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    curl_ = std::make_unique<net::CurlGlobal>();
    auto s = aws::testing::S3rver::Start({"media"});
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
    http_ = std::make_unique<net::Client>();
  }
  void TearDown() override {
    http_.reset();
    server_.reset();
    curl_.reset();
  }
  aws::testing::S3rver& server() { return *server_; }
  net::Client* http() { return http_.get(); }
  aws::CredentialsProvider* credentials() { return credentials_.get(); }

 private:
  std::unique_ptr<net::CurlGlobal> curl_;
  std::unique_ptr<aws::testing::S3rver> server_;
  std::unique_ptr<net::Client> http_;
  std::unique_ptr<aws::CredentialsProvider> credentials_ =
      aws::StaticCredentials({"S3RVER", "S3RVER", "", 0});
};
auto* const kS3 =
    static_cast<S3Environment*>(::testing::AddGlobalTestEnvironment(new S3Environment));

OpenOptions Options() {
  OpenOptions o;
  o.endpoint = kS3->server().endpoint();
  o.credentials = kS3->credentials();
  o.http = kS3->http();
  return o;
}

// A fresh prefix per store: stores never see each other's objects.
std::unique_ptr<Store> MakeS3Store() {
  auto store = Open("s3://media/conformance-" + NewUuid().substr(0, 8), Options());
  return store.ok() ? std::move(store).value() : nullptr;
}

using conformance::StoreConformance;
INSTANTIATE_TEST_SUITE_P(S3, StoreConformance, ::testing::Values(MakeS3Store),
                         [](const auto&) { return std::string("s3"); });

TEST(S3StoreTest, UrlsThatCannotNameABucketAreRefused) {
  for (const char* url : {"s3://", "s3://UpperCase", "s3://ab", "s3://b_x/p", "s3://bucket/a/../b",
                          "s3://bucket//x"}) {
    auto s = Open(url, Options());
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument) << url;
  }
  OpenOptions bad = Options();
  bad.endpoint = "127.0.0.1:9000";
  EXPECT_EQ(Open("s3://media", bad).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(Open("s3://media/a/b/", Options()).ok());
}

TEST(S3StoreTest, PrepareSaysAMissingBucketInOneSentence) {
  auto store = std::move(Open("s3://no-such-bucket", Options())).value();
  Status s = store->Prepare();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.message();
  EXPECT_NE(s.message().find("NoSuchBucket"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("s3://no-such-bucket/"), std::string::npos) << s.message();
}

TEST(S3StoreTest, ThePrefixIsTheBoundary) {
  const std::string p = "bound-" + NewUuid().substr(0, 8);
  auto store = std::move(Open("s3://media/" + p + "/inner", Options())).value();
  ASSERT_TRUE(store->Prepare().ok());
  aws::S3Options raw;
  raw.bucket = "media";
  raw.endpoint = kS3->server().endpoint();
  raw.path_style = true;
  SystemClock clock;
  aws::S3Client s3(raw, kS3->credentials(), kS3->http(), &clock);
  ASSERT_TRUE(s3.Put(p + "/innerx/uploads/a.mp4", "beside", false).ok());
  ASSERT_TRUE(s3.Put(p + "/inner/uploads/ok.mp4", "ok", false).ok());
  auto listed = store->List("uploads/");
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "uploads/ok.mp4");
  EXPECT_FALSE((*listed)[0].etag.empty());
}

// Keys no file could have (s3rver keeps objects as files, so it cannot hold
// them: a fake bucket lists them).
TEST(S3StoreTest, KeysNoFileCouldHaveAreListedAsRefusedAndFoldersSkipped) {
  httplib::Server fake;
  fake.Get("/media", [](const httplib::Request&, httplib::Response& res) {
    std::string xml = "<ListBucketResult><EncodingType>url</EncodingType>";
    for (const char* k : {"p/uploads/", "p/uploads/ok.mp4", "p/uploads/x/../y.mp4",
                          "p/uploads//z.mp4", "p/uploads/a+b%2Bc.mp4"}) {
      xml += std::string("<Contents><Key>") + k +
             "</Key><Size>0</Size><ETag>&quot;e&quot;</ETag></Contents>";
    }
    res.set_content(xml + "<IsTruncated>false</IsTruncated></ListBucketResult>", "application/xml");
  });
  const int port = fake.bind_to_any_port("127.0.0.1");
  std::thread t([&] { fake.listen_after_bind(); });
  while (!fake.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  OpenOptions o = Options();
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  {
    net::Client http;
    o.http = &http;
    auto store = std::move(Open("s3://media/p", o)).value();
    auto listed = store->List("uploads/");
    ASSERT_TRUE(listed.ok()) << listed.status().message();
    std::vector<std::string> keys, refused;
    for (const auto& i : *listed) (i.refused.empty() ? keys : refused).push_back(i.key);
    EXPECT_EQ(keys, (std::vector<std::string>{"uploads/ok.mp4", "uploads/a b+c.mp4"}));
    EXPECT_EQ(refused, (std::vector<std::string>{"uploads/x/../y.mp4", "uploads//z.mp4"}));
  }
  fake.stop();
  t.join();
}

TEST(S3StoreTest, AMoveCutShortBetweenCopyAndDeleteIsFinishedNotRefused) {
  auto store = MakeS3Store();
  ASSERT_TRUE(store->Write("uploads/a.mp4", "video").ok());
  // The copy happened, the process died before the delete.
  auto fetched = store->Fetch("uploads/a.mp4");
  ASSERT_TRUE(fetched.ok());
  ASSERT_TRUE(store->Upload(fetched->path(), "processed/a/a.mp4").ok());
  ASSERT_TRUE(store->Move("uploads/a.mp4", "processed/a/a.mp4").ok());
  EXPECT_EQ(store->Stat("uploads/a.mp4").status().code(), Code::kNotFound);
  EXPECT_EQ(*store->Read("processed/a/a.mp4", 10), "video");
}

TEST(S3StoreTest, FetchCopiesLandInTheScratchFolderAndGoAway) {
  OpenOptions o = Options();
  o.scratch_dir = (fs::temp_directory_path() / ("vidgate-scratch-" + NewUuid())).string();
  auto store = std::move(Open("s3://media/scratch-" + NewUuid().substr(0, 8), o)).value();
  fs::create_directories(o.scratch_dir);
  // A copy left by a dead process on this host is removed at start.
  const std::string dead = o.scratch_dir + "/999999999.x@" + HostName();
  ASSERT_TRUE(WriteLocalFile(dead, "left over").ok());
  ASSERT_TRUE(store->Prepare().ok());
  EXPECT_FALSE(fs::exists(dead));
  ASSERT_TRUE(store->Write("uploads/v.mp4", std::string(100000, 'v')).ok());
  {
    auto local = store->Fetch("uploads/v.mp4");
    ASSERT_TRUE(local.ok());
    EXPECT_EQ(local->path().rfind(o.scratch_dir, 0), 0u);
    EXPECT_EQ(fs::file_size(local->path()), 100000u);
  }
  EXPECT_TRUE(fs::is_empty(o.scratch_dir));
  EXPECT_EQ(store->Fetch("uploads/none.mp4").status().code(), Code::kNotFound);
  EXPECT_TRUE(fs::is_empty(o.scratch_dir)) << "a failed fetch left its file";
  fs::remove_all(o.scratch_dir);
}

}  // namespace
}  // namespace vidgate::storage
