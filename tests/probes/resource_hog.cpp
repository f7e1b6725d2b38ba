// A process for the resource probe tests: holds MIB MiB of touched memory, runs THREADS idle
// threads besides the main one, keeps 5 descriptors on /dev/null and a loopback TCP connection to
// itself (one listening socket, two established ones), prints "ready" on stdout and then spins
// one core until it is killed.
//   resource_hog MIB THREADS

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: resource_hog MIB THREADS\n");
    return 2;
  }
  const std::size_t bytes = std::strtoull(argv[1], nullptr, 10) << 20;
  const int threads = std::atoi(argv[2]);

  void* memory = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return 1;
  std::memset(memory, 0x5a, bytes);  // every page resident

  for (int i = 0; i < 5; ++i)
    if (::open("/dev/null", O_RDONLY) < 0) return 1;

  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(listener, 4) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return 1;
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return 1;
  if (::accept(listener, nullptr, nullptr) < 0) return 1;

  std::vector<std::thread> idle;
  for (int i = 0; i < threads; ++i) idle.emplace_back([] {
    for (;;) ::pause();
  });

  std::printf("ready\n");
  std::fflush(stdout);
  volatile unsigned long spin = 0;
  for (;;) spin = spin + 1;
}
