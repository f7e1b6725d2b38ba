#pragma once
// Where a run's metrics go: GET /metrics over HTTP on a thread of its own, so that scrapes (many
// a second, or none) never wait for the run and the run never waits for them: the runner
// publishes each new exposition and a scrape answers with the latest. And the textfile for
// node_exporter's textfile collector, written atomically, for runs that end before a scrape.

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace faultline::engine {

class metrics_server {
public:
  // Binds and serves at once; throws boost::system::system_error when the address cannot be used.
  explicit metrics_server(const boost::asio::ip::tcp::endpoint& endpoint);
  ~metrics_server();  // closes every connection and joins the thread
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Thread-safe. Each publication replaces the previous one.
  void publish(std::string text);
  // Blocks until the latest publication has been sent to a scraper at least once, or `limit`
  // passes: the grace period that lets the last scrape see the verdict. True when it was.
  bool wait_until_scraped(std::chrono::nanoseconds limit);
  std::uint64_t scrapes() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Writes `text` to `path` atomically (a temporary file next to it, then rename), so a collector
// never reads half a file. Throws std::runtime_error naming the path and the reason.
void write_metrics_textfile(const std::filesystem::path& path, const std::string& text);

}  // namespace faultline::engine
