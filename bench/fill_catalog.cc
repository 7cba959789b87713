// fill_catalog: a catalog with N filed videos, for the API benchmark
// (bench/api.sh): mostly processed, some rejected or set aside, each with
// metadata, a probe, a QC report with a minute of per-second series and
// its outputs, as a real fleet's catalog holds them (no attempt rows).
//   fill_catalog URL N     URL: sqlite://PATH or postgresql://...
#include <cstdio>
#include <string>

#include "catalog/catalog.h"

using namespace vidgate;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fill_catalog URL N\n");
    return 2;
  }
  auto opened = catalog::Open(argv[1]);
  if (!opened.ok() || !(*opened)->Migrate().ok()) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 3;
  }
  catalog::Catalog& c = **opened;
  const int n = std::stoi(argv[2]);
  nlohmann::json series = nlohmann::json::array();
  for (int s = 0; s < 60; ++s) series.push_back(0.25 + 0.001 * s);
  const nlohmann::json qc = {{"verdict", "pass"},
                             {"checks", {{{"id", "black"}, {"status", "pass"}}}},
                             {"series", {{"luma", series}, {"motion", series}}}};
  const nlohmann::json probe = {
      {"format", {{"name", "mov,mp4,m4a,3gp,3g2,mj2"}, {"duration", 60.0}}},
      {"streams", {{{"type", "video"}, {"codec", "h264"}, {"width", 1920}, {"height", 1080}}}}};
  for (int i = 0; i < n; ++i) {
    const std::string name = "clip-" + std::to_string(i);
    const double now = 1'700'000'000.0 + i;
    auto id = c.Register({name, "uploads/" + name + ".mp4", catalog::State::kQueued, now}, {});
    if (!id.ok() || !id->has_value()) {
      std::fprintf(stderr, "register %s failed\n", name.c_str());
      return 3;
    }
    const catalog::State end = i % 20 == 0   ? catalog::State::kUnableToProcess
                               : i % 10 == 0 ? catalog::State::kRejected
                                             : catalog::State::kProcessed;
    // A QC rejection is filed under unable_to_process/ too (the contract).
    const std::string folder =
        std::string(end == catalog::State::kProcessed ? "processed/" : "unable_to_process/") + name;
    catalog::VideoChange done;
    done.video_id = **id;
    done.now = now + 5;
    done.state = end;
    done.job = catalog::VideoChange::Job::kRemove;
    done.metadata = nlohmann::json{{"title", "Clip number " + std::to_string(i)}};
    done.probe = probe;
    done.qc = qc;
    done.location = folder;
    done.current_key = folder + "/" + name + ".mp4";
    done.outputs.push_back({folder + "/vidgate/renditions/main.mp4", 4'000'000, "h264", 1280, 720,
                            60, std::string(64, '0')});
    done.log = "now " + std::string(catalog::StateName(end));
    if (auto s = c.Apply(done); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 3;
    }
  }
  std::printf("%d videos\n", n);
  return 0;
}
