// s3_cp: vidgate's S3 client as a command, to time it against `aws s3 cp`
// on the same server (bench/s3.sh).
//   s3_cp ENDPOINT BUCKET up FILE KEY
//   s3_cp ENDPOINT BUCKET down KEY FILE
// Credentials come from the usual chain (AWS_ACCESS_KEY_ID...).
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "aws/credentials.h"
#include "aws/s3_client.h"
#include "common/clock.h"
#include "net/http.h"

int main(int argc, char** argv) {
  using namespace vidgate;
  if (argc != 6) {
    std::fprintf(stderr, "usage: s3_cp ENDPOINT BUCKET up FILE KEY | down KEY FILE\n");
    return 2;
  }
  const std::string endpoint = argv[1], bucket = argv[2], verb = argv[3];
  net::CurlGlobal curl;
  net::Client http;
  SystemClock clock;
  aws::ChainOptions chain;
  chain.env = aws::ProcessEnvironment();
  chain.http = &http;
  chain.clock = &clock;
  auto credentials = aws::DefaultChain(chain);
  aws::S3Options o;
  o.bucket = bucket;
  o.endpoint = endpoint;
  o.path_style = true;
  aws::S3Client s3(o, credentials.get(), &http, &clock);
  Status s;
  if (verb == "up") {
    s = s3.Upload(argv[4], argv[5], /*if_absent=*/false);
  } else if (verb == "down") {
    const int fd = ::open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      std::perror(argv[5]);
      return 1;
    }
    auto got = s3.Download(argv[4], [&](std::string_view piece) -> Status {
      while (!piece.empty()) {
        const ssize_t n = ::write(fd, piece.data(), piece.size());
        if (n < 0) return ErrnoStatus(errno, "write", argv[5]);
        piece.remove_prefix(static_cast<size_t>(n));
      }
      return Status();
    });
    ::close(fd);
    s = got.status();
  } else {
    std::fprintf(stderr, "s3_cp: %s is neither up nor down\n", verb.c_str());
    return 2;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "s3_cp: %s\n", s.message().c_str());
    return 1;
  }
  return 0;
}
