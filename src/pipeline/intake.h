// intake.h: discovers uploads and hand-placed retries, and runs the metadata
// gate. Idempotent: every process may run it at once, since the catalog
// registers a key only once while its video is active.
#pragma once

#include <spdlog/logger.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "common/clock.h"
#include "pipeline/events.h"
#include "pipeline/observer.h"
#include "storage/store.h"

namespace vidgate::pipeline {

struct IntakeOptions {
  double settle_seconds = 2;
  double wait_seconds = 60;
  std::vector<std::string> required = {"title"};
};

struct IntakeDeps {
  storage::Store* store;
  catalog::Catalog* catalog;
  const EventFactory* events;
  const Clock* clock;
  spdlog::logger* log;
  Observer* observer;  // nullptr: nobody measures
};

struct ScanReport {
  int registered = 0;      // new videos
  int queued = 0;          // videos whose metadata passed the gate
  int events = 0;          // events written to the outbox
  bool unsettled = false;  // files seen that have not settled yet
};

class Intake {
 public:
  Intake(IntakeDeps deps, IntakeOptions options) : deps_(deps), options_(std::move(options)) {}

  // One pass over uploads/ and failed/, then the metadata gate over every
  // video awaiting its metadata. Errors are the store's or the catalog's.
  Result<ScanReport> Scan();

  // News of `keys` (a change feed's, an event batch's): the same as Scan for
  // those keys only. It registers the videos among them and judges the
  // metadata of the videos they concern (a video among them, or one whose
  // sidecar is among them). Keys outside uploads/ and failed/, or gone, are
  // ignored; what exists is looked at again, so news cannot register what
  // is not there. No settle wait: news tells of objects written whole.
  Result<ScanReport> Take(const std::vector<std::string>& keys);

  // Take over the videos whose wait for a sidecar is over and not yet told
  // (metadata.missing): with a change feed the listing is rare, and a
  // missing sidecar brings no news. Cheap when there are none.
  Result<ScanReport> NoticeOverdue();

 private:
  // Scan's and Take's common part; `listing`: `objects` is everything under
  // uploads/ and failed/ (so what is not there is gone).
  Result<ScanReport> Consider(std::vector<storage::ObjectInfo> objects, bool listing);
  // A look at one key (Stat) that failed: true when the failure is the
  // key's own (refused, malformed) and the key was said and may be skipped;
  // false when the store itself is failing and the whole batch must wait.
  bool SkipRefusedKey(const std::string& key, const Status& failure);
  // catalog->Apply, and the observer told of its events.
  Status Apply(const catalog::VideoChange& change);
  Status Gate(const catalog::Video& video, const std::vector<storage::ObjectInfo>& objects,
              ScanReport& report, bool settle);
  Status NoticeOrphans(const std::vector<storage::ObjectInfo>& objects,
                       const std::set<std::string>& active, ScanReport& report);
  // Whether a file has stopped changing (see storage.settle_seconds): seen
  // with the same size and mtime for settle_seconds of vidgate's clock, or
  // on first sight, an mtime that far in the past.
  bool Settled(const storage::ObjectInfo& info);

  IntakeDeps deps_;
  IntakeOptions options_;
  std::set<std::string> refused_noticed_;           // entries that are no objects, already logged
  std::map<int64_t, std::string> gate_errors_;      // video id -> the error last logged
  std::map<std::string, std::string> look_errors_;  // key -> the refusal last logged
  std::set<std::string> refused_now_;  // keys Take could not look at, while it considers
  struct Watched {
    storage::ObjectInfo seen;
    double since;  // vidgate's clock when first seen like this
  };
  std::map<std::string, Watched> watched_;  // files being settled, by key
};

}  // namespace vidgate::pipeline
