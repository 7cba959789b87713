#include "storage/store.h"

#include <gtest/gtest.h>

#include <filesystem>

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
INSTANTIATE_TEST_SUITE_P(Memory, StoreConformance, ::testing::Values(NewMemoryStore),
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

}  // namespace
}  // namespace vidgate::storage
