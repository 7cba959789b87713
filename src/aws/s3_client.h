// s3_client.h: the S3 calls vidgate needs, signed with SigV4, on net.
//
// Every call retries what is transient (5xx, SlowDown, a time-out, a reset
// connection) with back-off, and maps S3's answer to a Status whose message
// names the object ("s3://bucket/key") and S3's error code:
//   kNotFound            NoSuchKey (and HEAD's bare 404).
//   kAlreadyExists       PreconditionFailed on a write with if_absent.
//   kPermissionDenied    AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
//                        ExpiredToken, RequestTimeTooSkewed: an operator must
//                        act; the store's callers treat it as the store
//                        being unusable, not the video being bad.
//   kFailedPrecondition  NoSuchBucket (the same), NoSuchUpload.
//   kUnavailable         what stayed transient after the retries.
//   kInvalidArgument     other 4xx (a request S3 thinks malformed).
// S3 can answer 200 with an <Error> body (CompleteMultipartUpload,
// CopyObject): that is an error too.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "common/clock.h"
#include "common/status.h"
#include "net/http.h"

namespace vidgate::aws {

struct S3Options {
  std::string bucket;
  std::string region = "us-east-1";
  // "scheme://host[:port]" of an S3-compatible server; empty = AWS
  // (https://s3.REGION.amazonaws.com).
  std::string endpoint;
  // Bucket in the path (/bucket/key) rather than in the host name
  // (bucket.s3.REGION.amazonaws.com).
  bool path_style = false;
  net::RetryPolicy retry;
  // A request that moves no byte for this long is ended (and retried).
  double stall_seconds = 60;
  // Multipart uploads: part size (5 MiB .. 5 GiB) and parts sent at once.
  int64_t part_size = 16 << 20;
  int parallel_parts = 4;
  // Uploads up to this size go in one PUT.
  int64_t single_put_limit = 16 << 20;
  // Copies up to this size are one CopyObject (S3's limit: 5 GiB); bigger
  // ones are a multipart upload of copy_part_size parts (UploadPartCopy).
  int64_t single_copy_limit = int64_t{5} << 30;
  int64_t copy_part_size = int64_t{1} << 30;
  // Tests make back-off instant; empty = sleep.
  std::function<void(double seconds)> sleep;
};

struct S3Object {
  std::string key;
  int64_t size = 0;
  std::string etag;  // as S3 gives it, quotes removed
  double last_modified = 0;
};

struct S3ListPage {
  std::vector<S3Object> objects;
  std::string next_token;  // empty: the last page
};

class S3Client {
 public:
  // `credentials`, `http` and `clock` must outlive the client.
  S3Client(S3Options options, CredentialsProvider* credentials, net::Client* http,
           const Clock* clock);

  const S3Options& options() const { return o_; }
  // "s3://bucket/key", for messages.
  std::string Describe(std::string_view key) const;

  // One page of ListObjectsV2 under `prefix` (sorted by key).
  Result<S3ListPage> List(std::string_view prefix, std::string_view token, int max_keys = 1000);
  Result<S3Object> Head(std::string_view key);
  // A whole object of at most `max_bytes` (kInvalidArgument if larger; not read then).
  Result<std::string> Get(std::string_view key, int64_t max_bytes);
  // The object streamed into `write` (called with consecutive pieces); a
  // dropped connection resumes where it stopped, as long as the object is
  // the same (If-Match on its ETag). Returns the object's description.
  Result<S3Object> Download(std::string_view key,
                            const std::function<Status(std::string_view)>& write);
  // The same for bytes [offset, offset + length) only (length -1: to the
  // end); kFailedPrecondition when the object is shorter than that.
  Result<S3Object> DownloadRange(std::string_view key, int64_t offset, int64_t length,
                                 const std::function<Status(std::string_view)>& write);
  // Creates or replaces `key`; with `if_absent`, kAlreadyExists if it exists.
  Status Put(std::string_view key, std::string_view data, bool if_absent,
             std::string_view content_type = "application/octet-stream");
  // The local file at `path` to `key`: one PUT up to single_put_limit, else
  // a multipart upload (parts in parallel, aborted on any failure).
  Status Upload(const std::string& path, std::string_view key, bool if_absent);
  // Server-side copy (UploadPartCopy parts above 5 GiB).
  Status Copy(std::string_view from, std::string_view to, bool if_absent);
  // The same, for a caller that has just read `from`'s HEAD: the copy is
  // made only if `from` is still that version (x-amz-copy-source-if-match).
  Status Copy(std::string_view from, const S3Object& source, std::string_view to, bool if_absent);
  // Deleting what is absent is ok (as S3 says).
  Status Delete(std::string_view key);

 private:
  struct Call;
  Result<net::Response> Send(Call& call);
  Result<net::Response> SendOnce(Call& call);
  Status ErrorFor(const net::Response& answer, std::string_view key, bool if_absent) const;
  std::string ObjectPath(std::string_view key) const;
  std::string BucketPath() const;
  // CreateMultipartUpload: the new upload's id.
  Result<std::string> StartMultipart(std::string_view key, bool if_absent);
  Status UploadMultipart(int fd, int64_t size, std::string_view key, bool if_absent);
  Status CompleteMultipart(std::string_view key, const std::string& upload_id,
                           const std::vector<std::string>& etags, bool if_absent);
  void AbortMultipart(std::string_view key, const std::string& upload_id);

  S3Options o_;
  CredentialsProvider* credentials_;
  net::Client* http_;
  const Clock* clock_;
  std::string scheme_host_;  // "https://bucket.s3.eu-west-1.amazonaws.com"
  std::string host_;         // its Host header
};

// Decodes ListObjectsV2's encoding-type=url keys ('+' is a space).
std::string UrlDecodeKey(std::string_view encoded);

}  // namespace vidgate::aws
