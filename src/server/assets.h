// assets.h: files the server hands out as they are (the OpenAPI document,
// the dashboard), built into the binary by vidgate_embed (cmake/embed.cmake).
#pragma once

#include <optional>
#include <string_view>

namespace vidgate::server::assets {

// The bytes of `name` (a path relative to src/server/), or nullopt.
std::optional<std::string_view> Find(std::string_view name);
// 16 hex digits of its SHA-256, made at build time ("" for an unknown name).
std::string_view TagOf(std::string_view name);

}  // namespace vidgate::server::assets

namespace vidgate::server::web {

// The dashboard's file `name` (a path under web/ listed in
// web/assets.txt, or "index.html"), or nullopt.
std::optional<std::string_view> Find(std::string_view name);
// 16 hex digits of its SHA-256, made at build time ("" for an unknown name).
std::string_view TagOf(std::string_view name);

}  // namespace vidgate::server::web
