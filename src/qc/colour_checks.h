// colour_checks.h: the QC judgements of a video stream's colour description
// (media::ColourInfo), from the probe alone:
//   colour_tags    the stream says how to show it (primaries, transfer and
//                  matrix tagged) and the tags agree with each other and
//                  with the samples (BT.2020 primaries with a BT.2020
//                  matrix, an HDR transfer on BT.2020 and more than 8 bits,
//                  no RGB matrix on YUV samples);
//   hdr_metadata   a PQ (HDR10) stream carries SMPTE ST 2086 mastering
//                  display metadata, and it and the content light level
//                  are in range. Only judged for an HDR transfer.
#pragma once

#include <optional>
#include <string>

#include "media/colour.h"

namespace vidgate::qc {

struct ColourJudgement {
  bool passed = true;
  std::string message;  // says what is wrong, or what was found
};

// `pix_fmt` is the stream's (ffprobe's name; "" when unknown).
ColourJudgement JudgeColourTags(const media::ColourInfo& colour, const std::string& pix_fmt);

// nullopt for a stream whose transfer is not HDR.
std::optional<ColourJudgement> JudgeHdrMetadata(const media::ColourInfo& colour);

}  // namespace vidgate::qc
