#include "faults/userspace/packet_loop.hpp"

#include "faults/userspace/netns.hpp"
#include "faults/userspace/userspace_log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <linux/netfilter.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace faultline::faults::userspace {
namespace {

namespace asio = boost::asio;
using std::chrono::nanoseconds;

// The IP header's length, where the transport header and data begin; 0 when not an IP packet.
std::size_t ip_header_length(const std::vector<std::uint8_t>& packet) {
  if (packet.empty()) return 0;
  const int version = packet[0] >> 4;
  if (version == 4 && packet.size() >= 20) return static_cast<std::size_t>(packet[0] & 0x0f) * 4;
  if (version == 6 && packet.size() >= 40) return 40;
  return 0;
}

int open_raw_socket(int family, std::uint32_t mark) {
  int fd = ::socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
  if (fd < 0) return -1;
  if (mark != 0) ::setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
  return fd;
}

}  // namespace

packet_loop::packet_loop(impairment_model model, loop_settings settings)
    : model_(std::move(model)), settings_(std::move(settings)), schedule_(settings_.keep_order) {}

packet_loop::~packet_loop() {
  try {
    stop();
  } catch (const std::exception& e) {
    userspace_log()->error("stopping the packet loop: {}", e.what());
  }
}

std::uint16_t packet_loop::start(const std::vector<std::uint16_t>& candidates) {
  if (thread_.joinable()) throw fault_error("network: the packet loop is already running");
  std::promise<std::uint16_t> bound;
  auto result = bound.get_future();
  thread_ = std::thread([this, candidates, &bound] { run(candidates, bound); });
  try {
    return result.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

void packet_loop::run(const std::vector<std::uint16_t>& candidates, std::promise<std::uint16_t>& bound) {
  try {
    netns_handle ns(settings_.netns);
    if (auto why = ns.enter(); !why.empty()) throw fault_error(why);
    ::prctl(PR_SET_NAME, "faultline-nfq", 0, 0, 0);
    // Timers fire when asked, not up to 50 us later: the delay is what this thread is for.
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    // netem releases packets from a kernel hrtimer; a userspace thread competing with every other
    // task for the CPU wakes milliseconds late on a busy host. A low real-time priority puts it
    // ahead of ordinary tasks; it sleeps in epoll between packets (and the kernel caps real-time
    // tasks at 95% of a CPU), so it cannot starve the host.
    sched_param priority{};
    priority.sched_priority = settings_.realtime_priority;
    if (settings_.realtime_priority <= 0) {
      scheduling_ = "normal (real-time priority not requested)";
    } else if (int rc = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &priority); rc == 0) {
      scheduling_ = fmt::format("SCHED_FIFO {}", settings_.realtime_priority);
    } else {
      scheduling_ = fmt::format("normal (SCHED_FIFO refused: {})", std::strerror(rc));
      userspace_log()->warn("packet loop runs at normal priority, so delays may run late on a busy host: SCHED_FIFO refused: {}",
                     std::strerror(rc));
    }

    queue_config config;
    config.whole_packet = settings_.whole_packet;
    // Whole GSO packets are cheap to delay; but a packet faultline changes or copies must be a
    // real wire packet with a finished checksum, which the kernel makes when GSO is off.
    config.gso = !settings_.whole_packet;
    config.max_length = settings_.limit;
    std::string busy;
    for (auto number : candidates) {
      config.number = number;
      try {
        queue_ = std::make_unique<nfqueue_socket>(config);
        break;
      } catch (const queue_busy_error&) {
        busy += fmt::format("{}{}", busy.empty() ? "" : ", ", number);
      }
    }
    if (!queue_)
      throw fault_error(fmt::format("network: every NFQUEUE queue number faultline tried is bound by another program ({})", busy));
    if (settings_.whole_packet) {
      raw4_ = open_raw_socket(AF_INET, settings_.copy_mark);
      raw6_ = open_raw_socket(AF_INET6, settings_.copy_mark);
      if (raw4_ < 0 && raw6_ < 0)
        throw fault_error(fmt::format("network: cannot open a raw socket to send duplicates: {}", std::strerror(errno)));
    }
    io_ = std::make_unique<asio::io_context>(1);
    readable_.emplace(*io_, ::dup(queue_->fd()));
    timer_.emplace(*io_);
    asio::co_spawn(*io_, read_packets(), log_stray_exception(userspace_log(), "packet loop"));
    asio::co_spawn(*io_, release_packets(), log_stray_exception(userspace_log(), "packet loop"));
    asio::co_spawn(*io_, watch_kernel_counters(), log_stray_exception(userspace_log(), "packet loop"));
    bound.set_value(queue_->config().number);
  } catch (...) {
    queue_.reset();
    for (int* fd : {&raw4_, &raw6_})
      if (*fd >= 0) ::close(std::exchange(*fd, -1));
    bound.set_exception(std::current_exception());
    return;
  }
  try {
    io_->run();
  } catch (const std::exception& e) {
    userspace_log()->error("packet loop stopped: {}", e.what());
  }
  readable_.reset();
  timer_.reset();
  io_.reset();
  queue_.reset();
  for (int* fd : {&raw4_, &raw6_})
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
}

asio::awaitable<void> packet_loop::read_packets() {
  for (;;) {
    auto [ec] = co_await readable_->async_wait(asio::posix::descriptor_base::wait_read, asio::as_tuple(asio::use_awaitable));
    if (ec || stopped_) co_return;
    on_readable();
  }
}

void packet_loop::on_readable() {
  // A bounded number of datagrams per wake-up, so due packets are never starved by arrivals.
  for (int i = 0; i < 256; ++i) {
    received_.clear();
    if (!queue_->receive(received_)) break;
    const auto now = packet_clock::now();
    last_arrival_ = now;
    for (const auto& p : received_) handle(p, now);
  }
  queue_->flush();
  publish();
}

void packet_loop::handle(const queued_packet& p, packet_clock::time_point now) {
  ++live_.packets_seen_total;
  live_.bytes_seen_total += p.length;
  if (draining_) {
    queue_->add_verdict(p.id, NF_ACCEPT);
    ++live_.packets_released_total;
    return;
  }
  auto fate = model_.decide();
  if (!fate.original) {
    queue_->add_verdict(p.id, NF_DROP);
    ++live_.packets_dropped_total;
    return;
  }
  auto corrupt = [this](std::vector<std::uint8_t>& packet) {
    const auto header = ip_header_length(packet);
    if (header == 0 || packet.size() <= header) return false;
    auto [byte, bit] = model_.corrupt_position(packet.size() - header);
    packet[header + byte] ^= static_cast<std::uint8_t>(1u << bit);
    return true;
  };
  if (fate.copy && !p.payload.empty()) {
    held_packet copy;
    copy.copy = true;
    copy.arrived = now;
    copy.due = now + fate.copy->delay;
    copy.payload.assign(p.payload.begin(), p.payload.end());
    if (fate.copy->corrupt && corrupt(copy.payload)) ++live_.packets_corrupted_total;
    if (fate.copy->reordered || fate.copy->delay.count() == 0) {
      if (fate.copy->reordered) ++live_.packets_reordered_total;
      send_copy(copy.payload);
    } else if (schedule_.size() < settings_.limit) {
      hold(std::move(copy));
    } else {
      ++live_.copies_failed_total;  // netem's limit: no room for the copy
    }
  }
  const auto& plan = *fate.original;
  held_packet original;
  original.id = p.id;
  original.arrived = now;
  original.due = now + plan.delay;
  if (plan.corrupt && !p.payload.empty()) {
    original.payload.assign(p.payload.begin(), p.payload.end());
    original.modified = corrupt(original.payload);
    if (original.modified) ++live_.packets_corrupted_total;
  }
  if (plan.reordered) ++live_.packets_reordered_total;
  if (plan.reordered || plan.delay.count() == 0) {
    release(original, now, false);
    return;
  }
  ++live_.packets_delayed_total;
  hold(std::move(original));
}

void packet_loop::hold(held_packet p) {
  schedule_.hold(std::move(p));
  live_.held_peak = std::max<std::uint64_t>(live_.held_peak, schedule_.size());
  // The timer waits for the earliest packet; wake it when this one is due sooner.
  if (schedule_.next_due() && *schedule_.next_due() < timer_->expiry()) timer_->cancel();
}

void packet_loop::release(held_packet& p, packet_clock::time_point now, bool may_batch) {
  if (p.copy) {
    send_copy(p.payload);
    return;
  }
  if (may_batch && schedule_.keeps_order() && !p.modified && !draining_) {
    // In arrival order every queued packet with a smaller id already has its verdict or is in
    // this run: one batch verdict accepts them all.
    batch_up_to_ = p.id;
  } else {
    if (batch_up_to_) queue_->add_accept_up_to(*std::exchange(batch_up_to_, std::nullopt));
    queue_->add_verdict(p.id, NF_ACCEPT, p.modified ? std::span<const std::uint8_t>(p.payload) : std::span<const std::uint8_t>());
  }
  ++live_.packets_released_total;
  applied_samples_.push_back(now - p.arrived);
  if (p.due != p.arrived) lateness_samples_.push_back(now - p.due);
}

void packet_loop::release_due(packet_clock::time_point now) {
  due_.clear();
  schedule_.take_due(now, due_);
  for (auto& p : due_) release(p, now, true);
  if (batch_up_to_) queue_->add_accept_up_to(*std::exchange(batch_up_to_, std::nullopt));
  queue_->flush();
  publish();
}

asio::awaitable<void> packet_loop::release_packets() {
  for (;;) {
    auto next = schedule_.next_due();
    timer_->expires_at(next ? *next : packet_clock::time_point::max());
    co_await timer_->async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopped_) co_return;
    release_due(packet_clock::now());
  }
}

void packet_loop::send_copy(const std::vector<std::uint8_t>& packet) {
  const int version = packet.empty() ? 0 : packet[0] >> 4;
  ssize_t sent = -1;
  if (version == 4 && packet.size() >= 20 && raw4_ >= 0) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    std::memcpy(&to.sin_addr, packet.data() + 16, 4);
    sent = ::sendto(raw4_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  } else if (version == 6 && packet.size() >= 40 && raw6_ >= 0) {
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    std::memcpy(&to.sin6_addr, packet.data() + 24, 16);
    sent = ::sendto(raw6_, packet.data(), packet.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  if (sent == static_cast<ssize_t>(packet.size())) ++live_.packets_duplicated_total;
  else ++live_.copies_failed_total;
}

asio::awaitable<void> packet_loop::watch_kernel_counters() {
  asio::steady_timer tick(*io_);
  while (!stopped_) {
    read_kernel_counters();
    publish();
    tick.expires_after(std::chrono::milliseconds(500));
    co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void packet_loop::read_kernel_counters() {
  // This thread is in the queue's namespace, so /proc/thread-self/net is that namespace's view.
  // A line: queue portid waiting copy_mode copy_range queue_dropped user_dropped id_sequence 1
  std::ifstream in("/proc/thread-self/net/netfilter/nfnetlink_queue");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    unsigned long long number = 0, portid = 0, waiting = 0, mode = 0, range = 0, queue_dropped = 0, user_dropped = 0;
    if (!(words >> number >> portid >> waiting >> mode >> range >> queue_dropped >> user_dropped)) continue;
    if (number != queue_->config().number) continue;
    live_.packets_over_limit_total = queue_dropped;
    live_.receive_overruns_total = std::max<std::uint64_t>(user_dropped, queue_->stats().receive_overruns);
  }
}

void packet_loop::publish() {
  live_.verdict_errors_total = queue_->stats().verdict_errors;
  live_.verdict_datagrams_total = queue_->stats().verdict_datagrams;
  std::lock_guard lock(stats_mutex_);
  published_.counters = live_;
  for (auto d : applied_samples_) published_.applied_delay.record(d);
  for (auto d : lateness_samples_) published_.lateness.record(d);
  applied_samples_.clear();
  lateness_samples_.clear();
}

asio::awaitable<void> packet_loop::drain(std::chrono::milliseconds quiet) {
  draining_ = true;
  due_.clear();
  schedule_.take_all(due_);
  const auto now = packet_clock::now();
  for (auto& p : due_) release(p, now, false);
  queue_->flush();
  publish();
  // Packets that were on their way into the queue when the rules went: accept them as they come.
  const auto started = packet_clock::now();
  asio::steady_timer wait(*io_);
  while (packet_clock::now() - started < std::chrono::seconds(1)) {
    const auto since = packet_clock::now() - std::max(last_arrival_, started);
    if (since >= quiet) break;
    wait.expires_after(quiet - std::chrono::duration_cast<std::chrono::milliseconds>(since));
    co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  on_readable();
  read_kernel_counters();
  publish();
  try {
    queue_->unbind();
  } catch (const std::exception& e) {
    userspace_log()->warn("{} (closing the socket unbinds it)", e.what());
  }
  stopped_ = true;
  timer_->cancel();
  readable_->cancel();
  io_->stop();
}

void packet_loop::stop(std::chrono::milliseconds quiet) {
  if (!thread_.joinable()) return;
  asio::post(*io_, [this, quiet] { asio::co_spawn(*io_, drain(quiet), log_stray_exception(userspace_log(), "packet loop")); });
  thread_.join();
}

packet_stats packet_loop::stats() const {
  std::lock_guard lock(stats_mutex_);
  return published_;
}

}  // namespace faultline::faults::userspace
