// API conformance: replays the requests of Toxiproxy's README and api_test.go against the
// `faultline proxy` daemon and compares status codes and bodies byte for byte.
#include "tests/faults/proxy/daemon.hpp"
#include "tests/faults/proxy/loopback.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace faultline::test;

namespace {

struct exchange {
  const char* method;
  const char* target;
  const char* body;
  unsigned status;
  const char* expected;  // exact body; "$LISTEN" stands for mysql_master's bound address
};

std::string fill(std::string text, const std::string& listen) {
  for (auto at = text.find("$LISTEN"); at != std::string::npos; at = text.find("$LISTEN")) text.replace(at, 7, listen);
  return text;
}

void replay(const std::string& api, const std::vector<exchange>& steps, const std::string& listen) {
  for (const auto& s : steps) {
    INFO(s.method << " " << s.target << " " << s.body);
    auto r = http(api, s.method, s.target, fill(s.body, listen));
    CHECK(r.status == s.status);
    CHECK(r.body == fill(s.expected, listen));
  }
}

}  // namespace

TEST_CASE("the control API answers Toxiproxy's documented requests as Toxiproxy does", "[faults][proxy]") {
  daemon_process d;
  CHECK(http(d.api, "GET", "/proxies").body == "{}");

  auto created = http(d.api, "POST", "/proxies", R"({"name":"mysql_master","listen":"localhost:0","upstream":"localhost:20001"})");
  REQUIRE(created.status == 201);
  CHECK(created.content_type == "application/json");
  auto listen = nlohmann::json::parse(created.body)["listen"].get<std::string>();
  CHECK(listen.rfind("127.0.0.1:", 0) == 0);  // localhost resolved, the real port reported
  CHECK(created.body == fill(R"({"name":"mysql_master","listen":"$LISTEN","upstream":"localhost:20001","enabled":true,"toxics":[]})", listen));

  replay(d.api,
         {
             // proxies
             {"POST", "/proxies", R"({"name":"mysql_master","listen":"localhost:0","upstream":"localhost:20001"})", 409,
              "{\"error\":\"proxy already exists\",\"status\":409}\n"},
             {"POST", "/proxies", "{}", 400, "{\"error\":\"missing required field: name\",\"status\":400}\n"},
             {"POST", "/proxies", R"({"name":"test"})", 400, "{\"error\":\"missing required field: upstream\",\"status\":400}\n"},
             {"POST", "/proxies", R"({"name":"test","listen":"$LISTEN","upstream":"localhost:20001"})", 500,
              "{\"error\":\"listen tcp $LISTEN: bind: address already in use\",\"status\":500}\n"},
             {"GET", "/proxies/mysql_master", "", 200,
              R"({"name":"mysql_master","listen":"$LISTEN","upstream":"localhost:20001","enabled":true,"toxics":[]})"},
             {"GET", "/proxies/nope", "", 404, "{\"error\":\"proxy not found\",\"status\":404}\n"},
             {"DELETE", "/proxies/nope", "", 404, "{\"error\":\"proxy not found\",\"status\":404}\n"},
             // toxics
             {"GET", "/proxies/mysql_master/toxics", "", 200, "[]"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":100,"jitter":10}})", 200,
              R"({"attributes":{"latency":100,"jitter":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1})"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":100}})", 409,
              "{\"error\":\"toxic already exists\",\"status\":409}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"name":"latency_downstream","type":"slow_close"})", 409,
              "{\"error\":\"toxic already exists\",\"status\":409}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"name":"foobar","type":"slow_close","stream":"upstream"})", 200,
              R"({"attributes":{"delay":0},"name":"foobar","type":"slow_close","stream":"upstream","toxicity":1})"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","stream":"walrustream"})", 400,
              "{\"error\":\"stream was invalid, can be either upstream or downstream\",\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"nope"})", 400, "{\"error\":\"invalid toxic type\",\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","stream":"upstream","toxicity":0.2,"attributes":{"latency":100,"jitter":10}})",
              200, R"({"attributes":{"latency":100,"jitter":10},"name":"latency_upstream","type":"latency","stream":"upstream","toxicity":0.2})"},
             {"POST", "/proxies/mysql_master/toxics", R"({"name":"n","type":"noop"})", 200,
              R"({"attributes":{},"name":"n","type":"noop","stream":"downstream","toxicity":1})"},
             {"GET", "/proxies/mysql_master/toxics", "", 200,
              R"([{"attributes":{"delay":0},"name":"foobar","type":"slow_close","stream":"upstream","toxicity":1},)"
              R"({"attributes":{"latency":100,"jitter":10},"name":"latency_upstream","type":"latency","stream":"upstream","toxicity":0.2},)"
              R"({"attributes":{"latency":100,"jitter":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":1},)"
              R"({"attributes":{},"name":"n","type":"noop","stream":"downstream","toxicity":1}])"},
             // update merges attributes and keeps what is not given
             {"PATCH", "/proxies/mysql_master/toxics/latency_downstream", R"({"attributes":{"latency":1000},"toxicity":0.5})", 200,
              R"({"attributes":{"latency":1000,"jitter":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":0.5})"},
             {"POST", "/proxies/mysql_master/toxics/latency_downstream", R"({"attributes":{"latency":500}})", 200,
              R"({"attributes":{"latency":500,"jitter":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":0.5})"},
             {"GET", "/proxies/mysql_master/toxics/latency_downstream", "", 200,
              R"({"attributes":{"latency":500,"jitter":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":0.5})"},
             // an update out of range (issue 16: it was stored as -1) is refused and changes nothing
             {"PATCH", "/proxies/mysql_master/toxics/latency_downstream", R"({"attributes":{"latency":9223372036854775807}})", 400,
              "{\"error\":\"bad request body: attribute 'latency' must be at most 86400000 milliseconds (24h), got 9223372036854775807\","
              "\"status\":400}\n"},
             {"PATCH", "/proxies/mysql_master/toxics/latency_downstream", R"({"attributes":{"jitter":501}})", 400,
              "{\"error\":\"bad request body: attribute 'jitter' (501) is larger than 'latency' (500): delays would be cut off at 0; make jitter "
              "at most the latency\",\"status\":400}\n"},
             {"GET", "/proxies/mysql_master/toxics/latency_downstream", "", 200,
              R"({"attributes":{"latency":500,"jitter":10},"name":"latency_downstream","type":"latency","stream":"downstream","toxicity":0.5})"},
             {"GET", "/proxies/mysql_master/toxics/nope", "", 404, "{\"error\":\"toxic not found\",\"status\":404}\n"},
             {"PATCH", "/proxies/mysql_master/toxics/nope", R"({"attributes":{}})", 404, "{\"error\":\"toxic not found\",\"status\":404}\n"},
             {"GET", "/proxies/nope/toxics", "", 404, "{\"error\":\"proxy not found\",\"status\":404}\n"},
             {"DELETE", "/proxies/mysql_master/toxics/latency_downstream", "", 204, ""},
             {"DELETE", "/proxies/mysql_master/toxics/latency_downstream", "", 404, "{\"error\":\"toxic not found\",\"status\":404}\n"},
             // a number beyond a double is a bad body, not an internal error (it was a 500)
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":1e400}})", 400,
              "{\"error\":\"bad request body: number overflow parsing '1e400'\",\"status\":400}\n"},
             // what Toxiproxy leaves unchecked, faultline refuses
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","toxicity":1.5})", 400,
              "{\"error\":\"bad request body: toxicity must be between 0 and 1, got 1.5\",\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":-5}})", 400,
              "{\"error\":\"bad request body: attribute 'latency' must be a whole number of milliseconds (0 or more), got -5\",\"status\":400}\n"},
             // every numeric attribute has a range; the error names it (issue 16: these were stored as -1 and -8446744073709.552)
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":9223372036854775807}})", 400,
              "{\"error\":\"bad request body: attribute 'latency' must be at most 86400000 milliseconds (24h), got 9223372036854775807\","
              "\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":10000000000000}})", 400,
              "{\"error\":\"bad request body: attribute 'latency' must be at most 86400000 milliseconds (24h), got 10000000000000\","
              "\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":100,"jitter":9223372036854775807}})", 400,
              "{\"error\":\"bad request body: attribute 'jitter' must be at most 86400000 milliseconds (24h), got 9223372036854775807\","
              "\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"latency","attributes":{"latency":1.5}})", 400,
              "{\"error\":\"bad request body: attribute 'latency' must be a whole number of milliseconds (0 or more), got 1.5\",\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"bandwidth","attributes":{"rate":100000001}})", 400,
              "{\"error\":\"bad request body: attribute 'rate' must be at most 100000000 KB/s (100000MB/s), got 100000001\",\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"limit_data","attributes":{"bytes":18446744073709551615}})", 400,
              "{\"error\":\"bad request body: attribute 'bytes' must be at most 1099511627776 bytes (1024GiB), got 18446744073709551615\","
              "\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"slicer","attributes":{"delay":86400000001}})", 400,
              "{\"error\":\"bad request body: attribute 'delay' must be at most 86400000000 microseconds (24h), got 86400000001\","
              "\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"bandwidth"})", 400,
              "{\"error\":\"bad request body: missing required attribute 'rate' (a whole number of KB/s)\",\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", R"({"type":"slicer","attributes":{"average_size":10,"size_variation":10}})", 400,
              "{\"error\":\"bad request body: attribute 'size_variation' (10) must be smaller than 'average_size' (10)\",\"status\":400}\n"},
             {"POST", "/proxies/mysql_master/toxics", "", 400, "{\"error\":\"bad request body: EOF\",\"status\":400}\n"},
             // disable, reset
             {"POST", "/proxies/mysql_master", R"({"enabled":false})", 200,
              R"({"name":"mysql_master","listen":"$LISTEN","upstream":"localhost:20001","enabled":false,"toxics":[)"
              R"({"attributes":{"delay":0},"name":"foobar","type":"slow_close","stream":"upstream","toxicity":1},)"
              R"({"attributes":{"latency":100,"jitter":10},"name":"latency_upstream","type":"latency","stream":"upstream","toxicity":0.2},)"
              R"({"attributes":{},"name":"n","type":"noop","stream":"downstream","toxicity":1}]})"},
             {"POST", "/reset", "", 204, ""},
             {"GET", "/proxies/mysql_master", "", 200,
              R"({"name":"mysql_master","listen":"$LISTEN","upstream":"localhost:20001","enabled":true,"toxics":[]})"},
             // populate
             {"POST", "/populate", R"([{"name":"one","listen":"127.0.0.1:0","upstream":"localhost:7171"},{"name":"","listen":"","enabled":true}])", 400,
              R"({"error":"missing required field: name at proxy 2","status":400,"proxies":null})"},
             {"POST", "/populate", "[]", 201, R"({"proxies":null})"},
             {"POST", "/populate", R"([{"name":"mysql_master","listen":"$LISTEN","upstream":"localhost:20001"}])", 201,
              R"({"proxies":[{"name":"mysql_master","listen":"$LISTEN","upstream":"localhost:20001","enabled":true,"toxics":[]}]})"},
             // everything else
             {"DELETE", "/proxies/mysql_master", "", 204, ""},
             {"DELETE", "/proxies/mysql_master", "", 404, "{\"error\":\"proxy not found\",\"status\":404}\n"},
             {"GET", "/version", "", 200, "{\"version\": \"" FAULTLINE_VERSION "\"}\n"},
             {"GET", "/nowhere", "", 404, "404 page not found\n"},
             {"PUT", "/proxies", "{}", 405, ""},
         },
         listen);
}

TEST_CASE("populate creates, keeps equal proxies and their toxics, and replaces changed ones", "[faults][proxy]") {
  daemon_process d;
  auto r = http(d.api, "POST", "/populate",
                R"([{"name":"one","listen":"127.0.0.1:0","upstream":"localhost:7171"},)"
                R"({"name":"two","listen":"127.0.0.1:0","upstream":"localhost:7474","enabled":false}])");
  REQUIRE(r.status == 201);
  auto j = nlohmann::json::parse(r.body);
  REQUIRE(j["proxies"].size() == 2);
  CHECK(j["proxies"][0]["name"] == "one");
  CHECK(j["proxies"][1]["enabled"] == false);
  CHECK(j["proxies"][1]["listen"] == "127.0.0.1:0");  // a disabled proxy keeps the address it was given
  auto one = j["proxies"][0]["listen"].get<std::string>();
  REQUIRE(http(d.api, "POST", "/proxies/one/toxics", R"({"type":"latency"})").status == 200);

  // Same listen and upstream: left alone, toxics kept (Toxiproxy's TestPopulateExistingProxy).
  r = http(d.api, "POST", "/populate", R"([{"name":"one","listen":")" + one + R"(","upstream":"localhost:7171"}])");
  CHECK(r.status == 201);
  CHECK(nlohmann::json::parse(r.body)["proxies"][0]["toxics"].size() == 1);
  // Another upstream: replaced.
  r = http(d.api, "POST", "/populate", R"([{"name":"one","listen":"127.0.0.1:0","upstream":"localhost:7272"}])");
  CHECK(r.status == 201);
  CHECK(nlohmann::json::parse(r.body)["proxies"][0]["toxics"].empty());
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies").body).size() == 2);
}

TEST_CASE("populate is all or nothing when a listener cannot be bound", "[faults][proxy]") {
  daemon_process d;
  auto busy = nlohmann::json::parse(http(d.api, "POST", "/proxies", R"({"name":"busy","upstream":"localhost:1"})").body)["listen"].get<std::string>();
  auto r = http(d.api, "POST", "/populate",
                R"([{"name":"fresh","upstream":"localhost:2"},{"name":"clash","listen":")" + busy + R"(","upstream":"localhost:3"}])");
  CHECK(r.status == 500);
  CHECK(r.body == R"({"error":"listen tcp )" + busy + R"(: bind: address already in use","status":500,"proxies":null})");
  auto all = nlohmann::json::parse(http(d.api, "GET", "/proxies").body);
  CHECK(all.size() == 1);
  CHECK(all.contains("busy"));
}

TEST_CASE("toxics can be given when a proxy is created", "[faults][proxy]") {
  daemon_process d;
  auto r = http(d.api, "POST", "/proxies",
                R"({"name":"p","upstream":"localhost:1","toxics":[{"type":"latency","attributes":{"latency":10}},{"type":"timeout","stream":"upstream"}]})");
  REQUIRE(r.status == 201);
  auto toxics = nlohmann::json::parse(r.body)["toxics"];
  REQUIRE(toxics.size() == 2);
  CHECK(toxics[0]["name"] == "timeout_upstream");
  CHECK(toxics[1]["name"] == "latency_downstream");
  r = http(d.api, "POST", "/proxies", R"({"name":"q","upstream":"localhost:1","toxics":[{"type":"nope"}]})");
  CHECK(r.status == 400);
  CHECK(http(d.api, "GET", "/proxies/q").status == 404);  // nothing was created
}

TEST_CASE("browsers are refused and metrics are served", "[faults][proxy]") {
  daemon_process d;
  auto r = http(d.api, "GET", "/proxies", "", {{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64)"}});
  CHECK(r.status == 403);
  CHECK(r.body == "User agent not allowed\n");
  http(d.api, "POST", "/proxies", R"({"name":"m","upstream":"localhost:1"})");
  http(d.api, "POST", "/proxies/m/toxics", R"({"type":"latency"})");
  r = http(d.api, "GET", "/metrics");
  CHECK(r.status == 200);
  CHECK(r.content_type.rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("# TYPE toxiproxy_proxy_received_bytes_total counter") != std::string::npos);
  CHECK(r.body.find("faultline_proxy_connections_active{proxy=\"m\"} 0") != std::string::npos);
  CHECK(r.body.find("faultline_proxy_toxic_effect_total{counter=\"links_total\",proxy=\"m\",stream=\"downstream\",toxic=\"latency_downstream\",type=\"latency\"} 0") !=
        std::string::npos);
}

TEST_CASE("a bearer token guards the API", "[faults][proxy]") {
  daemon_process d({"--token", "s3cret"});
  auto r = http(d.api, "GET", "/proxies");
  CHECK(r.status == 401);
  CHECK(r.body.find("bearer token") != std::string::npos);
  CHECK(http(d.api, "GET", "/proxies", "", {{"Authorization", "Bearer wrong"}}).status == 401);
  CHECK(http(d.api, "GET", "/proxies", "", {{"Authorization", "Bearer s3cret"}}).status == 200);
}

TEST_CASE("the daemon proxies traffic, loads --config with toxics, and exits 0 on SIGTERM", "[faults][proxy]") {
  loopback_server echo(loopback_server::mode::echo);
  auto dir = std::filesystem::temp_directory_path() / ("faultline-config-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream f(dir / "proxies.json");
    f << R"([{"name":"echo","listen":"127.0.0.1:0","upstream":")" << echo.address()
      << R"(","toxics":[{"type":"latency","attributes":{"latency":50}}]}])";
  }
  daemon_process d({"--config", (dir / "proxies.json").string()});
  auto p = nlohmann::json::parse(http(d.api, "GET", "/proxies/echo").body);
  CHECK(p["toxics"].size() == 1);
  boost::asio::io_context ioc;
  auto s = connect_to(ioc, p["listen"].get<std::string>());
  auto start = std::chrono::steady_clock::now();
  boost::asio::write(s, boost::asio::buffer(std::string("hello")));
  boost::system::error_code ec;
  CHECK(read_exactly(s, 5, ec) == "hello");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(50));
  CHECK(d.stop() == 0);
  auto [rest, rec] = read_to_end(s);  // the daemon closed the connection on its way out
  CHECK(rec == boost::asio::error::eof);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the daemon refuses bad input with exit code 2 and a message naming the fix", "[faults][proxy]") {
  auto dir = std::filesystem::temp_directory_path() / ("faultline-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {faultline_binary(), "proxy"});
    auto pid = spawn(args, dir / "out.log");
    auto code = wait_for(pid, std::chrono::seconds(20));
    return std::pair{code, slurp(dir / "out.log")};
  };
  auto [code, out] = run({"--api", "0.0.0.0:0"});
  CHECK(code == 2);
  CHECK(out.find("--allow-non-loopback") != std::string::npos);
  {
    std::ofstream f(dir / "bad.json");
    f << R"([{"name":"a","listen":"127.0.0.1:0"}])";
  }
  std::tie(code, out) = run({"--api", "127.0.0.1:0", "--config", (dir / "bad.json").string()});
  CHECK(code == 2);
  CHECK(out.find("missing required field: upstream at proxy 1") != std::string::npos);
  std::tie(code, out) = run({"--api", "nonsense"});
  CHECK(code == 2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a refused proxy update changes nothing and reset is all or nothing", "[faults][proxy]") {
  daemon_process d;
  auto created = http(d.api, "POST", "/proxies", R"({"name":"u","upstream":"localhost:1"})");
  REQUIRE(created.status == 201);
  auto before = nlohmann::json::parse(created.body);
  // Issue 16: this answered 400 but left u disabled on 0.0.0.0:18641.
  auto r = http(d.api, "POST", "/proxies/u", R"({"listen":"0.0.0.0:18641"})");
  CHECK(r.status == 400);
  CHECK(r.body.find("not loopback") != std::string::npos);
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies/u").body) == before);
  // A port another proxy holds: refused before u's listener stops.
  auto busy = nlohmann::json::parse(http(d.api, "POST", "/proxies", R"({"name":"busy","upstream":"localhost:2"})").body)["listen"].get<std::string>();
  r = http(d.api, "POST", "/proxies/u", R"({"listen":")" + busy + R"("})");
  CHECK(r.status == 500);
  CHECK(r.body == "{\"error\":\"listen tcp " + busy + ": bind: address already in use\",\"status\":500}\n");
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies/u").body) == before);
  boost::asio::io_context ioc;
  CHECK_NOTHROW(connect_to(ioc, before["listen"].get<std::string>()));  // still listening where it was
  CHECK(http(d.api, "POST", "/reset").status == 204);

  // A stopped proxy that cannot listen again: reset answers 500 and keeps every toxic.
  REQUIRE(http(d.api, "POST", "/proxies", R"({"name":"clash","listen":")" + busy + R"(","upstream":"localhost:3","enabled":false})").status == 201);
  REQUIRE(http(d.api, "POST", "/proxies/busy/toxics", R"({"type":"latency","attributes":{"latency":10}})").status == 200);
  REQUIRE(http(d.api, "POST", "/proxies/u", R"({"enabled":false})").status == 200);
  r = http(d.api, "POST", "/reset");
  CHECK(r.status == 500);
  CHECK(r.body.find("clash") != std::string::npos);
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies/busy/toxics").body).size() == 1);
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies/u").body)["enabled"] == false);  // not started either
  REQUIRE(http(d.api, "DELETE", "/proxies/clash").status == 204);
  CHECK(http(d.api, "POST", "/reset").status == 204);
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies/busy/toxics").body).empty());
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies/u").body)["enabled"] == true);
}

TEST_CASE("a request body over the limit is answered 413 in Toxiproxy's error shape and logged", "[faults][proxy]") {
  daemon_process d;
  auto r = http(d.api, "POST", "/proxies", std::string(10u << 20, ' '));  // issue 16: an empty reply
  CHECK(r.status == 413);
  CHECK(r.content_type == "application/json");
  CHECK(r.body == "{\"error\":\"request body too large: the control API accepts at most 1048576 bytes\",\"status\":413}\n");
  CHECK(slurp(d.log()).find("answered 413") != std::string::npos);
  CHECK(http(d.api, "GET", "/proxies").status == 200);  // the daemon serves on
  CHECK(http(d.api, "POST", "/proxies", std::string(1000u << 10, ' ')).status == 400);  // under the limit: read and judged
}

TEST_CASE("the control API takes tls and upstream_tls in the proxy object and shows the generated CA", "[faults][proxy]") {
  daemon_process d;
  auto created = http(d.api, "POST", "/proxies",
                      R"({"name":"web","listen":"127.0.0.1:0","upstream":"127.0.0.1:1","tls":"terminate","upstream_tls":{"verify":false}})");
  REQUIRE(created.status == 201);
  auto body = nlohmann::json::parse(created.body);
  CHECK(body["tls"]["mode"] == "terminate");
  CHECK(body["tls"]["generate"] == true);
  const auto ca = body["tls"]["ca_file"].get<std::string>();
  CHECK(std::filesystem::exists(ca));
  CHECK(body["upstream_tls"] == nlohmann::json{{"verify", false}, {"ca", ""}, {"server_name", ""}});
  CHECK(nlohmann::json::parse(http(d.api, "GET", "/proxies/web").body)["tls"] == body["tls"]);

  auto toxic = http(d.api, "POST", "/proxies/web/toxics", R"({"type":"tls_handshake_delay","attributes":{"delay":500}})");
  CHECK(toxic.status == 200);
  CHECK(nlohmann::json::parse(toxic.body)["attributes"] == nlohmann::json{{"delay", 500}});

  http(d.api, "POST", "/proxies", R"({"name":"plain","listen":"127.0.0.1:0","upstream":"127.0.0.1:1"})");
  auto refused = http(d.api, "POST", "/proxies/plain/toxics", R"({"type":"tls_handshake_fail"})");
  CHECK(refused.status == 400);
  CHECK(refused.body.find("does not terminate TLS; give it tls: terminate") != std::string::npos);
  auto bad = http(d.api, "POST", "/proxies", R"({"name":"bad","upstream":"127.0.0.1:1","tls":"yes"})");
  CHECK(bad.status == 400);
  CHECK(bad.body == "{\"error\":\"tls must be passthrough or terminate, not \\\"yes\\\"\",\"status\":400}\n");
  auto bad_populate = http(d.api, "POST", "/populate", R"([{"name":"bad","upstream":"127.0.0.1:1","upstream_tls":"yes"}])");
  CHECK(bad_populate.status == 400);
  CHECK(bad_populate.body.find("upstream_tls must be true or { verify, ca, server_name } at proxy 1") != std::string::npos);
}

TEST_CASE("a proxy update that would change its protocol or TLS settings is refused and changes nothing", "[faults][proxy]") {
  daemon_process d;
  auto created = http(d.api, "POST", "/proxies", R"({"name":"web","upstream":"127.0.0.1:1","tls":"terminate"})");
  REQUIRE(created.status == 201);
  const auto before = nlohmann::json::parse(created.body);
  // A client that posts the whole object back (as toxiproxy-cli does) changes what it changed.
  auto whole = before;
  whole["enabled"] = false;
  auto r = http(d.api, "POST", "/proxies/web", whole.dump());
  CHECK(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["enabled"] == false);
  CHECK(nlohmann::json::parse(r.body)["tls"] == before["tls"]);

  r = http(d.api, "POST", "/proxies/web", R"({"tls":"passthrough"})");  // was silently ignored
  CHECK(r.status == 400);
  CHECK(r.body == "{\"error\":\"the tls settings of proxy 'web' cannot change with an update; delete the proxy and create it "
                  "again\",\"status\":400}\n");
  r = http(d.api, "POST", "/proxies/web", R"({"upstream_tls":true,"enabled":true})");
  CHECK(r.status == 400);
  CHECK(r.body.find("the upstream_tls settings of proxy 'web' cannot change") != std::string::npos);
  r = http(d.api, "POST", "/proxies/web", R"({"protocol":"redis","enabled":true})");
  CHECK(r.status == 400);
  CHECK(r.body.find("the protocol of proxy 'web' cannot change (it is tcp)") != std::string::npos);
  const auto after = nlohmann::json::parse(http(d.api, "GET", "/proxies/web").body);
  CHECK(after["enabled"] == false);  // none of the refused updates enabled it
  CHECK(after["tls"] == before["tls"]);
  CHECK(after.contains("upstream_tls") == false);
}
