// libFuzzer target: storage keys and names (pipeline/naming.h, common/text.h).
// Whatever the bytes of a file name, its key is valid UTF-8 and maps back to
// the same bytes, parsing never crashes, and no filed key of vidgate's own
// can equal an upload's original or sidecar.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/text.h"
#include "pipeline/naming.h"
#include "storage/store.h"

using namespace vidgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::string key = BytesToKey(bytes);
  if (!IsValidUtf8(key) || KeyToBytes(key) != bytes) std::abort();
  const std::string shown = Printable(key);
  for (unsigned char c : shown) {
    if (c < 0x20 || c == 0x7f) std::abort();  // nothing a terminal acts on
  }
  for (const char* prefix : {"uploads/", "failed/"}) {
    const std::string full = prefix + key;
    const pipeline::ParsedKey parsed = pipeline::ParseKey(full);
    storage::ValidateKey(full).IgnoreError();
    if (parsed.kind != pipeline::KeyKind::kVideo) continue;
    // No original or sidecar of a filed folder is, or holds, vidgate's own
    // folder there (compared without case, as some file systems do).
    const std::string folder = "processed/" + parsed.name;
    const std::string own = pipeline::OwnKey(folder, "");  // ".../vidgate/"
    auto same = [](std::string a, std::string b) {
      for (auto* s : {&a, &b}) {
        for (char& c : *s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      return a == b;
    };
    if (same(folder + "/" + parsed.file_name + "/", own)) std::abort();
    for (const auto& sidecar : pipeline::SidecarCandidates(full)) {
      if (same(folder + "/" + pipeline::FileName(sidecar) + "/", own)) std::abort();
    }
    (void)pipeline::Stem(parsed.file_name);
    (void)pipeline::Numbered(parsed.name, 2);
  }
  return 0;
}
