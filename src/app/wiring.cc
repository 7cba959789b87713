#include "app/wiring.h"

#include <unistd.h>

#include <cstdlib>
#include <map>
#include <thread>

#include "aws/secrets_manager.h"
#include "common/secrets.h"
#include "common/util.h"
#include "notify/log_sink.h"
#include "notify/sns_sink.h"
#include "notify/webhook_sink.h"

namespace vidgate::app {

Result<std::unique_ptr<storage::Store>> OpenStore(const Context& ctx) {
  storage::OpenOptions o;
  o.endpoint = ctx.config.storage.endpoint;
  o.region = ctx.config.storage.region;
  o.path_style = ctx.config.storage.path_style;
  o.http = ctx.http;
  o.credentials = ctx.credentials;
  return storage::Open(ctx.config.storage.url, o);
}

// database.password as its source says: a Secrets Manager ARN is read from
// there (a Lambda function has no other way to be handed a secret), the
// other forms as every secret is (env:, file:, literal).
static Result<std::string> DatabasePassword(const Context& ctx) {
  const std::string& source = ctx.config.database.password;
  if (source.empty()) return std::string();
  if (source.starts_with("arn:") && source.find(":secretsmanager:") != std::string::npos) {
    aws::SecretsManagerOptions o;
    // At start (a Lambda function's init phase has 10 s): two short tries.
    o.timeout_seconds = 4;
    o.retry.max_tries = 2;
    if (const char* e = std::getenv("AWS_ENDPOINT_URL_SECRETS_MANAGER"); e && *e) o.endpoint = e;
    SystemClock clock;
    auto secret = aws::GetSecretString(o, source, ctx.credentials, ctx.http, &clock);
    if (!secret.ok()) return secret.status().WithContext("database.password");
    auto password = aws::PasswordOf(*secret);
    if (!password.ok()) return password.status().WithContext("database.password");
    return password;
  }
  auto resolved = ResolveSecret(source);
  if (!resolved.ok()) return resolved.status().WithContext("database.password");
  return resolved;
}

Result<std::unique_ptr<catalog::Catalog>> OpenCatalog(const Context& ctx) {
  VG_ASSIGN_OR_RETURN(const std::string password, DatabasePassword(ctx));
  VG_ASSIGN_OR_RETURN(auto cat, catalog::Open(ctx.config.database.url, password));
  VG_RETURN_IF_ERROR(cat->Migrate());
  return cat;
}

Result<std::unique_ptr<Wiring>> Wire(const Context& ctx) {
  auto wired = std::make_unique<Wiring>();
  const Config& cfg = ctx.config;
  auto& clock = wired->clock;
  VG_ASSIGN_OR_RETURN(wired->store, OpenStore(ctx));
  VG_ASSIGN_OR_RETURN(wired->catalog, OpenCatalog(ctx));
  auto& sinks = wired->sinks;
  sinks.push_back(std::make_unique<notify::LogSink>(ctx.log));
  for (size_t i = 0; i < cfg.notify.webhook.size(); ++i) {
    const auto& w = cfg.notify.webhook[i];
    std::string secret;
    if (!w.secret.empty()) {
      auto resolved = ResolveSecret(w.secret);
      if (!resolved.ok()) {
        return InvalidArgument(resolved.status()
                                   .WithContext("notify.webhook[" + std::to_string(i) + "].secret")
                                   .message());
      }
      secret = *resolved;
    }
    notify::WebhookOptions options{w.url, secret, w.timeout_seconds, "", nullptr};
    auto sink = notify::WebhookSink::Create(options, ctx.http);
    if (sink.ok()) {
      // Two URLs that differ only in their hidden secrets are told apart by
      // a digest of the whole URL, stable whatever the order of the config.
      for (const auto& other : sinks) {
        if (other->id() != (*sink)->id()) continue;
        options.label = Sha256Hex(w.url).substr(0, 8);
        sink = notify::WebhookSink::Create(options, ctx.http);
        break;
      }
    }
    if (!sink.ok()) {
      return InvalidArgument(
          sink.status().WithContext("notify.webhook[" + std::to_string(i) + "]").message());
    }
    sinks.push_back(std::move(sink).value());
  }
  for (size_t i = 0; i < cfg.notify.sns.size(); ++i) {
    const auto& t = cfg.notify.sns[i];
    aws::SnsOptions o;
    o.topic_arn = t.topic_arn;
    o.endpoint = t.endpoint;
    o.region = t.region;
    auto client = aws::SnsClient::Create(o, ctx.credentials, ctx.http, &clock);
    if (!client.ok()) {
      return InvalidArgument(
          client.status().WithContext("notify.sns[" + std::to_string(i) + "]").message());
    }
    sinks.push_back(std::make_unique<notify::SnsSink>(std::move(client).value(), t.topic_arn));
  }
  std::vector<std::string> sink_ids;
  std::map<std::string, notify::Sink*> sink_map;
  for (const auto& s : sinks) {
    sink_ids.push_back(s->id());
    sink_map[s->id()] = s.get();
  }

  const std::string host = HostName();
  wired->events = std::make_unique<pipeline::EventFactory>("vidgate://" + host, sink_ids);
  pipeline::DeliveryPolicy delivery;
  delivery.max_attempts = cfg.notify.delivery_attempts;
  delivery.backoff = {cfg.notify.base_delay_seconds, cfg.notify.max_delay_seconds};
  // What the pipeline does is told to Prometheus (/metrics) and, with
  // metrics.emf, to CloudWatch.
  if (cfg.metrics.emf) wired->emf = std::make_unique<EmfMetrics>(stdout, &clock);
  wired->metrics = std::make_unique<server::Metrics>(wired->catalog.get(), &clock);
  std::vector<pipeline::Observer*> observers{wired->metrics.get()};
  if (wired->emf) observers.push_back(wired->emf.get());
  wired->observer = std::make_unique<pipeline::ObserverFanOut>(std::move(observers));
  wired->dispatcher = std::make_unique<pipeline::Dispatcher>(
      wired->catalog.get(), sink_map, &clock, ctx.log.get(), delivery, wired->observer.get());
  wired->alarms =
      std::make_unique<pipeline::AlarmEvaluator>(wired->catalog.get(), wired->events.get(), &clock,
                                                 wired->observer.get(), ctx.log.get(), cfg.alarm);
  auto policy = PolicyFromConfig(cfg);
  if (!policy.ok()) return InvalidArgument(policy.status().WithContext("qc").message());
  pipeline::OutputOptions outputs;
  outputs.renditions = cfg.output.rendition;
  outputs.thumbnail_count = cfg.output.thumbnails;
  outputs.sprite = cfg.output.sprite;
  outputs.hls = cfg.output.hls;
  outputs.hls_segment_seconds = cfg.output.hls_segment_seconds;
  outputs.audio_languages = cfg.output.audio_languages;
  wired->media = pipeline::NewQcStage(*policy, outputs, wired->store->LocalWorkRoot());

  pipeline::RunnerOptions& opts = wired->runner_options;
  opts.workers = cfg.workers.count > 0
                     ? cfg.workers.count
                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  opts.poll_seconds = cfg.intake.poll_seconds;
  opts.owner_prefix = host + ":" + std::to_string(getpid()) + ":" + NewUuid().substr(0, 4);
  opts.worker.max_attempts = cfg.retry.max_attempts;
  opts.worker.backoff = {cfg.retry.base_delay_seconds, cfg.retry.max_delay_seconds};
  opts.worker.retry_qc_rejections = cfg.retry.retry_qc_rejections;
  // Checked when the config was read.
  if (auto dedupe = pipeline::ParseDedupePolicy(cfg.dedupe.policy); dedupe.ok()) {
    opts.worker.dedupe = *dedupe;
  }
  opts.worker.similarity = cfg.dedupe.similarity;
  opts.worker.lease_seconds = cfg.workers.lease_seconds;
  opts.worker.attempt_timeout_seconds = cfg.workers.attempt_timeout_seconds;
  opts.worker.settle_seconds = cfg.storage.settle_seconds;
  opts.intake.settle_seconds = cfg.storage.settle_seconds;
  opts.intake.wait_seconds = cfg.metadata.wait_seconds;
  opts.intake.required = cfg.metadata.required;

  // S3 event notifications through SQS, when a queue is set.
  if (!cfg.intake.sqs_queue_url.empty()) {
    aws::SqsOptions so;
    so.queue_url = cfg.intake.sqs_queue_url;
    so.endpoint = cfg.intake.endpoint;
    so.region = cfg.intake.region;
    wired->sqs = std::make_unique<aws::SqsClient>(so, ctx.credentials, ctx.http, &clock);
    VG_ASSIGN_OR_RETURN(storage::S3Location where, storage::ParseS3Url(cfg.storage.url));
    wired->feed =
        std::make_unique<SqsFeed>(wired->sqs.get(), where.bucket, where.prefix, ctx.log.get());
  }
  return wired;
}

}  // namespace vidgate::app
