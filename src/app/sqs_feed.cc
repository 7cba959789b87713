#include "app/sqs_feed.h"

#include <algorithm>
#include <cmath>

#include "aws/s3_events.h"

namespace vidgate::app {

Result<std::vector<std::string>> StoreKeysOf(std::string_view body, const std::string& bucket,
                                             const std::string& prefix) {
  VG_ASSIGN_OR_RETURN(auto records, aws::ParseS3Events(body));
  std::vector<std::string> keys;
  for (const auto& r : records) {
    if (r.bucket == bucket && r.key.starts_with(prefix))
      keys.push_back(r.key.substr(prefix.size()));
  }
  return keys;
}

Result<pipeline::News> SqsFeed::Wait(double seconds, const std::atomic<bool>& stop) {
  const int wait = std::clamp(static_cast<int>(std::ceil(seconds)), 0, 20);
  auto messages = sqs_->Receive(10, wait, 0, &stop);
  if (!messages.ok()) {
    if (messages.status().code() == Code::kCancelled) return pipeline::News{};
    return messages.status();
  }
  pipeline::News news;
  for (const auto& m : *messages) {
    auto records = aws::ParseS3Events(m.body);
    if (!records.ok()) {
      // Bounded: a flood of junk is said again, at worst, never held forever.
      if (refused_.size() >= 10000) refused_.clear();
      if (refused_.insert(m.id).second) {
        log_->warn(
            "{}: message {} is left on the queue (it reaches the dead-letter queue after its "
            "receives): {}",
            Describe(), m.id, records.status().message());
      }
      continue;
    }
    for (const auto& r : *records) {
      if (r.bucket != bucket_ || !r.key.starts_with(prefix_)) {
        log_->debug("{}: {} of s3://{}/{} is not this store's", Describe(), r.event_name, r.bucket,
                    r.key);
        continue;
      }
      news.keys.push_back(r.key.substr(prefix_.size()));
    }
    news.tokens.push_back(m.receipt_handle);
  }
  return news;
}

Status SqsFeed::Done(const pipeline::News& news) { return sqs_->Delete(news.tokens); }

}  // namespace vidgate::app
