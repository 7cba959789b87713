// store_conformance.h: the behaviour every storage backend must show.
// A backend's test instantiates it with a factory returning an empty store:
//   INSTANTIATE_TEST_SUITE_P(File, StoreConformance, testing::Values(MakeFileStore));
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "storage/store.h"

namespace vidgate::storage::conformance {

using StoreFactory = std::function<std::unique_ptr<Store>()>;

class StoreConformance : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam()();
    ASSERT_NE(store_, nullptr);
    ASSERT_TRUE(store_->Prepare().ok());
  }
  std::unique_ptr<Store> store_;
};

inline std::vector<std::string> Keys(const Result<std::vector<ObjectInfo>>& r) {
  std::vector<std::string> keys;
  for (const auto& o : *r) keys.push_back(o.key);
  return keys;
}

TEST_P(StoreConformance, WriteThenReadAndStat) {
  ASSERT_TRUE(store_->Write("uploads/a.json", "{\"title\":\"x\"}").ok());
  auto data = store_->Read("uploads/a.json", 1024);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "{\"title\":\"x\"}");
  auto info = store_->Stat("uploads/a.json");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 13);
  EXPECT_GT(info->mtime, 0);
}

// A same-size rewrite at once (inside one tick of any clock: S3's is a
// second) is still a new version, so a replaced original is never taken for
// the one that was read.
TEST_P(StoreConformance, ASameSizeRewriteIsANewVersion) {
  ASSERT_TRUE(store_->Write("uploads/v.json", "aaaa").ok());
  auto first = store_->Stat("uploads/v.json");
  ASSERT_TRUE(store_->Write("uploads/v.json", "bbbb").ok());
  auto second = store_->Stat("uploads/v.json");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(SameVersion(*first, *second)) << first->etag << " " << second->etag;
  // Told apart by the version tag itself, not by a clock that may not tick.
  EXPECT_FALSE(first->etag.empty());
  EXPECT_NE(first->etag, second->etag);
  auto listed = store_->List("uploads/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(SameVersion(listed->front(), *second));
}

TEST_P(StoreConformance, MissingObjectIsNotFound) {
  EXPECT_EQ(store_->Stat("uploads/none.mp4").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Read("uploads/none.mp4", 10).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->Move("uploads/none.mp4", "failed/none.mp4").code(), Code::kNotFound);
  EXPECT_TRUE(store_->Delete("uploads/none.mp4").ok());
  EXPECT_EQ(store_->Fetch("uploads/none.mp4").status().code(), Code::kNotFound);
}

// What the API streams: any slice of an object, in pieces, never past its
// end; an error of the receiver stops the read.
TEST_P(StoreConformance, ReadRangeStreamsASlice) {
  std::string bytes;
  for (int i = 0; i < 300000; ++i) bytes.push_back(static_cast<char>('a' + i % 26));
  ASSERT_TRUE(store_->Write("processed/r/main.mp4", bytes).ok());
  auto slice = [&](int64_t offset, int64_t length) -> Result<std::string> {
    std::string got;
    Status s =
        store_->ReadRange("processed/r/main.mp4", offset, length, [&](std::string_view piece) {
          got.append(piece);
          return Status();
        });
    if (!s.ok()) return s;
    return got;
  };
  EXPECT_EQ(*slice(0, 300000), bytes);
  EXPECT_EQ(*slice(5, 10), bytes.substr(5, 10));
  EXPECT_EQ(*slice(299999, 1), bytes.substr(299999));
  EXPECT_EQ(*slice(123456, 150000), bytes.substr(123456, 150000));
  EXPECT_EQ(*slice(10, 0), "");
  EXPECT_EQ(slice(299990, 11).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(slice(400000, 1).status().code(), Code::kFailedPrecondition);
  std::string none;
  EXPECT_EQ(store_
                ->ReadRange("processed/r/none.mp4", 0, 1,
                            [&](std::string_view piece) {
                              none.append(piece);
                              return Status();
                            })
                .code(),
            Code::kNotFound);
  int pieces = 0;
  Status stopped = store_->ReadRange("processed/r/main.mp4", 0, 300000, [&](std::string_view) {
    ++pieces;
    return Cancelled("the client went away");
  });
  EXPECT_EQ(stopped.code(), Code::kCancelled) << stopped.ToString();
  EXPECT_EQ(pieces, 1);
}

TEST_P(StoreConformance, ReadOverLimitIsInvalidArgument) {
  ASSERT_TRUE(store_->Write("uploads/big.json", std::string(100, 'x')).ok());
  EXPECT_EQ(store_->Read("uploads/big.json", 99).status().code(), Code::kInvalidArgument);
}

TEST_P(StoreConformance, ListIsRecursiveSortedAndPrefixed) {
  for (const char* k : {"uploads/b.mp4", "uploads/a/clip.mp4", "uploads/a/clip.json",
                        "failed/c.mp4", "uploadsx/d.mp4"}) {
    ASSERT_TRUE(store_->Write(k, "x").ok()) << k;
  }
  auto listed = store_->List("uploads/");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Keys(listed), (std::vector<std::string>{"uploads/a/clip.json", "uploads/a/clip.mp4",
                                                    "uploads/b.mp4"}));
  EXPECT_EQ(Keys(store_->List("uploads/a/cl")),
            (std::vector<std::string>{"uploads/a/clip.json", "uploads/a/clip.mp4"}));
  EXPECT_TRUE(store_->List("processed/nothing/").ok());
  EXPECT_TRUE(store_->List("processed/nothing/")->empty());
}

TEST_P(StoreConformance, MoveNeverOverwrites) {
  ASSERT_TRUE(store_->Write("uploads/a.mp4", "new").ok());
  ASSERT_TRUE(store_->Write("processed/a/a.mp4", "old").ok());
  EXPECT_EQ(store_->Move("uploads/a.mp4", "processed/a/a.mp4").code(), Code::kAlreadyExists);
  EXPECT_EQ(*store_->Read("processed/a/a.mp4", 10), "old");
  EXPECT_EQ(*store_->Read("uploads/a.mp4", 10), "new");
  ASSERT_TRUE(store_->Move("uploads/a.mp4", "processed/a-2/a.mp4").ok());
  EXPECT_EQ(*store_->Read("processed/a-2/a.mp4", 10), "new");
  EXPECT_EQ(store_->Stat("uploads/a.mp4").status().code(), Code::kNotFound);
}

// A move that already happened (a worker killed after it, before the
// catalog heard) is repeated: "no source" must win over "target exists", so
// the caller can tell a finished move from a collision.
TEST_P(StoreConformance, MoveOfAMissingSourceOntoAnExistingTargetIsNotFound) {
  ASSERT_TRUE(store_->Write("processed/a/a.json", "{}").ok());
  EXPECT_EQ(store_->Move("uploads/a.json", "processed/a/a.json").code(), Code::kNotFound);
  EXPECT_EQ(*store_->Read("processed/a/a.json", 10), "{}");
}

TEST_P(StoreConformance, MovedFolderLeavesNoEmptyFolder) {
  ASSERT_TRUE(store_->Write("uploads/sub/deep/a.mp4", "x").ok());
  ASSERT_TRUE(store_->Move("uploads/sub/deep/a.mp4", "failed/sub/deep/a.mp4").ok());
  EXPECT_TRUE(store_->List("uploads/")->empty());
  EXPECT_EQ(Keys(store_->List("failed/")), (std::vector<std::string>{"failed/sub/deep/a.mp4"}));
}

TEST_P(StoreConformance, NamesWithSpacesUnicodeAndSymbols) {
  const std::string key = "uploads/my clip #1 +50% \xC3\xA9t\xC3\xA9.mp4";
  ASSERT_TRUE(store_->Write(key, "x").ok());
  EXPECT_EQ(Keys(store_->List("uploads/")), (std::vector<std::string>{key}));
  ASSERT_TRUE(store_->Move(key, "failed/my clip #1 +50% \xC3\xA9t\xC3\xA9.mp4").ok());
}

TEST_P(StoreConformance, BadKeysAreRejected) {
  for (const char* k : {"", "/abs", "uploads/../x", "uploads//x", "./x"}) {
    EXPECT_EQ(store_->Write(k, "x").code(), Code::kInvalidArgument) << k;
  }
}

TEST_P(StoreConformance, UploadAndFetchRoundTrip) {
  char path[] = "/tmp/vidgate-upload-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "media", 5), 5);
  close(fd);
  ASSERT_TRUE(store_->Upload(path, "uploads/m.mp4").ok());
  EXPECT_EQ(store_->Upload(path, "uploads/m.mp4").code(), Code::kAlreadyExists);
  {
    auto local = store_->Fetch("uploads/m.mp4");
    ASSERT_TRUE(local.ok());
    std::ifstream in(local->path());
    std::string got((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(got, "media");
  }
  std::remove(path);
}

TEST_P(StoreConformance, ImportMovesALocalFileIn) {
  std::string root = store_->LocalWorkRoot();
  if (root.empty()) root = "/tmp";
  std::filesystem::create_directories(root);
  std::string local = root + "/import-test-" + std::to_string(::getpid());
  {
    std::ofstream out(local);
    out << "rendition";
  }
  ASSERT_TRUE(store_->Import(local, "processed/a/renditions/main.mp4").ok());
  EXPECT_EQ(*store_->Read("processed/a/renditions/main.mp4", 100), "rendition");
  EXPECT_FALSE(std::filesystem::exists(local));
  {
    std::ofstream out(local);
    out << "again";
  }
  EXPECT_EQ(store_->Import(local, "processed/a/renditions/main.mp4").code(), Code::kAlreadyExists);
  std::filesystem::remove(local);
}

}  // namespace vidgate::storage::conformance
