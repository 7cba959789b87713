#include "common/text.h"

#include <fmt/format.h>

#include <cstdint>

namespace vidgate {
namespace {

constexpr char32_t kEscapeBase = 0xF700;  // byte b (0x80..0xFF) -> U+F700 + b
constexpr char32_t kEscapeFirst = 0xF780;
constexpr char32_t kEscapeLast = 0xF7FF;

// Decodes the UTF-8 sequence at s[i]; its length in `len`, or 0 if the
// bytes there are not a valid sequence.
char32_t Decode(std::string_view s, size_t i, size_t& len) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  len = 0;
  if (b0 < 0x80) {
    len = 1;
    return b0;
  }
  size_t n;
  char32_t cp;
  char32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  len = n;
  return cp;
}

void Encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsEscape(char32_t cp) { return cp >= kEscapeFirst && cp <= kEscapeLast; }

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len;
    Decode(s, i, len);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string BytesToKey(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    size_t len;
    const char32_t cp = Decode(bytes, i, len);
    if (len == 0 || IsEscape(cp)) {
      // Not text, or text that would read as an escape: each byte escaped.
      const size_t n = len == 0 ? 1 : len;
      for (size_t k = 0; k < n; ++k) Encode(kEscapeBase + static_cast<uint8_t>(bytes[i + k]), out);
      i += n;
      continue;
    }
    out.append(bytes.substr(i, len));
    i += len;
  }
  return out;
}

std::string KeyToBytes(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (size_t i = 0; i < key.size();) {
    size_t len;
    const char32_t cp = Decode(key, i, len);
    if (len == 0) {  // not a key BytesToKey made: keep the byte
      out += key[i++];
      continue;
    }
    if (IsEscape(cp)) {
      out += static_cast<char>(cp - kEscapeBase);
    } else {
      out.append(key.substr(i, len));
    }
    i += len;
  }
  return out;
}

std::string Printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t len;
    const char32_t cp = Decode(s, i, len);
    if (len == 0) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(s[i]));
      ++i;
      continue;
    }
    i += len;
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7F) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp));
    } else if (IsEscape(cp)) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(cp - kEscapeBase));
    } else if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
               (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C) {
      // C1 controls and the marks that reorder what follows them on screen.
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(cp));
    } else {
      out.append(s.substr(i - len, len));
    }
  }
  return out;
}

}  // namespace vidgate
