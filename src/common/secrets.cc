#include "common/secrets.h"

#include <algorithm>

namespace vidgate {

std::string RedactUrl(std::string_view url, const UrlRedaction& how) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, scheme_end + 3));
  std::string_view rest = url.substr(scheme_end + 3);

  // Authority: [user[:password]@]host[:port], up to the path, query or
  // fragment. The last '@' ends the user information ("@" may be in it).
  const auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    if (how.hide_user) {
      out += kRedacted;
    } else {
      out += userinfo.substr(0, colon);
      if (colon != std::string_view::npos) out += ":" + std::string(kRedacted);
    }
    out += authority.substr(at);
  } else {
    out += authority;
  }

  // Path, then the query's parameters one by one, then the fragment.
  const auto query = rest.find('?');
  const auto fragment = rest.find('#');
  std::string_view path = rest.substr(0, std::min(query, fragment));
  while (!path.empty()) {
    const auto slash = path.find('/', 1);
    std::string_view segment = path.substr(0, slash);  // with its leading '/'
    if (how.hide_path_segments_from > 0 && segment.size() > how.hide_path_segments_from) {
      out += "/" + std::string(kRedacted);
    } else {
      out += segment;
    }
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  if (query != std::string_view::npos && query < fragment) {
    std::string_view params =
        rest.substr(query + 1, fragment == std::string_view::npos ? std::string_view::npos
                                                                  : fragment - query - 1);
    out += '?';
    bool first = true;
    while (true) {
      const auto amp = params.find('&');
      std::string_view param = params.substr(0, amp);
      if (!first) out += '&';
      first = false;
      const auto eq = param.find('=');
      if (eq == std::string_view::npos) {
        out += param.empty() || !how.secret_parameter(param) ? std::string(param)
                                                             : std::string(kRedacted);
      } else {
        std::string_view key = param.substr(0, eq);
        out += std::string(key) + "=";
        out +=
            how.secret_parameter(key) ? std::string(kRedacted) : std::string(param.substr(eq + 1));
      }
      if (amp == std::string_view::npos) break;
      params = params.substr(amp + 1);
    }
  }
  if (fragment != std::string_view::npos) out += "#" + std::string(kRedacted);
  return out;
}

}  // namespace vidgate
