// sigv4.h: AWS Signature Version 4 for requests in headers
// (docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html).
//
// Debian 12's libcurl signs S3 requests wrongly (unsorted query, keys not
// path-encoded, no x-amz-content-sha256), so vidgate signs its own; curl
// only carries the bytes.
//
// Example:
//   aws::SigningRequest r{.method = "GET", .path = "/bucket/a%20b.mp4"};
//   r.headers = {{"host", "s3.eu-west-1.amazonaws.com"}};
//   r.payload_hash = aws::kEmptyPayloadHash;
//   aws::Signed s = aws::SignV4(r, creds, {.region = "eu-west-1", .service = "s3", .now = t});
//   // send r.headers plus s.headers
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vidgate::aws {

// What AWS's tools call credentials. `expires_at` (seconds since the epoch)
// is 0 for keys that do not expire.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  double expires_at = 0;
};

using Header = std::pair<std::string, std::string>;

struct SigningRequest {
  std::string method;
  // The path as it goes on the wire, already percent-encoded for S3
  // ("/bucket/a%20b"); other services' paths are encoded again when signed.
  std::string path = "/";
  // Decoded query parameters, in any order.
  std::vector<Header> query;
  // Every header to sign, "host" included, names in any case; a name given
  // several times has its values joined with "," in order.
  std::vector<Header> headers;
  // Lower-case hex SHA-256 of the body, or "UNSIGNED-PAYLOAD".
  std::string payload_hash;
};

struct SigningParams {
  std::string region;
  std::string service;
  double now = 0;  // seconds since the epoch
  // S3 signs the path as sent, once, and never normalises it ("a/../b" is a
  // key); every other service normalises and encodes it again.
  bool s3_path = false;
  // For the other services: remove "." and ".." segments and empty ones.
  bool normalize_path = true;
  // Send (and sign) x-amz-content-sha256 with the payload hash: S3 requires it.
  bool content_sha256_header = false;
  // Leave X-Amz-Security-Token out of the signature (added afterwards), as
  // a few services want; S3, SQS and SNS sign it.
  bool omit_session_token = false;
};

struct Signed {
  // Headers to add to the request: x-amz-date, x-amz-security-token (with a
  // session token), x-amz-content-sha256 (if asked), authorization.
  std::vector<Header> headers;
  // The intermediate texts, for tests and for debugging a refused signature.
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

Signed SignV4(const SigningRequest& request, const Credentials& credentials,
              const SigningParams& params);

// RFC 3986 percent-encoding as SigV4 wants it: every byte but A-Z a-z 0-9
// - _ . ~ becomes %XX (upper-case hex); '/' too unless `keep_slash`.
std::string UriEncode(std::string_view bytes, bool keep_slash = false);

// "20150830T123600Z" for a time in seconds since the epoch.
std::string AmzDate(double epoch_seconds);

}  // namespace vidgate::aws
