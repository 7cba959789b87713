// libFuzzer target: URL redaction. Whatever the URL, a secret placed in its
// password, user, query or fragment never survives RedactUrl.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/secrets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  (void)vidgate::RedactUrl(input);
  const std::string secret = "Zq9SECRETz";
  if (input.find(secret) != std::string::npos) return 0;  // the input may show itself
  // The input, split at its first byte, around a secret in each place.
  const std::string head = input.substr(0, input.size() / 2);
  const std::string tail = input.substr(input.size() / 2);
  for (char sep : {'@', '/', '?', '#', '&', '=', ':'}) {
    if (head.find(sep) != std::string::npos || tail.find(sep) != std::string::npos) return 0;
  }
  for (const std::string& url :
       {"https://u:" + secret + "@" + head + "/" + tail, "https://" + secret + "@" + head,
        "https://" + head + "/" + tail + "?t=" + secret, "https://" + head + "?" + secret,
        "https://" + head + "/" + tail + "#" + secret}) {
    if (vidgate::RedactUrl(url, {.hide_user = true}).find(secret) != std::string::npos) {
      std::abort();
    }
  }
  return 0;
}
