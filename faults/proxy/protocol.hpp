#pragma once
// The extension point for protocol-aware faults. Every connection of a proxy has one session,
// chosen by the proxy's `protocol` (tcp, postgres, redis). The session sits between the sockets
// and the byte-level toxic chains:
//
//   client --read--> session.on_data(upstream)   --forward--> [upstream toxics]   --> server
//   server --read--> session.on_data(downstream) --forward--> [downstream toxics] --> client
//
// A protocol session parses messages, and may hold them (call_at), answer them itself (forward
// in the opposite direction), drop them, or end the connection. Byte toxics still apply to what
// it forwards, so latency on a proxy delays injected replies too. Message-level toxics are
// toxic_configs whose protocol() names the proxy's protocol; the proxy does not run them on
// links but hands the current list to every session (session_io::message_toxics()), which
// applies them per message, toxicity included. `tcp` forwards bytes untouched.

#include "faults/proxy/chunk.hpp"
#include "faults/proxy/time.hpp"
#include "faults/proxy/toxic.hpp"

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::proxy {

// The message-level toxics of a proxy, as its sessions see them: each config is the protocol's
// own type (dynamic_cast to it); its counters count what the toxic did here.
using message_toxic_list = std::vector<installed_toxic>;

// What a session may do with its connection. Valid only during the call it was passed to.
class session_io {
public:
  virtual time_point now() const = 0;
  // Bytes into the toxic chain of direction d: upstream goes to the server, downstream to the
  // client. A reply to the client is forward(downstream, ...).
  virtual void forward(direction d, chunk c) = 0;
  virtual void end(direction d) = 0;  // end of stream (half-close) in direction d
  virtual void close() = 0;           // both sides, FIN
  virtual void reset() = 0;           // both sides, RST
  // Runs fn on the connection's thread at `at` (by the proxy's clock), unless the connection
  // ended first. fn gets the session_io again.
  virtual void call_at(time_point at, std::function<void(session_io&)> fn) = 0;
  virtual const message_toxic_list& message_toxics() const = 0;
  virtual std::mt19937_64& random() = 0;
  // Stops (true) or resumes (false) reading from the side that sends in direction d: the
  // back-pressure of a session that holds messages, so what it holds stays bounded.
  virtual void pause_reading(direction d, bool paused) = 0;

protected:
  ~session_io() = default;
};

// One connection's message pipeline.
class session {
public:
  virtual ~session() = default;
  // Bytes read in direction d (upstream: from the client).
  virtual void on_data(direction d, chunk c, session_io& io) = 0;
  // The side sending in direction d closed its half. Default: pass the end on.
  virtual void on_eof(direction d, session_io& io) { io.end(d); }
  // The connection started, or the proxy's message toxics changed (io.message_toxics() has the
  // new list). Lets a session act without waiting for data (an outage resets idle connections)
  // and pass on at once what it held for a toxic that is gone. Default: nothing.
  virtual void on_message_toxics(session_io& io) { (void)io; }
  // True when the session forwards every byte untouched, in order, in its own direction: the
  // connection may then move bytes without looking at them (zero-copy) while no toxic acts.
  virtual bool forwards_untouched() const { return false; }
};

class protocol {
public:
  virtual ~protocol() = default;
  virtual std::string_view name() const = 0;
  virtual std::unique_ptr<session> open_session() const = 0;
};

class protocol_registry {
public:
  // Throws std::logic_error when the name is taken.
  void add(std::shared_ptr<const protocol> p);
  std::shared_ptr<const protocol> find(std::string_view name) const;
  std::vector<std::string> names() const;

private:
  std::map<std::string, std::shared_ptr<const protocol>, std::less<>> protocols_;
};

// tcp, and (when their modules register here) the protocol-aware ones.
void register_builtin_protocols(protocol_registry& registry);

// Passes bytes on untouched; the session of `protocol: tcp`.
class tcp_protocol final : public protocol {
public:
  std::string_view name() const override { return "tcp"; }
  std::unique_ptr<session> open_session() const override;
};

}  // namespace faultline::proxy
