#include "common/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/util.h"

namespace vidgate {
namespace {

const EVP_MD* MdOf(std::string_view algorithm) {
  if (algorithm == "md5") return EVP_md5();
  if (algorithm == "sha1") return EVP_sha1();
  if (algorithm == "sha256") return EVP_sha256();
  if (algorithm == "sha512") return EVP_sha512();
  return nullptr;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxFree>;

struct FdClose {
  int fd;
  ~FdClose() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

const std::vector<std::string>& DigestAlgorithms() {
  static const std::vector<std::string> kNames = {"md5", "sha1", "sha256", "sha512"};
  return kNames;
}

bool IsHexDigestOf(std::string_view algorithm, std::string_view text) {
  const EVP_MD* md = MdOf(algorithm);
  if (md == nullptr || text.size() != static_cast<size_t>(EVP_MD_get_size(md)) * 2) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

struct MultiDigest::Impl {
  std::vector<std::pair<std::string, Ctx>> contexts;
};

MultiDigest::MultiDigest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MultiDigest::MultiDigest(MultiDigest&&) noexcept = default;
MultiDigest& MultiDigest::operator=(MultiDigest&&) noexcept = default;
MultiDigest::~MultiDigest() = default;

Result<MultiDigest> MultiDigest::Create(const std::vector<std::string>& algorithms) {
  auto impl = std::make_unique<Impl>();
  for (const auto& name : algorithms) {
    const EVP_MD* md = MdOf(name);
    if (md == nullptr) return InvalidArgument("unknown digest algorithm '" + name + "'");
    bool seen = false;
    for (const auto& [have, ctx] : impl->contexts) seen |= have == name;
    if (seen) continue;
    Ctx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
      return ResourceExhausted("cannot start a " + name + " digest");
    }
    impl->contexts.emplace_back(name, std::move(ctx));
  }
  return MultiDigest(std::move(impl));
}

void MultiDigest::Update(std::string_view piece) {
  for (auto& [name, ctx] : impl_->contexts) EVP_DigestUpdate(ctx.get(), piece.data(), piece.size());
}

std::map<std::string, std::string> MultiDigest::Finish() {
  std::map<std::string, std::string> out;
  for (auto& [name, ctx] : impl_->contexts) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    out[name] = LowerHex(std::string_view(reinterpret_cast<const char*>(md), len));
  }
  impl_->contexts.clear();
  return out;
}

Result<FileDigests> DigestFile(const std::string& path, const std::vector<std::string>& algorithms,
                               const std::function<Status()>& should_stop) {
  VG_ASSIGN_OR_RETURN(MultiDigest digest, MultiDigest::Create(algorithms));
  FdClose file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) return ErrnoStatus(errno, "open", path);
  // The decode pass reads the same file next: tell the kernel to read ahead.
  ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  FileDigests out;
  std::string buffer(1 << 20, '\0');
  for (int reads = 0;; ++reads) {
    if (should_stop && (reads & 63) == 0) VG_RETURN_IF_ERROR(should_stop());
    const ssize_t n = ::read(file.fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "read", path);
    if (n == 0) break;
    digest.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    out.size += n;
  }
  out.hex = digest.Finish();
  return out;
}

}  // namespace vidgate
