#include "faults/protocol/redis/redis_session.hpp"

#include "faults/protocol/message_session.hpp"
#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/redis/redis_toxics.hpp"
#include "faults/protocol/redis/resp.hpp"
#include "faults/proxy/log.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace faultline::protocol::redis {
namespace {

using proxy::direction;
using proxy::time_point;

// A command waiting for its reply.
struct slot {
  bool local = false;          // answered by the session with `answer`
  proxy::byte_buffer answer;
  counters_ptr answer_counters;  // of the toxic that answered
  reply_hold delays;
  bool passthrough = false;  // the server's replies from this one on pass through unread
  int hello = 0;             // HELLO n: the protocol version once the server accepts
  bool started = false;
  time_point release_at{};
};

struct reply_target {
  time_point at{};
  config_ptr holder;
};

class redis_session final : public message_session {
public:
  void on_message_toxics(proxy::session_io& io) override {
    if (replies_.cut()) return;
    for (const auto& t : io.message_toxics()) {
      const auto* outage = dynamic_cast<const redis_outage_toxic*>(t.config.get());
      if (!outage || std::find(outages_seen_.begin(), outages_seen_.end(), t.config) != outages_seen_.end()) continue;
      outages_seen_.push_back(t.config);  // rolled once per connection, not again on every change
      if (!chooses(t, [] { return true; }, io.random())) continue;  // every connection matches
      count_affected(*t.counters);
      count_cut(*t.counters, outage->reset());
      replies_.abandon();
      if (outage->reset()) io.reset();
      else io.close();
      return;
    }
    replies_.release_orphans(io);
  }

private:
  // ---- client -> server -------------------------------------------------------------------

  // A command cut short by the client's end goes on as it is: the server answers it (or not).
  void client_ended() override {
    if (forward_current_ && reader_.retaining()) append(to_server_, view(reader_.raw()));
    reader_.reset();
  }

  void from_client(std::string_view data, proxy::session_io& io) override {
    auto sink = [this](std::string_view bytes) {
      if (forward_current_) append(to_server_, bytes);
    };
    while (!data.empty()) {
      if (client_passthrough_) {
        append(to_server_, data);
        return;
      }
      switch (reader_.feed(data, sink)) {
        case command_reader::status::more: return;
        case command_reader::status::invalid: {
          // The server answers with a protocol error and closes; from here on nothing is read.
          append(to_server_, view(reader_.raw()));
          reader_.reset();
          client_passthrough_ = true;
          slot s;
          s.passthrough = true;
          push_slot(std::move(s), io);
          proxy::proxy_log()->debug("redis session passes the rest of a connection through: the client sent what is not RESP");
          break;
        }
        case command_reader::status::limit:
          decide(io);
          if (forward_current_) append(to_server_, view(reader_.raw()));
          reader_.release();
          break;
        case command_reader::status::done:
          if (!decided_) decide(io);
          if (forward_current_ && reader_.retaining()) append(to_server_, view(reader_.raw()));
          if (passthrough_after_) client_passthrough_ = true;
          reader_.reset();
          decided_ = false;
          forward_current_ = true;
          passthrough_after_ = false;
          break;
      }
    }
  }

  // What happens to the command being read: which toxics act on it, whether it goes to the
  // server, and what the session must know about it later.
  void decide(proxy::session_io& io) {
    decided_ = true;
    forward_current_ = true;
    const auto& args = reader_.args();
    if (args.empty()) return;  // an empty command: Redis ignores it, and so do we
    const auto name = upper(args[0]);
    slot s;
    const bool whole = reader_.retaining();  // every argument was read
    offer<command_toxic>(
        io, [&](const command_toxic& c) { return c.match().matches(args); },
        [&](const proxy::installed_toxic& t, const command_toxic& c) {
          if (const auto* d = dynamic_cast<const redis_delay_toxic*>(&c)) {
            s.delays.add(t, d->draw(io.random()));
            return true;
          }
          if (s.local || in_multi_) return true;  // one answer per command; none inside MULTI (see the header)
          if (const auto* e = dynamic_cast<const redis_error_toxic*>(&c)) {
            s.answer = error_reply(e->line());
          } else if (dynamic_cast<const redis_miss_toxic*>(&c) && whole) {
            s.answer = miss_reply(args, resp_);
          }
          if (!s.answer.empty()) {
            s.local = true;
            s.answer_counters = t.counters;
          }
          return true;
        });
    if (s.local) {
      forward_current_ = false;
      push_slot(std::move(s), io);
      return;
    }
    if (name == "MULTI") in_multi_ = true;
    if (name == "EXEC" || name == "DISCARD" || name == "RESET") in_multi_ = false;
    if (name == "HELLO" && args.size() >= 2) {
      int v = 0;
      auto [end, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), v);
      if (ec == std::errc() && end == args[1].data() + args[1].size()) s.hello = v;
    }
    if (name == "SUBSCRIBE" || name == "PSUBSCRIBE" || name == "SSUBSCRIBE" || name == "MONITOR" ||
        (name == "CLIENT" && args.size() >= 2 && upper(args[1]) == "REPLY")) {
      s.passthrough = true;  // replies no longer answer one command each
      passthrough_after_ = true;
    }
    push_slot(std::move(s), io);
  }

  void push_slot(slot s, proxy::session_io& io) {
    slots_.push_back(std::move(s));
    if (slots_.size() == 1) advance(io);
  }

  // ---- server -> client -------------------------------------------------------------------

  void from_server(std::string_view data, proxy::session_io& io) override {
    auto sink = [this, &io](std::string_view bytes) { replies_.push(io, bytes, target_.at, target_.holder); };
    while (!data.empty() && !replies_.cut()) {
      if (server_passthrough_) {
        replies_.push(io, data, {}, nullptr);
        return;
      }
      if (!reader_of_replies_.in_value() && !in_reply_) start_reply(data.front(), io);
      if (server_passthrough_) continue;
      in_reply_ = true;
      switch (reader_of_replies_.feed(data, sink)) {
        case reply_reader::status::more: return;
        case reply_reader::status::invalid:
          server_passthrough_ = true;
          proxy::proxy_log()->debug("redis session passes the rest of a connection through: the server sent what is not RESP");
          break;
        case reply_reader::status::push:  // answers no command
          in_reply_ = false;
          break;
        case reply_reader::status::reply:
          in_reply_ = false;
          if (answering_) {
            answering_ = false;
            auto& front = slots_.front();
            if (front.hello && reader_of_replies_.type() != '-') resp_ = front.hello;
            slots_.pop_front();
            advance(io);
          }
          break;
      }
    }
  }

  // A server value begins with `first`: which command it answers and when it may go out.
  void start_reply(char first, proxy::session_io& io) {
    target_ = {};
    answering_ = false;
    if (first == '>' || slots_.empty()) return;  // a push, or a reply nobody asked for (e.g. max clients)
    auto& front = slots_.front();
    if (front.passthrough) {
      server_passthrough_ = true;
      return;
    }
    answering_ = true;
    if (!front.started) {
      front.started = true;
      front.release_at = front.delays.start(io);
    }
    target_ = {front.release_at, front.delays.holder()};
  }

  // Sends the answers the session made once every reply before them went.
  void advance(proxy::session_io& io) {
    while (!slots_.empty() && slots_.front().local) {
      auto s = std::move(slots_.front());
      slots_.pop_front();
      count_affected(*s.answer_counters);
      auto at = s.delays.start(io);
      replies_.push(io, view(s.answer), at, s.delays.holder());
    }
  }

  command_reader reader_;
  bool decided_ = false;
  bool forward_current_ = true;
  bool passthrough_after_ = false;
  bool client_passthrough_ = false;
  bool in_multi_ = false;
  int resp_ = 2;

  std::deque<slot> slots_;
  reply_reader reader_of_replies_;
  bool in_reply_ = false;
  bool answering_ = false;  // the value being read answers slots_.front()
  bool server_passthrough_ = false;
  reply_target target_;

  std::vector<config_ptr> outages_seen_;
};

}  // namespace

std::unique_ptr<proxy::session> redis_protocol::open_session() const { return std::make_unique<redis_session>(); }

}  // namespace faultline::protocol::redis
