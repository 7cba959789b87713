#include "notify/sns_sink.h"

#include <algorithm>

#include "common/util.h"

namespace vidgate::notify {

namespace {
constexpr size_t kMaxSnsMessage = 256 * 1024;  // SNS's limit, attributes included
}  // namespace

std::string SnsSink::FifoGroupId(const std::string& subject) {
  // SNS takes only a-z, A-Z, 0-9 and ASCII punctuation, at most 128: a name
  // ("Summer Trip", "été") goes by a digest, the same for all its events.
  if (subject.empty()) return "vidgate";
  const bool usable =
      subject.size() <= 128 &&
      std::all_of(subject.begin(), subject.end(), [](char c) { return c > ' ' && c < 127; });
  return usable ? subject : "v-" + Sha256Hex(subject).substr(0, 40);
}

Status SnsSink::Deliver(const nlohmann::json& event) {
  if (cancelled_) return Cancelled(client_->Describe() + ": vidgate is stopping");
  if (!event.is_object() || !event.contains("id") || !event["id"].is_string()) {
    return InvalidArgument(client_->Describe() + ": the event has no string id");
  }
  aws::SnsMessage m;
  m.body = event.dump();
  if (m.body.size() > kMaxSnsMessage - 1024) {
    return InvalidArgument(client_->Describe() + ": the event is " + std::to_string(m.body.size()) +
                           " bytes, over SNS's 256 KiB");
  }
  for (const char* name : {"type", "subject"}) {
    if (event.contains(name) && event[name].is_string() &&
        !event[name].get<std::string>().empty()) {
      m.attributes.emplace_back(name, event[name].get<std::string>());
    }
  }
  if (client_->fifo()) {
    m.deduplication_id = event["id"].get<std::string>();
    m.group_id = FifoGroupId(JsonString(event, "subject"));
  }
  auto published = client_->Publish(m, &cancelled_);
  if (published.ok()) return Status();
  const Status& s = published.status();
  if (s.code() == Code::kCancelled || s.code() == Code::kInvalidArgument) return s;
  // Everything else is worth another try later (a topic or a policy can be
  // fixed), as for a webhook.
  if (s.code() == Code::kDeadlineExceeded) return s;
  return Unavailable(s.message());
}

}  // namespace vidgate::notify
