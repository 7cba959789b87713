#include "storage/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "common/text.h"
#include "common/util.h"
#include "storage/testing/store_conformance.h"

namespace vidgate::storage {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Store> MakeFileStore() {
  fs::path root = fs::temp_directory_path() / ("vidgate-store-test-" + NewUuid());
  auto store = Open("file://" + root.string());
  return store.ok() ? std::move(store).value() : nullptr;
}

using conformance::StoreConformance;
INSTANTIATE_TEST_SUITE_P(File, StoreConformance, ::testing::Values(MakeFileStore),
                         [](const auto&) { return std::string("file"); });
INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance,
                         ::testing::Values(+[] { return NewMemoryStore(); }),
                         [](const auto&) { return std::string("memory"); });

TEST(FileStoreTest, PrepareCreatesTheFourFolders) {
  fs::path root = fs::temp_directory_path() / ("vidgate-store-test-" + NewUuid());
  auto store = Open("file://" + root.string());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Prepare().ok());
  for (const char* d : {"uploads", "failed", "processed", "unable_to_process"}) {
    EXPECT_TRUE(fs::is_directory(root / d)) << d;
  }
  fs::remove_all(root);
}

TEST(FileStoreTest, WorkFilesStayOutOfTheFourFolders) {
  fs::path root = fs::temp_directory_path() / ("vidgate-store-test-" + NewUuid());
  auto store = std::move(Open("file://" + root.string())).value();
  ASSERT_TRUE(store->Write("uploads/a.json", "{}").ok());
  EXPECT_EQ(store->List("uploads/")->size(), 1u);
  fs::remove_all(root);
}

// A store in a temporary folder with an outside folder beside it, both
// removed at the end.
class FileStoreBoundaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("vidgate-boundary-" + NewUuid());
    root_ = base_ / "store";
    outside_ = base_ / "outside";
    fs::create_directories(outside_);
    store_ = std::move(Open("file://" + root_.string())).value();
    ASSERT_TRUE(store_->Prepare().ok());
    WriteLocal(outside_ / "secret.mp4", "outside bytes");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void WriteLocal(const fs::path& p, const std::string& bytes) {
    fs::create_directories(p.parent_path());
    ASSERT_TRUE(WriteLocalFile(p.string(), bytes).ok()) << p;
  }
  std::vector<std::string> OutsideFiles() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(outside_)) {
      out.push_back(fs::relative(e.path(), outside_).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path base_, root_, outside_;
  std::unique_ptr<Store> store_;
};

TEST_F(FileStoreBoundaryTest, LinksAreListedAsRefusedAndNeverFollowed) {
  fs::create_directory_symlink("../processed", root_ / "uploads" / "p");
  fs::create_directory_symlink("..", root_ / "uploads" / "root");
  fs::create_symlink(outside_ / "secret.mp4", root_ / "uploads" / "out.mp4");
  fs::create_directory_symlink(outside_, root_ / "uploads" / "dir");
  WriteLocal(root_ / "processed" / "a" / "a.mp4", "filed");
  WriteLocal(root_ / "uploads" / "real.mp4", "real");

  auto listed = store_->List("uploads/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> objects, refused;
  for (const auto& o : *listed) (o.refused.empty() ? objects : refused).push_back(o.key);
  EXPECT_EQ(objects, (std::vector<std::string>{"uploads/real.mp4"}));
  EXPECT_EQ(refused, (std::vector<std::string>{"uploads/dir", "uploads/out.mp4", "uploads/p",
                                               "uploads/root"}));
  for (const auto& o : *listed) {
    if (!o.refused.empty()) {
      EXPECT_NE(o.refused.find("symbolic link"), std::string::npos);
    }
  }

  // Nothing reaches through a link: not the link itself, not a path via it.
  for (const std::string key : {"uploads/out.mp4", "uploads/p/a/a.mp4", "uploads/dir/secret.mp4",
                                "uploads/root/processed/a/a.mp4"}) {
    EXPECT_EQ(store_->Stat(key).status().code(), Code::kNotFound) << key;
    EXPECT_EQ(store_->Read(key, 1 << 20).status().code(), Code::kNotFound) << key;
    EXPECT_EQ(store_->Fetch(key).status().code(), Code::kNotFound) << key;
    EXPECT_FALSE(store_->Move(key, "failed/x.mp4").ok()) << key;
  }
  EXPECT_EQ(
      store_->Stat("uploads/out.mp4").status().message().find("symbolic link") == std::string::npos,
      false);
  EXPECT_TRUE(fs::exists(root_ / "processed" / "a" / "a.mp4"));
  EXPECT_FALSE(fs::exists(root_ / "failed" / "x.mp4"));
  EXPECT_EQ(OutsideFiles(), (std::vector<std::string>{"secret.mp4"}));
}

TEST_F(FileStoreBoundaryTest, NothingIsWrittenMovedOrDeletedThroughALink) {
  fs::create_directory_symlink(outside_, root_ / "processed" / "x");
  WriteLocal(root_ / "uploads" / "a.mp4", "a");
  EXPECT_FALSE(store_->Write("processed/x/report.json", "{}").ok());
  EXPECT_FALSE(store_->Move("uploads/a.mp4", "processed/x/a.mp4").ok());
  EXPECT_TRUE(store_->Delete("processed/x/secret.mp4").ok());  // absent in the store: ok
  const fs::path local = base_ / "local.mp4";
  WriteLocal(local, "local");
  EXPECT_FALSE(store_->Upload(local.string(), "processed/x/up.mp4").ok());
  EXPECT_FALSE(store_->Import(local.string(), "processed/x/im.mp4").ok());
  EXPECT_EQ(OutsideFiles(), (std::vector<std::string>{"secret.mp4"}));
  EXPECT_TRUE(fs::exists(root_ / "uploads" / "a.mp4"));
  EXPECT_TRUE(fs::exists(local));
}

TEST_F(FileStoreBoundaryTest, AFifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ / "uploads" / "pipe.mp4").c_str(), 0644), 0);
  auto listed = store_->List("uploads/");
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_NE((*listed)[0].refused.find("FIFO"), std::string::npos);
  EXPECT_EQ(store_->Read("uploads/pipe.mp4", 100).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Fetch("uploads/pipe.mp4").status().code(), Code::kNotFound);
  const fs::path fifo = base_ / "local-fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  EXPECT_EQ(store_->Upload(fifo.string(), "uploads/f.mp4").code(), Code::kInvalidArgument);
}

TEST_F(FileStoreBoundaryTest, NamesThatAreNotUtf8KeepTheirBytes) {
  const std::string bytes = "caf\xe9 \x1b[31m\n.mp4";
  WriteLocal(root_ / "uploads" / bytes, "bytes");
  auto listed = store_->List("uploads/");
  ASSERT_EQ(listed->size(), 1u);
  const std::string key = (*listed)[0].key;
  EXPECT_TRUE(IsValidUtf8(key));
  EXPECT_EQ(key, "uploads/" + BytesToKey(bytes));
  EXPECT_EQ(*store_->Read(key, 100), "bytes");
  auto fetched = store_->Fetch(key);
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ(*ReadLocalFile(fetched->path()), "bytes");
  ASSERT_TRUE(store_->Move(key, "processed/" + BytesToKey("caf\xe9") + "/" + key.substr(8)).ok());
  EXPECT_TRUE(fs::exists(root_ / "processed" / "caf\xe9" / bytes));
}

TEST_F(FileStoreBoundaryTest, AFolderTreeTooDeepIsRefusedNotWalked) {
  fs::path deep = root_ / "uploads";
  for (int i = 0; i < 200; ++i) deep /= "d";
  fs::create_directories(deep);
  WriteLocal(deep / "x.mp4", "deep");
  WriteLocal(root_ / "uploads" / "d" / "d" / "ok.mp4", "shallow");
  auto listed = store_->List("uploads/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> objects, refused;
  for (const auto& o : *listed) (o.refused.empty() ? objects : refused).push_back(o.key);
  EXPECT_EQ(objects, std::vector<std::string>{"uploads/d/d/ok.mp4"});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE((*listed)[0].refused.find("deeper"), std::string::npos);
}

TEST(FileStoreTest, TheFileSystemRootIsRefused) {
  for (const char* url : {"file:///", "/", "file:///tmp/.."}) {
    auto r = Open(url);
    ASSERT_FALSE(r.ok()) << url;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("root"), std::string::npos);
  }
}

TEST(FileStoreTest, PrepareRefusesAFolderThatIsALink) {
  fs::path base = fs::temp_directory_path() / ("vidgate-store-test-" + NewUuid());
  fs::create_directories(base / "store");
  fs::create_directories(base / "elsewhere");
  fs::create_directory_symlink(base / "elsewhere", base / "store" / "uploads");
  auto store = std::move(Open("file://" + (base / "store").string())).value();
  Status s = store->Prepare();
  EXPECT_EQ(s.code(), Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("symbolic link"), std::string::npos) << s.message();
  fs::remove_all(base);
}

TEST(WorkFileTest, NamesCarryTheirOwner) {
  std::string name = NewWorkFileName();
  auto owner = WorkFileOwnerOf(".vidgate/tmp/" + name);
  ASSERT_TRUE(owner.has_value()) << name;
  EXPECT_EQ(owner->pid, static_cast<long>(getpid()));
  EXPECT_EQ(owner->host, HostName());
  EXPECT_FALSE(WorkFileOwnerOf(".vidgate/tmp/8d2f-uuid").has_value());
  EXPECT_FALSE(WorkFileOwnerOf(".vidgate/tmp/x.y@h").has_value());
}

TEST(StoreOpenTest, UnknownSchemeNamesTheUrl) {
  auto r = Open("ftp://host/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("ftp://host/x"), std::string::npos);
}

// An error about a local stand-in names the object by its key, even when
// the key holds the stand-in's path (verify's copy of this loop never ended
// then).
TEST(LocalFileTest, NameByKeyReplacesTheStandIn) {
  const LocalFile local("/proc/self/fd/7", /*temporary=*/false);
  EXPECT_EQ(
      local.NameByKey("cannot open '/proc/self/fd/7': EIO (/proc/self/fd/7)", "uploads/a.mp4"),
      "cannot open 'uploads/a.mp4': EIO (uploads/a.mp4)");
  EXPECT_EQ(local.NameByKey("x /proc/self/fd/7 y", "k/proc/self/fd/7"), "x k/proc/self/fd/7 y");
  EXPECT_EQ(LocalFile("", false).NameByKey("as is", "k"), "as is");
}

}  // namespace
}  // namespace vidgate::storage
