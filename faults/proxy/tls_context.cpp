#include "faults/proxy/tls_context.hpp"

#include "faults/proxy/proxy_set.hpp"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace faultline::proxy {
namespace ssl = boost::asio::ssl;
namespace {

using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

constexpr long day = 24 * 3600;

[[noreturn]] void invalid(const std::string& message) { throw proxy_error(proxy_error::kind::invalid, message); }

std::string openssl_error() {
  auto code = ERR_get_error();
  char text[256] = "unknown OpenSSL error";
  if (code) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

pkey_ptr new_key() {
  pkey_ptr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) invalid("tls: cannot generate a key: " + openssl_error());
  return key;
}

bool is_ip(const std::string& host) {
  boost::system::error_code ec;
  (void)boost::asio::ip::make_address(host, ec);
  return !ec;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (!ext) invalid(fmt::format("tls: cannot build the certificate extension {}: {}", value, openssl_error()));
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// A certificate for `host` (or the CA when issuer is null), valid from..until seconds from now.
x509_ptr new_certificate(const std::string& common_name, const std::string& host, EVP_PKEY* key, X509* issuer,
                         EVP_PKEY* issuer_key, long from, long until) {
  x509_ptr cert(X509_new(), X509_free);
  X509_set_version(cert.get(), 2);
  BIGNUM* serial = BN_new();
  BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(cert.get()));
  BN_free(serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), until);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("faultline"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_extension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    add_extension(cert.get(), &ctx, NID_basic_constraints, "CA:FALSE");
    add_extension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth");
    std::string names = is_ip(host) ? "IP:" + host : "DNS:" + host;
    if (host != "localhost") names += ",DNS:localhost";
    if (host != "127.0.0.1") names += ",IP:127.0.0.1";
    add_extension(cert.get(), &ctx, NID_subject_alt_name, names);
  }
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()))
    invalid("tls: cannot sign the generated certificate: " + openssl_error());
  return cert;
}

void write_pem(const std::string& file, X509* cert) {
  BIO* out = BIO_new_file(file.c_str(), "w");
  if (!out) invalid(fmt::format("tls.ca_file: cannot write {}: {}; name a writable file", file, openssl_error()));
  const bool ok = PEM_write_bio_X509(out, cert) == 1;
  BIO_free(out);
  if (!ok) invalid(fmt::format("tls.ca_file: cannot write {}: {}", file, openssl_error()));
}

void tls12_and_13(ssl::context& ctx) {
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_3_VERSION);
}

int fail_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The alert of tls_handshake_fail, sent in answer to the ClientHello.
int client_hello(SSL* ssl, int* alert, void*) {
  if (!SSL_get_ex_data(ssl, fail_index())) return SSL_CLIENT_HELLO_SUCCESS;
  *alert = SSL_AD_HANDSHAKE_FAILURE;
  return SSL_CLIENT_HELLO_ERROR;
}

int alpn_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// The server side's ALPN answer: the upstream's choice when the client's offer went to a TLS
// upstream, else the first of tls.alpn (the proxy's preference) that the client offered. No
// common protocol: no ALPN in the answer (the client decides whether to go on without).
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length, const unsigned char* in, unsigned int in_length,
                void* arg) {
  const auto pick = [&](const std::string& wanted) {
    for (unsigned int at = 0; at < in_length && at + 1u + in[at] <= in_length; at += 1u + in[at])
      if (in[at] == wanted.size() && std::equal(wanted.begin(), wanted.end(), in + at + 1)) {
        *out = in + at + 1;
        *out_length = in[at];
        return true;
      }
    return false;
  };
  if (const auto* upstream = static_cast<const std::string*>(SSL_get_ex_data(ssl, alpn_index())))
    return !upstream->empty() && pick(*upstream) ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
  for (const auto& p : static_cast<const tls_settings*>(arg)->alpn)
    if (pick(p)) return SSL_TLSEXT_ERR_OK;
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

struct tls_context::keys {
  pkey_ptr ca_key{nullptr, EVP_PKEY_free};
  x509_ptr ca{nullptr, X509_free};
  pkey_ptr leaf_key{nullptr, EVP_PKEY_free};
  x509_ptr leaf{nullptr, X509_free};
  pkey_ptr expired_key{nullptr, EVP_PKEY_free};
  x509_ptr expired{nullptr, X509_free};
};

tls_context::tls_context(const tls_settings& settings, const std::string& proxy_name, const std::string& listen_host)
    : settings_(settings), keys_(std::make_unique<keys>()) {
  const std::string host = listen_host.empty() ? "127.0.0.1" : listen_host;
  if (settings_.terminates()) {
    server_.emplace(ssl::context::tls_server);
    tls12_and_13(*server_);
    auto* native = server_->native_handle();
    auto& k = *keys_;
    if (settings_.generate) {
      k.ca_key = new_key();
      k.ca = new_certificate(fmt::format("faultline throwaway CA for proxy {}", proxy_name), host, k.ca_key.get(), nullptr, nullptr,
                             -day, 30 * day);
      k.leaf_key = new_key();
      k.leaf = new_certificate(host, host, k.leaf_key.get(), k.ca.get(), k.ca_key.get(), -day, 30 * day);
      ca_file_ = settings_.ca_file.empty()
                     ? (std::filesystem::temp_directory_path() / fmt::format("faultline-{}-{}-ca.pem", proxy_name, ::getpid())).string()
                     : settings_.ca_file;
      write_pem(ca_file_, k.ca.get());
      SSL_CTX_use_certificate(native, k.leaf.get());
      SSL_CTX_use_PrivateKey(native, k.leaf_key.get());
      k.expired_key = new_key();
      k.expired = new_certificate(host, host, k.expired_key.get(), k.ca.get(), k.ca_key.get(), -30 * day, -day);
    } else {
      if (SSL_CTX_use_certificate_chain_file(native, settings_.cert.c_str()) != 1)
        invalid(fmt::format("tls.cert: cannot use {}: {}; give a PEM certificate file", settings_.cert, openssl_error()));
      if (SSL_CTX_use_PrivateKey_file(native, settings_.key.c_str(), SSL_FILETYPE_PEM) != 1)
        invalid(fmt::format("tls.key: cannot use {}: {}; give the PEM private key of tls.cert", settings_.key, openssl_error()));
      if (SSL_CTX_check_private_key(native) != 1)
        invalid(fmt::format("tls.key: {} is not the key of {}", settings_.key, settings_.cert));
      k.expired_key = new_key();  // no CA key here: a self-signed expired certificate
      k.expired = new_certificate(host, host, k.expired_key.get(), nullptr, nullptr, -30 * day, -day);
    }
    SSL_CTX_set_client_hello_cb(native, client_hello, nullptr);
    SSL_CTX_set_alpn_select_cb(native, select_alpn, &settings_);
  }
  if (settings_.upstream) {
    upstream_.emplace(ssl::context::tls_client);
    tls12_and_13(*upstream_);
    const auto& u = *settings_.upstream;
    if (u.verify) {
      upstream_->set_verify_mode(ssl::verify_peer);
      boost::system::error_code ec;
      if (u.ca.empty()) upstream_->set_default_verify_paths(ec);
      else upstream_->load_verify_file(u.ca, ec);
      if (ec) invalid(fmt::format("upstream_tls.ca: cannot load {}: {}; give a PEM file of CA certificates", u.ca, ec.message()));
    } else {
      upstream_->set_verify_mode(ssl::verify_none);
    }
  }
}

tls_context::~tls_context() {
  if (settings_.generate && settings_.ca_file.empty() && !ca_file_.empty()) {
    std::error_code ignored;  // the temporary CA file goes with the proxy; one the user named stays
    std::filesystem::remove(ca_file_, ignored);
  }
}

void tls_context::use_expired_certificate(SSL* ssl) const {
  SSL_use_certificate(ssl, keys_->expired.get());
  SSL_use_PrivateKey(ssl, keys_->expired_key.get());
}

void tls_context::fail_handshake(SSL* ssl) { SSL_set_ex_data(ssl, fail_index(), reinterpret_cast<void*>(1)); }

void tls_context::present_upstream_alpn(SSL* ssl, const std::string* chosen) {
  SSL_set_ex_data(ssl, alpn_index(), const_cast<std::string*>(chosen));
}

}  // namespace faultline::proxy
