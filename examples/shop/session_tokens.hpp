#pragma once
// The shop's sign-in tokens: POST /login issues one for a user name, POST /checkout accepts only a
// token this shop process issued. A token is the user name and a keyed hash of it, so checking
// it needs no store; the key is random per process (a restart signs everybody out).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::shop {

class session_tokens {
public:
  explicit session_tokens(std::uint64_t key) : key_(key) {}
  std::string issue(std::string_view user) const;
  // The user a token was issued to; none for a token this process did not issue.
  std::optional<std::string> user_of(std::string_view token) const;

private:
  std::uint64_t sign(std::string_view user) const;
  std::uint64_t key_;
};

}  // namespace faultline::shop
