// Private constructors of the storage backends, used by storage::Open.
#pragma once

#include <memory>
#include <string_view>

#include "storage/store.h"

namespace vidgate::storage {

Result<std::unique_ptr<Store>> OpenFileStore(std::string_view url, std::string_view path);
Result<std::unique_ptr<Store>> OpenS3Store(std::string_view url, const OpenOptions& options);

}  // namespace vidgate::storage
