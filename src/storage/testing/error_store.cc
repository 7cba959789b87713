#include "storage/testing/error_store.h"

namespace vidgate::storage {

void ErrorStore::Fail(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back({std::move(rule), 0});
}

void ErrorStore::Clear() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

int64_t ErrorStore::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

int64_t ErrorStore::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

Status ErrorStore::Check(std::string_view method, std::string_view key, std::string_view other) {
  std::function<void(Store&)> action;
  Status result = Decide(method, key, other, action);
  if (action) action(*inner_);
  return result;
}

Status ErrorStore::Decide(std::string_view method, std::string_view key, std::string_view other,
                          std::function<void(Store&)>& action) {
  std::lock_guard lock(mu_);
  ++calls_;
  for (auto& a : rules_) {
    const FaultRule& r = a.rule;
    // Prepare fails only when named: a rule for "any call" means the calls
    // of a running pipeline, not its start.
    if ((!r.method.empty() || method == "Prepare") && r.method != method) continue;
    if (!r.key_contains.empty() && key.find(r.key_contains) == std::string_view::npos &&
        other.find(r.key_contains) == std::string_view::npos) {
      continue;
    }
    ++a.matched;
    if (r.nth > 0 && a.matched != r.nth) continue;
    if (r.probability < 1 && std::uniform_real_distribution<double>(0, 1)(rng_) >= r.probability) {
      continue;
    }
    action = r.action;
    if (r.error.ok()) return Status();
    ++failed_;
    return Status(r.error.code(),
                  std::string(method) + " " + std::string(key) + ": " + r.error.message());
  }
  return Status();
}

Result<std::vector<ObjectInfo>> ErrorStore::List(std::string_view prefix) {
  VG_RETURN_IF_ERROR(Check("List", prefix));
  return inner_->List(prefix);
}

Status ErrorStore::Prepare() {
  VG_RETURN_IF_ERROR(Check("Prepare", ""));
  return inner_->Prepare();
}

Result<ObjectInfo> ErrorStore::Stat(std::string_view key) {
  VG_RETURN_IF_ERROR(Check("Stat", key));
  return inner_->Stat(key);
}

Result<std::string> ErrorStore::Read(std::string_view key, int64_t max_bytes) {
  VG_RETURN_IF_ERROR(Check("Read", key));
  return inner_->Read(key, max_bytes);
}

Status ErrorStore::ReadRange(std::string_view key, int64_t offset, int64_t length,
                             const std::function<Status(std::string_view)>& write) {
  VG_RETURN_IF_ERROR(Check("ReadRange", key));
  return inner_->ReadRange(key, offset, length, write);
}

Status ErrorStore::Write(std::string_view key, std::string_view data) {
  VG_RETURN_IF_ERROR(Check("Write", key));
  return inner_->Write(key, data);
}

Status ErrorStore::Upload(const std::string& local_path, std::string_view key) {
  VG_RETURN_IF_ERROR(Check("Upload", key));
  return inner_->Upload(local_path, key);
}

Result<LocalFile> ErrorStore::Fetch(std::string_view key) {
  VG_RETURN_IF_ERROR(Check("Fetch", key));
  return inner_->Fetch(key);
}

Status ErrorStore::Move(std::string_view from, std::string_view to) {
  VG_RETURN_IF_ERROR(Check("Move", from, to));
  return inner_->Move(from, to);
}

Status ErrorStore::Delete(std::string_view key) {
  VG_RETURN_IF_ERROR(Check("Delete", key));
  return inner_->Delete(key);
}

Status ErrorStore::Import(const std::string& local_path, std::string_view key) {
  VG_RETURN_IF_ERROR(Check("Import", key));
  return inner_->Import(local_path, key);
}

}  // namespace vidgate::storage
