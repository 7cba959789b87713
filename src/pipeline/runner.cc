#include "pipeline/runner.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/util.h"
#include "pipeline/naming.h"

namespace vidgate::pipeline {
namespace {

// The intake loop's longest sleep, so its turns show it is alive (health).
constexpr double kLongestNap = 10;

// A wake-up shared by the threads: intake pokes workers, workers poke the
// dispatcher; a poke is never lost and a sleeper wakes at its time-out.
class Doorbell {
 public:
  void Ring() {
    {
      std::lock_guard lock(mu_);
      ++rings_;
    }
    cv_.notify_all();
  }
  void Wait(double seconds, const std::atomic<bool>& stop) {
    std::unique_lock lock(mu_);
    uint64_t seen = rings_;
    cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                 [&] { return rings_ != seen || stop.load(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t rings_ = 0;
};

// Like Doorbell, for one waiter, and a ring while it is busy is kept: its
// next Wait returns at once (a change heard mid-scan gets a scan after it).
class StickyBell {
 public:
  void Ring() {
    {
      std::lock_guard lock(mu_);
      rung_ = true;
    }
    cv_.notify_all();
  }
  void Wait(double seconds, const std::atomic<bool>& stop) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                 [&] { return rung_ || stop.load(); });
    rung_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool rung_ = false;
};

// Removes the work files of processes that died: on this host, those whose
// process is gone; elsewhere (another machine sharing the store), those
// untouched for an hour.
void CleanWorkArea(storage::Store& store, const Clock& clock, spdlog::logger& log) {
  auto leftovers = store.List(kWork);
  if (!leftovers.ok()) return;
  const std::string host = HostName();
  for (const auto& obj : *leftovers) {
    // .vidgate/tmp/<owner> is a file; .vidgate/work/<owner>/... a folder.
    std::string owned = obj.key;
    if (auto third = owned.find('/', owned.find('/', owned.find('/') + 1) + 1);
        third != std::string::npos) {
      owned.resize(third);
    }
    auto owner = storage::WorkFileOwnerOf(owned);
    bool dead = false;
    if (owner && owner->host == host) {
      dead = owner->pid != ::getpid() && ::kill(static_cast<pid_t>(owner->pid), 0) != 0 &&
             errno == ESRCH;
    } else {
      dead = clock.Now() - obj.mtime > 3600;
    }
    if (dead && store.Delete(obj.key).ok()) log.info("removed leftover work file {}", obj.key);
  }
}

}  // namespace

double Runner::SecondsSinceLastTurn() const {
  const int64_t last = last_turn_ns_.load();
  if (last < 0) return -1;
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  return static_cast<double>(now - last) / 1e9;
}

Status Runner::PrepareStore(const std::atomic<bool>& stop) {
  const auto give_up_at = std::chrono::steady_clock::now() +
                          std::chrono::duration<double>(options_.start_patience_seconds);
  double wait = 0.5;
  for (;;) {
    Status s = deps_.store->Prepare();
    if (s.ok() || s.code() != Code::kUnavailable) return s;
    if (std::chrono::steady_clock::now() + std::chrono::duration<double>(wait) > give_up_at) {
      return s;
    }
    deps_.log->warn("the store is not ready ({}); asking again in {:g} s", s.message(), wait);
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
    while (std::chrono::steady_clock::now() < until) {
      if (stop.load()) return Cancelled("stopped before the store was ready");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    wait = std::min(wait * 2, 5.0);
  }
}

Status Runner::Run(const std::atomic<bool>& stop) {
  auto& log = *deps_.log;
  VG_RETURN_IF_ERROR(PrepareStore(stop));
  CleanWorkArea(*deps_.store, *deps_.clock, log);

  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> scans{0};
  std::atomic<bool> last_scan_unsettled{true};
  Doorbell work_bell, scan_bell;
  StickyBell intake_bell;
  const double poll = options_.poll_seconds;

  // News from the feed thread to the intake thread, in batches.
  std::mutex news_mu;
  std::condition_variable news_taken;  // rung when intake has taken its batches
  std::vector<News> news_waiting;
  int news_unfinished = 0;  // batches handed over and not yet taken (under news_mu)
  std::atomic<bool> listing_wanted{true};

  std::jthread intake_thread([&] {
    Intake intake(
        {deps_.store, deps_.catalog, deps_.events, deps_.clock, deps_.log, deps_.observer},
        options_.intake);
    auto next_listing = std::chrono::steady_clock::now();
    auto next_overdue_check = next_listing;
    auto next_pending_report = next_listing;
    while (!stopping.load()) {
      last_turn_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
      if (deps_.observer != nullptr && std::chrono::steady_clock::now() >= next_pending_report) {
        next_pending_report = std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(options_.pending_report_seconds));
        if (auto pending = deps_.catalog->PendingWork(); pending.ok()) {
          deps_.observer->WorkPending(pending->jobs, pending->deliveries, pending->awaiting_notice);
        }
      }
      std::vector<News> batches;
      {
        std::lock_guard lock(news_mu);
        batches.swap(news_waiting);
      }
      for (const News& news : batches) {
        auto taken = intake.Take(news.keys);
        if (!taken.ok()) {
          // Not marked done: the feed brings it again.
          log.error("intake: {}", taken.status().message());
          continue;
        }
        if (taken->queued > 0) work_bell.Ring();
        if (taken->events > 0) deps_.dispatcher->Wake();
        if (Status s = deps_.feed->Done(news); !s.ok()) {
          log.warn("{}: {}", deps_.feed->Describe(), s.message());
        }
      }
      if (!batches.empty()) {
        {
          std::lock_guard lock(news_mu);
          news_unfinished -= static_cast<int>(batches.size());
        }
        news_taken.notify_all();
      }
      // With a feed the listing is rare: sidecars overdue are looked for
      // every second instead (news never tells of a file that is missing).
      if (deps_.feed != nullptr && std::chrono::steady_clock::now() >= next_overdue_check) {
        next_overdue_check = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        if (auto overdue = intake.NoticeOverdue(); !overdue.ok()) {
          log.error("intake: {}", overdue.status().message());
        } else {
          if (overdue->queued > 0) work_bell.Ring();
          if (overdue->events > 0) deps_.dispatcher->Wake();
        }
      }
      if (listing_wanted.exchange(false) || std::chrono::steady_clock::now() >= next_listing) {
        auto report = intake.Scan();
        if (!report.ok()) {
          log.error("intake: {}", report.status().message());
          last_scan_unsettled = true;
        } else {
          last_scan_unsettled = report->unsettled;
          if (report->queued > 0) work_bell.Ring();
          if (report->events > 0) deps_.dispatcher->Wake();
        }
        if (++scans == 1 && report.ok()) log.info("intake: the first listing is done");
        scan_bell.Ring();
        next_listing = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(poll));
      }
      if (deps_.alarms != nullptr) {
        if (auto sent = deps_.alarms->EvaluateDue(); !sent.ok()) {
          log.error("alarms: {}", sent.status().message());
        } else if (*sent > 0) {
          deps_.dispatcher->Wake();
        }
      }
      double until_next =
          std::chrono::duration<double>(next_listing - std::chrono::steady_clock::now()).count();
      if (deps_.alarms != nullptr)
        until_next = std::min(until_next, deps_.alarms->SecondsUntilDue());
      if (deps_.feed != nullptr) until_next = std::min(until_next, 1.0);
      until_next = std::min(until_next, kLongestNap);
      if (deps_.observer != nullptr) {
        until_next = std::min(
            until_next,
            std::chrono::duration<double>(next_pending_report - std::chrono::steady_clock::now())
                .count());
      }
      intake_bell.Wait(std::max(until_next, 0.0), stopping);
    }
  });

  std::jthread feed_thread([&] {
    if (deps_.feed == nullptr) return;
    std::string last_error;
    while (!stopping.load()) {
      // One batch at a time: what is received waits in memory, hidden from
      // other receivers only for the queue's visibility timeout, so the
      // next batch is fetched once the last one is taken.
      {
        std::unique_lock lock(news_mu);
        // Rechecked every 100 ms: stopping rings no condition variable.
        while (news_unfinished > 0 && !stopping.load()) {
          news_taken.wait_for(lock, std::chrono::milliseconds(100));
        }
      }
      if (stopping.load()) break;
      Result<News> news = deps_.feed->Wait(std::min(poll, 20.0), stopping);
      if (!news.ok()) {
        if (news.status().message() != last_error) {
          last_error = news.status().message();
          log.warn("{}: {}; uploads are still found by listing every {:g} s",
                   deps_.feed->Describe(), last_error, poll);
        }
        StickyBell pause;
        pause.Wait(1.0, stopping);
        continue;
      }
      last_error.clear();
      if (news->keys.empty() && news->tokens.empty()) continue;
      {
        std::lock_guard lock(news_mu);
        news_waiting.push_back(std::move(*news));
        ++news_unfinished;
      }
      intake_bell.Ring();
    }
  });

  std::vector<std::jthread> workers;
  for (int i = 0; i < options_.workers; ++i) {
    workers.emplace_back([&, i] {
      WorkerOptions wo = options_.worker;
      wo.owner = options_.owner_prefix + ":" + std::to_string(i);
      Worker worker({deps_.store, deps_.catalog, deps_.media, deps_.events, deps_.clock, deps_.log,
                     deps_.observer},
                    wo, &stopping);
      while (!stopping.load()) {
        auto ran = worker.RunOnce();
        if (!ran.ok()) {
          log.error("worker {}: {}", wo.owner, ran.status().message());
          work_bell.Wait(std::min(poll, 1.0), stopping);
        } else if (*ran) {
          deps_.dispatcher->Wake();
        } else {
          // Sleep until the next job can be claimed (at most a second);
          // intake here or a NOTIFY from another process rings earlier.
          double wait = std::min(poll, 1.0);
          if (auto pending = deps_.catalog->PendingWork();
              pending.ok() && pending->next_claimable) {
            wait = std::clamp(*pending->next_claimable - deps_.clock->Now(), 0.01, wait);
          }
          work_bell.Wait(wait, stopping);
        }
      }
    });
  }

  // Wakes the workers when another process queues work (PostgreSQL NOTIFY).
  // Its time-out bounds how long stopping waits for it.
  std::jthread waker_thread([&] {
    while (deps_.catalog->SignalsWork() && !stopping.load()) {
      auto woken = deps_.catalog->WaitForWork(0.2);
      if (woken.ok() && *woken) work_bell.Ring();
      if (!woken.ok()) {
        StickyBell pause;  // not intake_bell: its one waiter is the intake thread
        pause.Wait(1.0, stopping);
      }
    }
  });

  deps_.dispatcher->Start();  // a lane per sink

  // Main loop: wait for a stop, or for idleness confirmed by a full scan.
  uint64_t idle_since_scan = 0;
  bool idle_seen = false;
  while (!stop.load()) {
    if (!options_.until_idle) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    // Woken by each finished scan, so the confirming scans below follow one
    // another without a pause.
    scan_bell.Wait(0.02, stop);
    uint64_t scan_now = scans.load();
    if (scan_now == 0) continue;
    auto pending = deps_.catalog->PendingWork();
    bool idle = pending.ok() && pending->jobs == 0 && pending->deliveries == 0 &&
                pending->awaiting_notice == 0 && !last_scan_unsettled.load();
    if (!idle) {
      idle_seen = false;
      continue;
    }
    if (!idle_seen) {
      idle_seen = true;
      idle_since_scan = scan_now;
    } else if (scan_now > idle_since_scan + 1) {
      log.info("nothing pending; exiting (--until-idle)");
      break;
    }
    // The confirming scans need not wait for the poll interval.
    listing_wanted = true;
    intake_bell.Ring();
  }

  if (stop.load()) log.info("stopping: releasing work in flight");
  stopping = true;
  work_bell.Ring();
  intake_bell.Ring();
  intake_thread.join();
  feed_thread.join();
  waker_thread.join();
  workers.clear();  // joins; each in-flight attempt is finished or released
  // Flush what can be delivered now, for five seconds at most, whatever the
  // peers do: a request still running then is cut short.
  deps_.dispatcher->Stop(std::chrono::steady_clock::now() + std::chrono::seconds(5));
  return Status();
}

}  // namespace vidgate::pipeline
