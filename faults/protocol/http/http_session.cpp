#include "faults/protocol/http/http_session.hpp"

#include "faults/protocol/http/h1_connection.hpp"
#include "faults/protocol/http/http_outputs.hpp"

namespace faultline::protocol::http {

using proxy::direction;

namespace {

class http_session final : public proxy::session {
public:
  void on_data(direction d, proxy::chunk c, proxy::session_io& io) override {
    if (c.what != proxy::chunk::kind::data || cut()) return;
    const std::string_view data(c.bytes.data(), c.bytes.size());
    if (d == direction::upstream) h1_.from_client(data, io);
    else h1_.from_server(data, io);
    flush(io);
  }

  void on_eof(direction d, proxy::session_io& io) override {
    if (d == direction::upstream) h1_.client_ended(io);
    else h1_.server_ended(io);
    flush(io);
  }

  void on_message_toxics(proxy::session_io& io) override {
    if (cut()) return;
    out_.to_server.release_orphans(io);
    out_.to_client.release_orphans(io);
  }

private:
  bool cut() const { return out_.to_client.cut() || out_.to_server.cut(); }

  void flush(proxy::session_io& io) {
    out_.to_server.flush(io);
    out_.to_client.flush(io);
  }

  http_outputs out_;
  h1_connection h1_{out_};
};

}  // namespace

std::unique_ptr<proxy::session> http_protocol::open_session() const { return std::make_unique<http_session>(); }

}  // namespace faultline::protocol::http
