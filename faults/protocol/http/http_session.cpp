#include "faults/protocol/http/http_session.hpp"

#include "faults/protocol/http/h1_connection.hpp"
#include "faults/protocol/http/h2_connection.hpp"
#include "faults/protocol/http/http_outputs.hpp"

#include <memory>
#include <string>

namespace faultline::protocol::http {

using proxy::direction;

namespace {

class http_session final : public proxy::session {
public:
  void on_data(direction d, proxy::chunk c, proxy::session_io& io) override {
    if (c.what != proxy::chunk::kind::data || cut()) return;
    const std::string_view data(c.bytes.data(), c.bytes.size());
    if (h2_) {
      if (d == direction::upstream) h2_->from_client(data, io);
      else h2_->from_server(data, io);
    } else {
      if (d == direction::upstream) h1_.from_client(data, io);
      else h1_.from_server(data, io);
      if (h1_.client_wire() == wire::http2) start_h2(io);
    }
    flush(io);
  }

  void on_eof(direction d, proxy::session_io& io) override {
    if (h2_) {
      if (d == direction::upstream) h2_->client_ended(io);
      else h2_->server_ended(io);
    } else if (d == direction::upstream) {
      h1_.client_ended(io);
    } else {
      h1_.server_ended(io);
    }
    flush(io);
  }

  void on_message_toxics(proxy::session_io& io) override {
    if (cut()) return;
    out_.to_server.release_orphans(io);
    out_.to_client.release_orphans(io);
    if (h2_) h2_->release_orphans(io);
    flush(io);
  }

private:
  bool cut() const { return out_.to_client.cut() || out_.to_server.cut(); }

  // HTTP/1.1 handed the connection over (a preface, or a 101 to h2c) with what it had not read.
  void start_h2(proxy::session_io& io) {
    h2_ = std::make_unique<h2_connection>(out_, h1_.upgraded_to_h2c());
    const std::string client = h1_.take_client_bytes(), server = h1_.take_server_bytes();
    if (!client.empty()) h2_->from_client(client, io);
    if (!server.empty()) h2_->from_server(server, io);
  }

  void flush(proxy::session_io& io) {
    out_.to_server.flush(io);
    out_.to_client.flush(io);
  }

  http_outputs out_;
  h1_connection h1_{out_};
  std::unique_ptr<h2_connection> h2_;
};

}  // namespace

std::unique_ptr<proxy::session> http_protocol::open_session() const { return std::make_unique<http_session>(); }

}  // namespace faultline::protocol::http
