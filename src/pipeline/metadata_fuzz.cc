// libFuzzer target: the sidecar reader. Any bytes are either a JSON object
// with the required keys or one InvalidArgument sentence; never a crash, a
// hang or deep recursion.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pipeline/metadata.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = vidgate::pipeline::ValidateSidecar(text, {"title"});
  if (parsed.ok()) {
    if (!parsed->is_object() || !parsed->contains("title")) std::abort();
  } else if (parsed.status().code() != vidgate::Code::kInvalidArgument ||
             parsed.status().message().empty()) {
    std::abort();
  }
  return 0;
}
