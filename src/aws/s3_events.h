// s3_events.h: the object keys an S3 event notification names, in the three
// shapes users route them to a queue: S3's own notification ({"Records":
// [...]}, keys URL-encoded with '+' for a space), the same wrapped in an SNS
// envelope ({"Type":"Notification","Message":"<that JSON>"}), and
// EventBridge's "Object Created"/"Object Deleted" events (keys as they are).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace vidgate::aws {

struct S3EventRecord {
  std::string bucket;
  std::string key;         // decoded: the key's own bytes
  std::string event_name;  // "ObjectCreated:Put", "Object Created", ...
};

// The records of one message body. S3's s3:TestEvent (sent when a
// notification is set up) has none. kInvalidArgument, with a sentence
// naming what is wrong, for a body that is none of the three shapes.
Result<std::vector<S3EventRecord>> ParseS3Events(std::string_view body);

}  // namespace vidgate::aws
