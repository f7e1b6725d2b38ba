// websocket_test_server: a websocket_test_server in a process of its own, for tests that hold
// more sessions than one process has descriptors for both ends. Prints "port N" once listening,
// then answers commands on stdin, one per line, until stdin closes:
//   counts          -> "upgraded U held H peak P ended E refused R messages M"
//   stall MS        -> "ok" (replies wait MS milliseconds from now)
// Options: --delay MS (reply delay), --limit N (sessions held at most), --port P (default: a free
// one), --reuse-port 1 (SO_REUSEPORT: several of these processes share one port, as bench/websocket
// runs them when the sessions need more descriptors than one process may open).

#include "tests/support/websocket_test_server.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  faultline::test::websocket_test_server::options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--delay") == 0) o.reply_delay = std::chrono::milliseconds(std::atoll(argv[i + 1]));
    else if (std::strcmp(argv[i], "--limit") == 0) o.limit = std::atoll(argv[i + 1]);
    else if (std::strcmp(argv[i], "--port") == 0) o.port = static_cast<std::uint16_t>(std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--reuse-port") == 0) o.reuse_port = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "websocket_test_server: unknown option %s (use --delay MS, --limit N, --port P, --reuse-port 1)\n",
                   argv[i]);
      return 2;
    }
  }
  faultline::test::websocket_test_server server(o);
  std::cout << "port " << server.port() << std::endl;
  std::string command;
  while (std::cin >> command) {
    if (command == "counts") {
      const auto c = server.snapshot();
      std::cout << "upgraded " << c.upgraded << " held " << c.held << " peak " << c.peak_held << " ended " << c.ended
                << " refused " << c.refused << " messages " << c.messages << std::endl;
    } else if (command == "stall") {
      long long ms = 0;
      std::cin >> ms;
      server.stall_for(std::chrono::milliseconds(ms));
      std::cout << "ok" << std::endl;
    } else {
      std::cout << "unknown command " << command << std::endl;
    }
  }
  return 0;
}
