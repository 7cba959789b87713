#include "aws/service_post.h"

#include "common/util.h"

namespace vidgate::aws {

Result<net::Response> SendServicePost(const ServicePost& post, CredentialsProvider* credentials,
                                      net::Client* http, const Clock* clock) {
  VG_ASSIGN_OR_RETURN(Credentials creds, credentials->Get());
  SigningRequest sr;
  sr.method = "POST";
  sr.path = "/";
  sr.headers = post.headers;
  sr.headers.emplace_back("host", post.host);
  sr.payload_hash = Sha256Hex(post.body);
  SigningParams p;
  p.region = post.region;
  p.service = post.service;
  p.now = clock->Now();
  Signed signed_headers = SignV4(sr, creds, p);
  net::Request r;
  r.method = "POST";
  r.url = post.url;
  r.display = post.display;
  r.headers = post.headers;
  for (auto& h : signed_headers.headers) r.headers.push_back(h);
  r.body = post.body;
  r.timeout_seconds = post.timeout_seconds;
  r.cancel = post.cancel;
  return http->Send(r);
}

Result<net::Response> SendServicePostRetried(
    const ServicePost& post, const net::RetryPolicy& retry,
    const std::function<Status(const net::Response&)>& check, CredentialsProvider* credentials,
    net::Client* http, const Clock* clock, const std::function<void(double)>& sleep) {
  Result<net::Response> out = Unavailable("not sent");
  Status s = net::Retry(
      retry,
      [&]() -> Status {
        VG_ASSIGN_OR_RETURN(net::Response answer, SendServicePost(post, credentials, http, clock));
        VG_RETURN_IF_ERROR(check(answer));
        out = std::move(answer);
        return Status();
      },
      sleep, post.cancel);
  if (!s.ok()) return s;
  return out;
}

}  // namespace vidgate::aws
