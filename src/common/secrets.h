// secrets.h: keeping secrets out of every message, log line and record.
//
// A URL can carry a secret in several places: its user name (a token used
// as one), its password, its query (?token=..., ?sig=...) and its fragment.
// RedactUrl hides them; which query parameters count as secret is the
// caller's to say (a webhook's: all of them; PostgreSQL's: the ones libpq
// marks secret).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace vidgate {

struct UrlRedaction {
  bool hide_user = false;  // hide the user name too (tokens often go there)
  // Hide each path segment this long or longer (Slack's and Discord's
  // webhook URLs carry their token in the path); 0 = keep the path.
  size_t hide_path_segments_from = 0;
  // Whether the query parameter `key` holds a secret; a parameter with no
  // '=' is asked about with its whole text.
  std::function<bool(std::string_view key)> secret_parameter = [](std::string_view) {
    return true;
  };
};

inline constexpr std::string_view kRedacted = "***";

// `url` with its password (and with `hide_user` its user name), long path
// segments if asked, the values of its secret query parameters and its
// fragment replaced by "***". Text
// that is not a URL (no "scheme://") is returned as it is.
std::string RedactUrl(std::string_view url, const UrlRedaction& how = {});

// ResolveSecret turns a configured secret spec into its value:
//   "env:NAME"   the value of environment variable NAME; kInvalidArgument
//                "environment variable NAME is not set" if it is missing, or
//                "... is empty" if it is empty (asking for a secret and
//                getting none is a mistake).
//   "file:PATH"  the file's contents without trailing "\n"/"\r" characters;
//                kNotFound if it does not exist, kPermissionDenied if it may
//                not be read, kInvalidArgument if it is a directory or empty.
//   otherwise    the spec itself, literally (so "" means no secret).
// Messages name the variable or the path, never the value. Reads the
// environment: do not call while another thread calls setenv.
Result<std::string> ResolveSecret(std::string_view spec);

}  // namespace vidgate
