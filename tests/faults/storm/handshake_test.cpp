#include "faults/storm/handshake.hpp"

#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <catch2/catch.hpp>

using namespace faultline::storm;
namespace asio = boost::asio;

namespace {

std::string error_body(const std::string& sqlstate) {
  using namespace std::string_literals;
  return "SFATAL\0VFATAL\0C"s + sqlstate + "\0Msorry, too many clients already\0\0"s;
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

}  // namespace

TEST_CASE("transport errors map to outcome classes", "[faults][storm]") {
  CHECK(outcome_of(asio::error::connection_refused) == connection_outcome::refused);
  CHECK(outcome_of(asio::error::connection_reset) == connection_outcome::reset);
  CHECK(outcome_of(asio::error::broken_pipe) == connection_outcome::reset);
  CHECK(outcome_of(asio::error::eof) == connection_outcome::closed_early);
  CHECK(outcome_of(boost::beast::http::error::end_of_stream) == connection_outcome::closed_early);
  CHECK(outcome_of(boost::beast::websocket::error::closed) == connection_outcome::closed_early);
  CHECK(outcome_of(asio::error::timed_out) == connection_outcome::timed_out);
  CHECK(outcome_of(asio::error::operation_aborted) == connection_outcome::timed_out);
  CHECK(outcome_of(asio::error::no_descriptors) == connection_outcome::local_error);
  CHECK(outcome_of(make_error_code(boost::system::errc::address_not_available)) == connection_outcome::local_error);
  CHECK(outcome_of(boost::beast::http::error::bad_version) == connection_outcome::handshake_failed);
}

TEST_CASE("server answers map to outcome classes", "[faults][storm]") {
  CHECK(outcome_of_http_status(200) == connection_outcome::established);
  CHECK(outcome_of_http_status(404) == connection_outcome::established);  // the server answered
  CHECK(outcome_of_http_status(503) == connection_outcome::refused);
  CHECK(outcome_of_http_status(429) == connection_outcome::refused);
  CHECK(outcome_of_http_status(500) == connection_outcome::handshake_failed);

  CHECK(outcome_of_redis_reply("+PONG") == connection_outcome::established);
  CHECK(outcome_of_redis_reply("-ERR max number of clients reached") == connection_outcome::refused);
  CHECK(outcome_of_redis_reply("-NOAUTH Authentication required.") == connection_outcome::handshake_failed);
  CHECK(outcome_of_redis_reply("$4") == connection_outcome::handshake_failed);
}

TEST_CASE("PostgreSQL startup answers", "[faults][storm]") {
  CHECK(outcome_of_postgres_message('R', be32(0)) == std::nullopt);  // AuthenticationOk: keep reading
  CHECK(outcome_of_postgres_message('R', be32(5) + "salt") == connection_outcome::established);  // MD5 request
  CHECK(outcome_of_postgres_message('R', be32(10) + "SCRAM-SHA-256") == connection_outcome::established);
  CHECK(outcome_of_postgres_message('S', "server_version") == std::nullopt);
  CHECK(outcome_of_postgres_message('K', be32(1) + be32(2)) == std::nullopt);
  CHECK(outcome_of_postgres_message('Z', "I") == connection_outcome::established);
  CHECK(outcome_of_postgres_message('E', error_body("53300")) == connection_outcome::refused);
  CHECK(outcome_of_postgres_message('E', error_body("28P01")) == connection_outcome::handshake_failed);
  CHECK(outcome_of_postgres_message('R', "") == connection_outcome::handshake_failed);
  CHECK(outcome_of_postgres_message('H', "") == connection_outcome::handshake_failed);  // HTTP/1.1 ... from a web server
}

TEST_CASE("PostgreSQL StartupMessage bytes", "[faults][storm]") {
  using namespace std::string_literals;
  const auto m = postgres_startup_message("app", "");
  const auto body = be32(196608) + "user\0app\0database\0app\0application_name\0faultline-storm\0\0"s;
  CHECK(m == be32(static_cast<std::uint32_t>(body.size() + 4)) + body);
}
