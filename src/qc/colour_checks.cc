#include "qc/colour_checks.h"

#include <fmt/format.h>

#include <vector>

namespace vidgate::qc {
namespace {

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

bool IsBt2020Matrix(AVColorSpace m) {
  return m == AVCOL_SPC_BT2020_NCL || m == AVCOL_SPC_BT2020_CL;
}

bool InUnit(double v) { return v > 0 && v <= 1; }

}  // namespace

ColourJudgement JudgeColourTags(const media::ColourInfo& c, const std::string& pix_fmt) {
  std::vector<std::string> untagged;
  if (!c.primaries) untagged.emplace_back("primaries");
  if (!c.transfer) untagged.emplace_back("transfer");
  if (!c.matrix) untagged.emplace_back("matrix");
  std::vector<std::string> wrong;
  if (!untagged.empty()) {
    std::string list;
    for (size_t i = 0; i < untagged.size(); ++i) {
      list += (i == 0 ? "" : i + 1 == untagged.size() ? " and " : ", ") + untagged[i];
    }
    wrong.push_back("no colour " + list + " tagged: players guess, and colours may shift");
  }
  const bool bt2020_primaries = c.av_primaries == AVCOL_PRI_BT2020;
  if (c.matrix && c.primaries && IsBt2020Matrix(c.av_matrix) != bt2020_primaries) {
    wrong.push_back(fmt::format("primaries {} contradict matrix {}", *c.primaries, *c.matrix));
  }
  if (c.IsHdr() && c.primaries && !bt2020_primaries) {
    wrong.push_back(fmt::format("an HDR transfer ({}) on {} primaries, not BT.2020", *c.transfer,
                                *c.primaries));
  }
  if (c.IsHdr() && c.bit_depth && *c.bit_depth < 10) {
    wrong.push_back(fmt::format("an HDR transfer ({}) in {}-bit samples: HDR needs 10 bits",
                                *c.transfer, *c.bit_depth));
  }
  const bool rgb_samples = media::IsRgbPixelFormat(pix_fmt);
  if (c.av_matrix == AVCOL_SPC_RGB && !pix_fmt.empty() && !rgb_samples) {
    wrong.push_back("matrix gbr (RGB) on " + pix_fmt + " samples");
  }
  if (!wrong.empty()) return {false, Join(wrong)};
  return {true, fmt::format("colour {}/{}/{}, {} range", *c.primaries, *c.transfer, *c.matrix,
                            c.range.value_or("unspecified"))};
}

std::optional<ColourJudgement> JudgeHdrMetadata(const media::ColourInfo& c) {
  if (!c.IsHdr()) return std::nullopt;
  const std::string format = c.hdr_format.value_or("HDR");
  std::vector<std::string> wrong;
  if (const auto& m = c.mastering_display) {
    if (!InUnit(m->red_x) || !InUnit(m->red_y) || !InUnit(m->green_x) || !InUnit(m->green_y) ||
        !InUnit(m->blue_x) || !InUnit(m->blue_y) || !InUnit(m->white_x) || !InUnit(m->white_y)) {
      wrong.emplace_back("mastering display chromaticities outside 0..1");
    }
    if (m->max_luminance < 50 || m->max_luminance > 10000) {
      wrong.push_back(
          fmt::format("mastering display peak {:g} cd/m² outside 50..10000", m->max_luminance));
    }
    if (m->min_luminance < 0 || m->min_luminance >= m->max_luminance) {
      wrong.push_back(fmt::format("mastering display black {:g} cd/m² not below its peak {:g}",
                                  m->min_luminance, m->max_luminance));
    }
  } else if (c.av_transfer == AVCOL_TRC_SMPTE2084) {
    wrong.emplace_back(
        "PQ (SMPTE ST 2084) without mastering display metadata (SMPTE ST 2086): displays "
        "cannot know how it was graded");
  }
  if (const auto& l = c.content_light_level) {
    if (l->max_content > 10000 || l->max_average > 10000 || l->max_average < 0 ||
        l->max_content < 0) {
      wrong.push_back(fmt::format("content light level {}/{} cd/m² outside 0..10000",
                                  l->max_content, l->max_average));
    } else if (l->max_content > 0 && l->max_average > l->max_content) {
      wrong.push_back(fmt::format("MaxFALL {} over MaxCLL {}", l->max_average, l->max_content));
    }
  }
  if (!wrong.empty()) return ColourJudgement{false, format + ": " + Join(wrong)};
  std::string found = format;
  if (c.mastering_display) {
    found += fmt::format(", mastered on {:g}-{:g} cd/m²", c.mastering_display->min_luminance,
                         c.mastering_display->max_luminance);
  }
  if (c.content_light_level) {
    found += fmt::format(", MaxCLL {} MaxFALL {}", c.content_light_level->max_content,
                         c.content_light_level->max_average);
  }
  return ColourJudgement{true, found};
}

}  // namespace vidgate::qc
