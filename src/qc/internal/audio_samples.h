// audio_samples.h (internal): decoded audio as interleaved float samples.
//
// Every libav sample format is accepted, packed or planar: u8, s16, s32, s64,
// flt and dbl. Integers are scaled so that full scale is 1.0 (x / 2^(bits-1);
// u8 is offset by 128 first); float samples are passed through, so they may
// exceed 1.0.
#pragma once

extern "C" {
#include <libavutil/frame.h>
}

#include <string>
#include <vector>

namespace vidgate::qc::internal {

// The number of channels of an audio frame (ch_layout, 0 when unknown).
int FrameChannels(const AVFrame& frame);

// Writes frame.nb_samples * channels samples to *out (resized), channel
// after channel within each sample frame. Returns false and sets *why when the
// frame has no channels, no sample rate or an unknown sample format.
bool ToInterleavedFloat(const AVFrame& frame, std::vector<float>* out, std::string* why);

}  // namespace vidgate::qc::internal
