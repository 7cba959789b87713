// text.h: names are bytes; keys, JSON and terminals want text.
//
// A file name on a POSIX file system is any bytes but '/' and NUL; a storage
// key, a JSON string, a PostgreSQL TEXT and an S3 key must be valid UTF-8.
// vidgate keeps names lossless with one mapping, applied by the file store
// where names enter and leave the file system:
//
//   bytes -> key: valid UTF-8 stays as it is; every byte that is not part of
//     a valid UTF-8 sequence becomes the private-use character U+F700+byte
//     (0x80..0xFF -> U+F780..U+F7FF). A character already in that range is
//     itself written as its three bytes' escapes, so the mapping is
//     one-to-one.
//   key -> bytes: each U+F780..U+F7FF becomes its byte again.
//
// So "caf\xe9.mp4" (Latin-1) is the key "caf\uF7E9.mp4", stored, sent in
// events and shown in JSON as such, and filed as "caf\xe9.mp4" again.
//
// Human-facing output (text logs, `list`, `show`, error sentences) goes
// through Printable, which escapes what a terminal would act on.
#pragma once

#include <string>
#include <string_view>

namespace vidgate {

// Whether `s` is valid UTF-8 (RFC 3629: no overlongs, surrogates or code
// points over U+10FFFF).
bool IsValidUtf8(std::string_view s);

// A file name's bytes as a UTF-8 key component (see above).
std::string BytesToKey(std::string_view bytes);

// The bytes a key component stands for (inverse of BytesToKey).
std::string KeyToBytes(std::string_view key);

// `s` made safe and unambiguous for a terminal or a text log line:
// backslash becomes "\\", newline "\n", tab "\t", carriage return "\r",
// other C0 controls, DEL and invalid bytes "\xNN", C1 controls and
// bidirectional overrides "\u202E", and the escaped bytes of BytesToKey
// "\xNN" (the byte they stand for). Everything else is kept.
std::string Printable(std::string_view s);

}  // namespace vidgate
