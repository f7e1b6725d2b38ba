#pragma once
// A file for fuzz targets whose real entry point reads a path (the journal and state file
// readers): each input is written to it, in a directory of its own that is removed at exit.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace faultline::fuzz {

inline const std::filesystem::path& scratch_file(const char* name) {
  static const std::filesystem::path dir = [] {
    const auto base = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path();
    auto d = base / ("faultline-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static const std::filesystem::path removed_at_exit = d;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(removed_at_exit, ignored);
    });
    return d;
  }();
  static const std::filesystem::path file = dir / name;
  return file;
}

inline void write_scratch(const std::filesystem::path& file, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace faultline::fuzz
