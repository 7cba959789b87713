// credentials.h: where AWS credentials come from, in the order AWS's own
// tools look (docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html):
//   1. AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN);
//   2. the shared files: profile AWS_PROFILE (else "default") in
//      AWS_SHARED_CREDENTIALS_FILE (else ~/.aws/credentials), then in
//      AWS_CONFIG_FILE (else ~/.aws/config, "[profile NAME]" sections);
//   3. the ECS container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
//      (on 169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with
//      AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) as its Authorization header;
//   4. EC2's instance metadata service, IMDSv2 (session token first), unless
//      AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT
//      overrides its address.
// The first source that is configured answers; a source that is configured
// but broken is an error naming it, not a silent fall-through. Credentials
// that expire are fetched again 5 minutes before they do.
//
// Messages name sources, files, variables and endpoints, never a key.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/sigv4.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http.h"

namespace vidgate::aws {

// Reads one environment variable; nullopt when unset.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
// The process's environment (read only when asked).
Environment ProcessEnvironment();

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Errors: kFailedPrecondition when no source has credentials (the message
  // says which were tried); kInvalidArgument for a malformed file or
  // variable; kUnavailable / kDeadlineExceeded when an endpoint failed;
  // kPermissionDenied when it refused.
  virtual Result<Credentials> Get() = 0;
};

struct ChainOptions {
  Environment env;
  net::Client* http = nullptr;  // for the container and instance endpoints
  const Clock* clock = nullptr;
  // Time-outs of the metadata endpoints: they answer in milliseconds when
  // they are there at all.
  double endpoint_timeout_seconds = 2;
};

// The chain above, with its answer cached until 5 minutes before it
// expires. Thread-safe.
std::unique_ptr<CredentialsProvider> DefaultChain(ChainOptions options);

// Fixed credentials (tests, and keys given in the configuration).
std::unique_ptr<CredentialsProvider> StaticCredentials(Credentials credentials);

}  // namespace vidgate::aws
