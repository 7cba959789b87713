#!/usr/bin/python3
"""Signs S3 requests with Debian's python3-botocore, as the independent check
of vidgate's SigV4 (src/aws/sigv4_test.cc).

Reads a JSON list of requests on stdin:
  {"method", "url", "headers": {name: value}, "body", "time": epoch seconds,
   "region", "access_key_id", "secret_access_key", "session_token"}
and writes the list of their Authorization headers on stdout.
"""
import datetime
import json
import sys
from unittest import mock

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(case):
    creds = Credentials(case["access_key_id"], case["secret_access_key"],
                        case.get("session_token") or None)
    request = AWSRequest(method=case["method"], url=case["url"],
                         headers=case.get("headers", {}),
                         data=case.get("body", "").encode("utf-8"))
    when = datetime.datetime.utcfromtimestamp(case["time"])

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

        @classmethod
        def now(cls, tz=None):
            return when.replace(tzinfo=tz) if tz else when

    with mock.patch("botocore.auth.datetime.datetime", Frozen):
        S3SigV4Auth(creds, "s3", case["region"]).add_auth(request)
    return request.headers["Authorization"]


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(c) for c in cases], sys.stdout)


if __name__ == "__main__":
    main()
