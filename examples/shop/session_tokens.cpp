#include "examples/shop/session_tokens.hpp"

#include <fmt/format.h>

namespace faultline::shop {

// FNV-1a over the key and the name: enough to tell the shop's own tokens from made-up ones in a
// demo (not a cryptographic signature).
std::uint64_t session_tokens::sign(std::string_view user) const {
  std::uint64_t h = 14695981039346656037ull ^ key_;
  for (unsigned char c : user) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string session_tokens::issue(std::string_view user) const { return fmt::format("{}.{:016x}", user, sign(user)); }

std::optional<std::string> session_tokens::user_of(std::string_view token) const {
  const auto dot = token.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  const auto user = token.substr(0, dot);
  if (token.substr(dot + 1) != fmt::format("{:016x}", sign(user))) return std::nullopt;
  return std::string(user);
}

}  // namespace faultline::shop
