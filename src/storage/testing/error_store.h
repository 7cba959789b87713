// error_store.h: a Store that fails chosen calls, for fault-injection tests.
//
// It wraps another store and passes every call through, except those a rule
// picks: by method, by a substring of the key, as the Nth matching call, or
// with a probability (seeded, so a failing run can be replayed). A picked
// call returns the rule's Status without reaching the wrapped store.
//
// Example:
//   ErrorStore faulty(memory.get());
//   FaultRule full;
//   full.method = "Move";
//   full.key_contains = "processed/";
//   full.error = ResourceExhausted("disk full");
//   faulty.Fail(full);
//   ... run the pipeline on &faulty ...
//
// Thread-safe. The wrapped store must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "storage/store.h"

namespace vidgate::storage {

struct FaultRule {
  std::string method;        // "Prepare", "List", "Stat", "Read", "ReadRange", "Write", "Upload",
                             // "Fetch", "Move", "Delete", "Import"; "" = any
  std::string key_contains;  // a call whose key (either key, for Move) holds this; "" = any
  int64_t nth = 0;           // only the Nth call the rule matches (1-based); 0 = every one
  double probability = 1;    // of failing a matching call
  Status error = Unavailable("injected storage fault");
  // Run on the wrapped store when the rule fires, before the error is
  // returned (to make a file vanish mid-call, say); with an ok `error`, the
  // call then goes through.
  std::function<void(Store& inner)> action;
};

class ErrorStore final : public Store {
 public:
  explicit ErrorStore(Store* inner, uint64_t seed = 1) : inner_(inner), rng_(seed) {}

  void Fail(FaultRule rule);
  void Clear();
  // Calls made so far (all methods), and calls that were failed.
  int64_t calls() const;
  int64_t failed() const;

  Status Prepare() override;
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  Result<ObjectInfo> Stat(std::string_view key) override;
  Result<std::string> Read(std::string_view key, int64_t max_bytes) override;
  Status ReadRange(std::string_view key, int64_t offset, int64_t length,
                   const std::function<Status(std::string_view)>& write) override;
  Status Write(std::string_view key, std::string_view data) override;
  Status Upload(const std::string& local_path, std::string_view key) override;
  Result<LocalFile> Fetch(std::string_view key) override;
  Status Move(std::string_view from, std::string_view to) override;
  Status Delete(std::string_view key) override;
  std::string LocalWorkRoot() const override { return inner_->LocalWorkRoot(); }
  Status Import(const std::string& local_path, std::string_view key) override;

 private:
  // The injected error for this call, or ok to pass it through.
  Status Check(std::string_view method, std::string_view key, std::string_view other = {});
  // The rule's verdict, under the lock; its action is run by Check after.
  Status Decide(std::string_view method, std::string_view key, std::string_view other,
                std::function<void(Store&)>& action);

  Store* inner_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  struct Active {
    FaultRule rule;
    int64_t matched = 0;
  };
  std::vector<Active> rules_;
  int64_t calls_ = 0;
  int64_t failed_ = 0;
};

}  // namespace vidgate::storage
