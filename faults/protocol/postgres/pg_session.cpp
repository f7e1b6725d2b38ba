#include "faults/protocol/postgres/pg_session.hpp"

#include "faults/protocol/message_session.hpp"
#include "faults/protocol/message_toxic.hpp"
#include "faults/protocol/postgres/pg_toxics.hpp"
#include "faults/protocol/postgres/pg_wire.hpp"
#include "faults/proxy/log.hpp"

#include <fmt/format.h>

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace faultline::protocol::postgres {
namespace {

using proxy::direction;
using proxy::time_point;

// The substitutes sent to the server in place of a query pg_error answers: they fail at once,
// touch nothing, and put the server's transaction in the state the error implies (a transaction
// block becomes failed, as after a real error). Their text shows in the server's log.
std::string substitute_sql(const pg_error_toxic& e) { return fmt::format("faultline: injected pg_error {}", e.sqlstate()); }
std::string substitute_portal(const pg_error_toxic& e) { return fmt::format("faultline: injected pg_error {}", e.sqlstate()); }

// A prepared statement (and the portals bound to it), as the client parsed it.
struct statement {
  std::string sql;
  std::optional<class_set> classes;  // computed when a toxic first asks
};
using statement_ptr = std::shared_ptr<statement>;

// What the toxics chose for one query.
struct effects {
  reply_hold delays;
  std::shared_ptr<const pg_error_toxic> error;
  std::shared_ptr<const pg_drop_toxic> drop;
  counters_ptr answer_counters;  // of error or drop
};

// What the client waits for, in the order the server answers.
struct slot {
  enum class kind {
    startup,             // authentication and parameters up to the first ReadyForQuery
    until_ready,         // simple query or function call: up to ReadyForQuery
    parse,               // ParseComplete
    bind,                // BindComplete
    describe_statement,  // ParameterDescription, then RowDescription or NoData
    describe_portal,     // RowDescription or NoData
    execute,             // DataRows, then CommandComplete / EmptyQueryResponse / PortalSuspended
    close,               // CloseComplete
    sync,                // ReadyForQuery
    copy_end,            // marks where the client ended a COPY IN (no response of its own)
    local,               // answered by the session itself
  };
  kind what = kind::until_ready;
  effects fx;
  // local: the answer, and whether the connection ends after it.
  proxy::byte_buffer answer;
  bool cut_after = false;
  // progress
  bool started = false;
  bool error_replaced = false;
  time_point release_at{};
};

// Where the bytes of the server message being read go.
struct reply_target {
  bool discard = false;
  time_point at{};
  config_ptr holder;
};

class pg_session final : public message_session {
public:
  void on_message_toxics(proxy::session_io& io) override { replies_.release_orphans(io); }

private:
  enum class phase { startup, messages, passthrough };

  // ---- client -> server -------------------------------------------------------------------

  void client_ended() override {
    if (!ignore_client_) append(to_server_, view(client_head_));
    client_head_.clear();
  }

  void from_client(std::string_view data, proxy::session_io& io) override {
    while (!data.empty()) {
      if (ignore_client_ || replies_.cut()) return;  // the connection is ending
      if (client_body_left_ > 0) {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(client_body_left_, data.size()));
        if (client_body_to_server_) append(to_server_, data.substr(0, n));
        client_body_left_ -= n;
        data.remove_prefix(n);
        continue;
      }
      if (phase_ == phase::passthrough) {
        append(to_server_, data);
        return;
      }
      const std::size_t header = phase_ == phase::startup ? 4 : 5;
      take(client_head_, data, header);
      if (client_head_.size() < header) return;
      auto want = client_head_size();
      if (!want) {
        go_passthrough("client sent a message the session cannot frame");
        append(to_server_, view(client_head_));
        client_head_.clear();
        continue;
      }
      take(client_head_, data, *want);
      if (client_head_.size() < *want) return;
      client_message(io);
      client_head_.clear();
    }
  }

  // The bytes of the current client message to collect before deciding: the whole startup
  // message, or a typed message's header and the part of its body that is read.
  std::optional<std::size_t> client_head_size() const {
    if (phase_ == phase::startup) {
      auto length = read_u32(client_head_.data());
      if (length < 8 || length > max_startup_length) return std::nullopt;
      return length;
    }
    auto h = read_typed_header(view(client_head_));
    if (!h) return std::nullopt;
    return 5 + std::min<std::size_t>(h->body_length, inspected_bytes(h->type));
  }

  static std::size_t inspected_bytes(char type) {
    switch (type) {
      case 'Q':
      case 'P': return max_inspected;
      case 'B':
      case 'E':
      case 'D':
      case 'C': return 4096;  // names come first; Bind's parameter values are not read
      default: return 0;
    }
  }

  void client_message(proxy::session_io& io) {
    if (phase_ == phase::startup) {
      startup_message(io);
      return;
    }
    auto h = *read_typed_header(view(client_head_));
    std::string_view body = view(client_head_).substr(5);
    client_body_left_ = h.body_length - body.size();
    client_body_to_server_ = true;
    body_reader r(body);
    switch (h.type) {
      case 'Q': {
        if (server_skipping_) break;  // discarded by the server until Sync, like everything else
        auto sql = r.cstring().value_or(body);
        slot s;
        s.what = slot::kind::until_ready;
        std::optional<class_set> classes;
        s.fx = evaluate(sql, classes, io);
        if (answer_fatal(s.fx, io)) return;
        if (s.fx.error) {  // the query is replaced; the server's error is replaced by ours
          send_instead(query_message(substitute_sql(*s.fx.error)));
          push_slot(std::move(s), io);
          return;
        }
        push_slot(std::move(s), io);
        break;
      }
      case 'P': {
        auto name = r.cstring();
        auto sql = r.cstring();
        if (name) statements_[std::string(*name)] = std::make_shared<statement>(statement{std::string(sql.value_or(r.rest())), std::nullopt});
        push_extended(slot::kind::parse, io);
        break;
      }
      case 'B': {
        auto portal = r.cstring();
        auto name = r.cstring();
        if (portal) {
          auto it = name ? statements_.find(std::string(*name)) : statements_.end();
          if (it != statements_.end()) portals_[std::string(*portal)] = it->second;
          else portals_.erase(std::string(*portal));
        }
        push_extended(slot::kind::bind, io);
        break;
      }
      case 'D': {
        auto what = r.byte();
        push_extended(what == 'S' ? slot::kind::describe_statement : slot::kind::describe_portal, io);
        break;
      }
      case 'E': {
        if (server_skipping_) break;
        auto portal = r.cstring();
        slot s;
        s.what = slot::kind::execute;
        if (portal) {
          auto it = portals_.find(std::string(*portal));
          if (it != portals_.end()) s.fx = evaluate(it->second->sql, it->second->classes, io);
        }
        if (answer_fatal(s.fx, io)) return;
        if (s.fx.error) {
          send_instead(execute_message(substitute_portal(*s.fx.error), 0));
          push_slot(std::move(s), io);
          return;
        }
        push_slot(std::move(s), io);
        break;
      }
      case 'C': {
        auto what = r.byte();
        auto name = r.cstring();
        if (what && name) (*what == 'S' ? statements_ : portals_).erase(std::string(*name));
        push_extended(slot::kind::close, io);
        break;
      }
      case 'S':
        if (ignore_syncs_) break;  // the server is in COPY IN and ignores it
        server_skipping_ = false;
        push_slot(slot{slot::kind::sync}, io);
        break;
      case 'F':
        if (!server_skipping_) push_slot(slot{slot::kind::until_ready}, io);
        break;
      case 'c':
      case 'f':
        if (ignore_syncs_) ignore_syncs_ = false;
        else push_slot(slot{slot::kind::copy_end}, io);
        break;
      default: break;  // CopyData, Flush, Terminate, password messages, unknown types: passed on
    }
    append(to_server_, view(client_head_));
  }

  void startup_message(proxy::session_io& io) {
    auto code = read_u32(client_head_.data() + 4);
    if ((code == ssl_request_code || code == gssenc_request_code) && client_head_.size() == 8) {
      // Not passed on: the server never starts TLS or GSS encryption, so the session can read
      // the conversation. The client goes on in plaintext (or stops if it requires encryption).
      slot s;
      s.what = slot::kind::local;
      s.answer.push_back('N');
      push_slot(std::move(s), io);
      return;
    }
    if (code == cancel_request_code) {
      append(to_server_, view(client_head_));
      phase_ = phase::passthrough;  // a cancel connection carries nothing else
      return;
    }
    if ((code >> 16) != protocol_major_3) {
      append(to_server_, view(client_head_));
      go_passthrough(fmt::format("startup asks for protocol {}.{}", code >> 16, code & 0xffff));
      return;
    }
    if (auto refuse = choose_refusal(io)) {  // the server never sees this startup
      slot s;
      s.what = slot::kind::local;
      s.answer = error_response("FATAL", refuse->first->sqlstate(), refuse->first->message());
      s.cut_after = true;
      s.fx.answer_counters = refuse->second;
      ignore_client_ = true;
      push_slot(std::move(s), io);
      return;
    }
    append(to_server_, view(client_head_));
    phase_ = phase::messages;
    push_slot(slot{slot::kind::startup}, io);
  }

  // The first pg_refuse toxic that chooses this connection (every connection matches).
  std::optional<std::pair<std::shared_ptr<const pg_refuse_toxic>, counters_ptr>> choose_refusal(proxy::session_io& io) {
    std::optional<std::pair<std::shared_ptr<const pg_refuse_toxic>, counters_ptr>> out;
    offer<pg_refuse_toxic>(io, [](const pg_refuse_toxic&) { return true; },
                           [&](const proxy::installed_toxic& t, const pg_refuse_toxic&) {
                             out.emplace(std::static_pointer_cast<const pg_refuse_toxic>(t.config), t.counters);
                             return false;  // refused: no other toxic sees this connection
                           });
    return out;
  }

  // Which toxics act on this query. `classes` caches the statement classes of `sql`
  // (classified when a toxic first asks).
  effects evaluate(std::string_view sql, std::optional<class_set>& classes, proxy::session_io& io) {
    effects fx;
    offer<query_toxic>(
        io,
        [&](const query_toxic& q) {
          if (q.match().wants_classes() && !classes) classes = classify(sql);
          return q.match().matches({sql, classes.value_or(class_set{})});
        },
        [&](const proxy::installed_toxic& t, const query_toxic& q) {
          if (const auto* d = dynamic_cast<const pg_delay_toxic*>(&q)) {
            fx.delays.add(t, d->draw(io.random()));
          } else if (!fx.error && !fx.drop) {  // one answer per query: the first toxic that chose it
            if (dynamic_cast<const pg_error_toxic*>(&q)) fx.error = std::static_pointer_cast<const pg_error_toxic>(t.config);
            else if (dynamic_cast<const pg_drop_toxic*>(&q)) fx.drop = std::static_pointer_cast<const pg_drop_toxic>(t.config);
            if (fx.error || fx.drop) fx.answer_counters = t.counters;
          }
          return true;
        });
    return fx;
  }

  // pg_error with severity FATAL: answered here and the connection ends; the server never sees
  // the query. True when it took the query.
  bool answer_fatal(effects& fx, proxy::session_io& io) {
    if (!fx.error || !fx.error->fatal()) return false;
    slot s;
    s.what = slot::kind::local;
    s.answer = error_response("FATAL", fx.error->sqlstate(), fx.error->message());
    s.cut_after = true;
    s.fx = std::move(fx);
    ignore_client_ = true;
    push_slot(std::move(s), io);
    return true;
  }

  // The current message goes to the server as `replacement` instead.
  void send_instead(const proxy::byte_buffer& replacement) {
    append(to_server_, view(replacement));
    client_body_to_server_ = false;  // the rest of the original body (if any) is dropped
  }

  void push_extended(slot::kind k, proxy::session_io& io) {
    if (server_skipping_) return;
    push_slot(slot{k}, io);
  }

  void push_slot(slot s, proxy::session_io& io) {
    slots_.push_back(std::move(s));
    if (slots_.size() == 1) advance(io);
  }

  // ---- server -> client -------------------------------------------------------------------

  void server_ended(proxy::session_io& io) override {
    if (!server_head_.empty()) replies_.push(io, view(server_head_), {}, nullptr);
    server_head_.clear();
  }

  void from_server(std::string_view data, proxy::session_io& io) override {
    while (!data.empty() && !replies_.cut()) {
      if (server_body_left_ > 0) {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(server_body_left_, data.size()));
        if (!server_target_.discard) replies_.push(io, data.substr(0, n), server_target_.at, server_target_.holder);
        server_body_left_ -= n;
        data.remove_prefix(n);
        continue;
      }
      if (phase_ == phase::passthrough) {
        replies_.push(io, data, {}, nullptr);
        return;
      }
      take(server_head_, data, 5);
      if (server_head_.size() < 5) return;
      auto h = read_typed_header(view(server_head_));
      if (!h) {
        go_passthrough("server sent a message the session cannot frame");
        replies_.push(io, view(server_head_), {}, nullptr);
        server_head_.clear();
        continue;
      }
      server_target_ = server_message(h->type, io);
      server_body_left_ = h->body_length;
      if (!server_target_.discard) replies_.push(io, view(server_head_), server_target_.at, server_target_.holder);
      server_head_.clear();
    }
  }

  static bool asynchronous(char type) { return type == 'N' || type == 'A' || type == 'S'; }

  // Decides where a server message goes, from its type: which request it answers, whether that
  // request's response is held, replaced or cut off.
  reply_target server_message(char type, proxy::session_io& io) {
    if (phase_ == phase::passthrough || slots_.empty() || asynchronous(type)) return {};
    auto& front = slots_.front();
    if (!expected(front.what, type)) {
      go_passthrough(fmt::format("server message '{}' does not answer the pending request", type));
      return {};
    }
    if (!front.started) {
      front.started = true;
      if (front.fx.drop) {
        count_affected(*front.fx.answer_counters);
        count_cut(*front.fx.answer_counters, front.fx.drop->reset());
        replies_.push_cut(io, front.fx.drop->reset());  // the server ran it; the client never hears back
        return {true, {}, nullptr};
      }
      front.release_at = front.fx.delays.start(io);
    }
    reply_target target{false, front.release_at, front.fx.delays.holder()};
    if (front.fx.error && type == 'E' && !front.error_replaced) {
      front.error_replaced = true;
      count_affected(*front.fx.answer_counters);
      auto ours = error_response("ERROR", front.fx.error->sqlstate(), front.fx.error->message());
      replies_.push(io, view(ours), target.at, target.holder);
      target.discard = true;
    }
    complete_if_done(type, io);
    return target;
  }

  static bool expected(slot::kind k, char type) {
    auto in = [type](std::string_view types) { return types.find(type) != std::string_view::npos; };
    switch (k) {
      case slot::kind::startup:
      case slot::kind::until_ready: return true;
      case slot::kind::parse: return in("1E");
      case slot::kind::bind: return in("2E");
      case slot::kind::describe_statement: return in("tTnE");
      case slot::kind::describe_portal: return in("TnE");
      case slot::kind::execute: return in("DCIsEGHWdc");
      case slot::kind::close: return in("3E");
      case slot::kind::sync: return in("ZE");
      case slot::kind::copy_end:
      case slot::kind::local: return false;  // never at the front when a message arrives
    }
    return false;
  }

  void complete_if_done(char type, proxy::session_io& io) {
    auto& front = slots_.front();
    switch (front.what) {
      case slot::kind::startup:
      case slot::kind::until_ready:
        if (type == 'W') go_passthrough("CopyBoth (replication) started");
        if (type == 'Z') pop(io);
        return;
      case slot::kind::sync:
        if (type == 'Z') pop(io);
        return;
      case slot::kind::describe_statement:
        if (type == 'T' || type == 'n') pop(io);
        break;
      case slot::kind::execute:
        if (type == 'C' || type == 'I' || type == 's') pop(io);
        else if (type == 'G') copy_in_started();
        else if (type == 'W') go_passthrough("CopyBoth (replication) started");
        break;
      default:
        if (type != 'E') pop(io);  // ParseComplete, BindComplete, RowDescription/NoData, CloseComplete
        break;
    }
    if (type == 'E') extended_error(io);
  }

  // An error in an extended-query batch: the server skips everything up to the next Sync, so
  // the requests in between get no response.
  // A FATAL answer of the session stays: the client's messages after it were not passed on.
  void extended_error(proxy::session_io& io) {
    slots_.pop_front();
    ignore_syncs_ = false;  // an error ends COPY IN
    auto it = slots_.begin();
    while (it != slots_.end() && it->what != slot::kind::sync)
      it = it->what == slot::kind::local && it->cut_after ? std::next(it) : slots_.erase(it);
    if (it == slots_.end()) server_skipping_ = true;
    advance(io);
  }

  // COPY IN from an extended query: the server ignores Sync until the client's CopyDone or
  // CopyFail, so Syncs the client sent before that get no ReadyForQuery.
  void copy_in_started() {
    for (auto it = std::next(slots_.begin()); it != slots_.end();) {
      if (it->what == slot::kind::copy_end) {
        slots_.erase(it);
        return;
      }
      it = it->what == slot::kind::sync ? slots_.erase(it) : std::next(it);
    }
    ignore_syncs_ = true;  // the client has not ended the COPY yet
  }

  void pop(proxy::session_io& io) {
    slots_.pop_front();
    advance(io);
  }

  // Sends what the session answers itself once everything before it went.
  void advance(proxy::session_io& io) {
    while (!slots_.empty()) {
      auto& front = slots_.front();
      if (front.what == slot::kind::copy_end) {
        slots_.pop_front();
        continue;
      }
      if (front.what != slot::kind::local) return;
      auto s = std::move(front);
      slots_.pop_front();
      if (s.fx.answer_counters) count_affected(*s.fx.answer_counters);
      auto at = s.fx.delays.start(io);
      replies_.push(io, view(s.answer), at, s.fx.delays.holder());
      if (s.cut_after) {
        if (s.fx.answer_counters) count_cut(*s.fx.answer_counters, false);
        replies_.push_cut(io, false);
        return;
      }
    }
  }

  // ---- framing helpers ---------------------------------------------------------------------

  // Moves bytes from `data` into `head` until it holds `size` bytes.
  static void take(proxy::byte_buffer& head, std::string_view& data, std::size_t size) {
    if (head.size() >= size) return;
    auto n = std::min(size - head.size(), data.size());
    append(head, data.substr(0, n));
    data.remove_prefix(n);
  }

  void go_passthrough(const std::string& why) {
    if (phase_ != phase::passthrough) proxy::proxy_log()->debug("postgres session passes the rest of a connection through: {}", why);
    phase_ = phase::passthrough;
  }

  phase phase_ = phase::startup;
  std::deque<slot> slots_;
  bool server_skipping_ = false;  // after an error in an extended batch, until the client's Sync
  bool ignore_syncs_ = false;     // the server is in COPY IN from an extended query
  bool ignore_client_ = false;    // the session answered FATAL: the connection is ending
  std::unordered_map<std::string, statement_ptr> statements_;
  std::unordered_map<std::string, statement_ptr> portals_;

  proxy::byte_buffer client_head_;
  std::uint64_t client_body_left_ = 0;
  bool client_body_to_server_ = true;

  proxy::byte_buffer server_head_;
  std::uint64_t server_body_left_ = 0;
  reply_target server_target_;

};

}  // namespace

std::unique_ptr<proxy::session> postgres_protocol::open_session() const { return std::make_unique<pg_session>(); }

}  // namespace faultline::protocol::postgres
