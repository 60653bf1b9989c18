#include "gateway/cli/push.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "adapters/shared-v1/shared_v1.h"
#include "gateway/common/byte_source.h"
#include "gateway/crypto/keys.h"
#include "gateway/crypto/signing.h"
#include "gateway/http/message_signatures.h"
#include "gateway/schema/adapter_registry.h"

namespace gw::cli {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr int kOk = 0, kRejected = 2, kError = 1;

int Fail(std::ostream& err, const std::string& message) {
  err << "gateway push: " << message << "\n";
  return kError;
}

// Progress on stderr: a self-rewriting line on a terminal, plain lines every
// few seconds otherwise (logs of scheduled jobs).
class Progress {
 public:
  explicit Progress(std::ostream& err) : err_(err), tty_(isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}

  void Update(const std::string& phase, uint64_t rows, uint64_t bytes, uint64_t total_bytes, bool final = false) {
    auto now = Clock::now();
    auto since_last = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_).count();
    if (!final && since_last < (tty_ ? 200 : 5000)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? bytes / secs : 0;
    char line[256];
    int n = std::snprintf(line, sizeof line, "%s: %llu rows, %.1f MB", phase.c_str(),
                          static_cast<unsigned long long>(rows), bytes / 1e6);
    if (total_bytes > 0) {
      double left = rate > 0 ? (total_bytes - bytes) / rate : 0;
      std::snprintf(line + n, sizeof line - n, " of %.1f MB (%.0f%%), %.1f MB/s, %.0f s left", total_bytes / 1e6,
                    100.0 * bytes / total_bytes, rate / 1e6, left);
    } else {
      std::snprintf(line + n, sizeof line - n, ", %.1f MB/s", rate / 1e6);
    }
    if (tty_) {
      err_ << "\r" << line << "\033[K" << (final ? "\n" : "") << std::flush;
    } else {
      err_ << line << "\n" << std::flush;
    }
  }

 private:
  std::ostream& err_;
  bool tty_;
  Clock::time_point start_, last_{};
};

// Writes shared-v1 lines for the national adapter's output.
class SharedV1Writer : public RecordSink {
 public:
  SharedV1Writer(std::ofstream& out, const Pseudonymiser& p, Progress& progress, ObservedSource*& src_bytes)
      : out_(out), p_(p), progress_(progress), bytes_(src_bytes) {}
  Status OnPerson(uint64_t row, PersonRecord&& person) override {
    PersonKey k = p_.KeyFor(person.person_id);
    out_ << shared_v1::PersonLine(row, ToHex(std::string_view(reinterpret_cast<const char*>(k.data()), k.size())),
                                  person);
    return Tick();
  }
  Status OnCell(uint64_t row, CellRecord&& c) override {
    out_ << shared_v1::CellLine(row, c);
    return Tick();
  }
  Status OnRowError(RowError&& e) override {
    out_ << shared_v1::ErrorLine(e);
    return Tick();
  }
  uint64_t rows = 0;
  uint64_t bytes_read = 0;

 private:
  Status Tick() {
    ++rows;
    if (!out_) return Status::IoError("cannot write the temporary upload file");
    progress_.Update("preparing", rows, bytes_read, 0);
    return Status::Ok();
  }
  std::ofstream& out_;
  const Pseudonymiser& p_;
  Progress& progress_;
  ObservedSource*& bytes_;
};

struct Url {
  std::string host, port, base;
};

Result<Url> ParseUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return Status::InvalidArgument("--url must start with http:// (put a TLS tunnel or proxy in front for https)");
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.base = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.base.empty() && u.base.back() == '/') u.base.pop_back();
  size_t colon = authority.rfind(':');
  u.host = authority.substr(0, colon);
  u.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (u.host.empty()) return Status::InvalidArgument("--url has no host");
  return u;
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

int Push(const Args& a, std::ostream& out, std::ostream& err) {
  for (const char* f : {"url", "key", "country", "ref-date", "profile"}) {
    if (auto r = a.Require(f); !r.ok()) return Fail(err, r.status().message());
  }
  if (a.positional().size() != 1) return Fail(err, "exactly one FILE is required");
  const std::string file = a.positional()[0];
  const std::string country = *a.Get("country"), profile = *a.Get("profile"), key_path = *a.Get("key");
  auto ref = ParseIsoDate(*a.Get("ref-date"));
  if (!ref) return Fail(err, "--ref-date must be a real date YYYY-MM-DD");
  const AdapterInfo* info = AdapterRegistry::Global().Find(profile);
  if (info == nullptr) return Fail(err, "unknown profile \"" + profile + "\" (see gateway ingest --help)");
  if (!info->country.empty() && info->country != country) {
    return Fail(err, "profile " + profile + " is " + info->country + "'s, not " + country + "'s");
  }
  auto url = ParseUrl(*a.Get("url"));
  if (!url.ok()) return Fail(err, url.status().message());
  auto key = SigningKey::Load(key_path);
  if (!key.ok()) return Fail(err, key.status().message());
  const bool raw = a.Has("raw");
  const std::string charset = a.Get("charset").value_or("");

  Progress progress(err);
  std::string body_path = file, upload_profile = profile, content_type = info->media_type;
  std::filesystem::path temp;
  uint64_t rows = 0;
  if (!raw) {
    // Pass 1, on this machine: validate, pseudonymise, write shared-v1.
    std::string pseudonym_path = a.Get("pseudonym-key").value_or(
        key_path.size() > 4 && key_path.substr(key_path.size() - 4) == ".key"
            ? key_path.substr(0, key_path.size() - 4) + ".pseudonym.key"
            : key_path + ".pseudonym.key");
    auto pkey = ReadSecretKeyFile(pseudonym_path, kPseudonymKeyBytes);
    if (!pkey.ok()) return Fail(err, pkey.status().message() + " (gateway keygen writes PREFIX.pseudonym.key)");
    Pseudonymiser pseudonymiser(country, *pkey);
    auto src = FileSource::Open(file);
    if (!src.ok()) return Fail(err, src.status().message());
    temp = std::filesystem::temp_directory_path() / ("gateway-push-" + ToHex(RandomBytes(8)) + ".ndjson");
    std::ofstream tmp(temp, std::ios::binary);
    if (!tmp) return Fail(err, "cannot create " + temp.string());
    std::filesystem::permissions(temp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    tmp << shared_v1::HeaderLine(profile, country, ref->ToIso());
    ObservedSource* observed_ptr = nullptr;
    SharedV1Writer writer(tmp, pseudonymiser, progress, observed_ptr);
    ObservedSource observed(**src, [&](std::string_view chunk) { writer.bytes_read += chunk.size(); });
    observed_ptr = &observed;
    auto adapter = info->create();
    Status s = adapter->Run(observed, AdapterContext{country, *ref, charset.empty() ? info->charsets.front() : charset}, writer);
    tmp.close();
    progress.Update("prepared", writer.rows, writer.bytes_read, 0, true);
    if (!s.ok()) {
      std::filesystem::remove(temp);
      // The same shape as the server's receipt for a whole-file fault.
      nlohmann::ordered_json receipt = {{"status", "rejected"}, {"country", country}, {"ref_date", ref->ToIso()},
                                        {"profile", profile},   {"version", nullptr},   {"rejected", nlohmann::json::array()},
                                        {"error", {{"code", "invalid_file"}, {"message", s.message()}}}};
      out << receipt.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      err << "gateway push: the file was refused on this machine: " << s.message() << "\n";
      return kRejected;
    }
    rows = writer.rows;
    body_path = temp.string();
    upload_profile = "shared-v1";
    content_type = "application/x-ndjson";
  } else if (!charset.empty()) {
    content_type += "; charset=" + charset;
  }
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ec;
      if (!p.empty()) std::filesystem::remove(p, ec);
    }
  } cleanup{temp};

  // Content-Digest needs the whole body before the head is sent.
  uint64_t total = std::filesystem::file_size(body_path);
  std::string digest_header;
  {
    auto src = FileSource::Open(body_path);
    if (!src.ok()) return Fail(err, src.status().message());
    http::StreamingDigest d("sha-256");
    std::string buf(1 << 16, '\0');
    while (true) {
      auto n = (*src)->Read(buf.data(), buf.size());
      if (!n.ok()) return Fail(err, n.status().message());
      if (*n == 0) break;
      d.Update(std::string_view(buf.data(), *n));
    }
    digest_header = "sha-256=:" + ToBase64(d.Final()) + ":";
  }

  std::string target = url->base + "/v1/snapshots/" + country + "/" + ref->ToIso() + "?profile=" + UrlEncode(upload_profile);
  if (raw && !charset.empty()) target += "&charset=" + UrlEncode(charset);
  if (a.Has("partial")) target += "&partial=true";
  std::string authority = url->host + (url->port == "80" ? "" : ":" + url->port);

  http::SignatureContext ctx;
  ctx.method = "PUT";
  ctx.target_uri = "http://" + authority + target;
  ctx.header = [&](std::string_view name) -> std::optional<std::string> {
    if (name == "content-digest") return digest_header;
    if (name == "content-type") return content_type;
    return std::nullopt;
  };
  http::SignOptions opts;
  opts.components = {"@method", "@target-uri", "content-digest", "content-type"};
  opts.created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  opts.nonce = ToBase64Url(RandomBytes(16));
  auto sig = http::Sign(opts, ctx, *key);
  if (!sig.ok()) return Fail(err, sig.status().message());

  // Pass 2: upload with a streamed body.
  net::io_context ioc;
  net::ip::tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url->host, url->port, ec);
  if (ec) return Fail(err, "cannot resolve " + url->host + ": " + ec.message());
  net::ip::tcp::socket socket(ioc);
  net::connect(socket, endpoints, ec);
  if (ec) return Fail(err, "cannot connect to " + authority + ": " + ec.message());
  timeval tv{300, 0};  // a stalled peer must not hang the push forever
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  bhttp::request<bhttp::buffer_body> req{bhttp::verb::put, target, 11};
  req.set(bhttp::field::host, authority);
  req.set(bhttp::field::user_agent, "gateway-push");
  req.set(bhttp::field::content_type, content_type);
  req.set("Content-Digest", digest_header);
  req.set("Signature-Input", sig->signature_input);
  req.set("Signature", sig->signature);
  req.content_length(total);
  req.body().data = nullptr;
  req.body().more = true;
  bhttp::request_serializer<bhttp::buffer_body> sr{req};
  bhttp::write_header(socket, sr, ec);
  if (ec) return Fail(err, "sending the request head failed: " + ec.message());
  auto body = FileSource::Open(body_path);
  if (!body.ok()) return Fail(err, body.status().message());
  std::string buf(1 << 16, '\0');
  uint64_t sent = 0;
  Progress upload(err);
  while (true) {
    auto n = (*body)->Read(buf.data(), buf.size());
    if (!n.ok()) return Fail(err, n.status().message());
    req.body().data = buf.data();
    req.body().size = *n;
    req.body().more = *n > 0;
    bhttp::write(socket, sr, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) return Fail(err, "upload interrupted after " + std::to_string(sent) + " bytes: " + ec.message());
    sent += *n;
    upload.Update("uploading", rows, sent, total, *n == 0);
    if (*n == 0) break;
  }
  beast::flat_buffer rbuf;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(socket, rbuf, res, ec);
  if (ec) return Fail(err, "reading the answer failed: " + ec.message());
  int status = static_cast<int>(res.result_int());
  auto j = nlohmann::json::parse(res.body(), nullptr, false);
  if (status == 200 || status == 201 || status == 422) {
    out << (j.is_discarded() ? res.body() : j.dump(2)) << "\n";
    if (status == 422) {
      err << "gateway push: snapshot rejected; nothing was stored (see the receipt)\n";
      return kRejected;
    }
    return kOk;
  }
  std::string message = !j.is_discarded() && j.contains("error") ? j["error"].value("message", "") : res.body();
  return Fail(err, "the gateway refused the upload (HTTP " + std::to_string(status) + "): " + message);
}

}  // namespace gw::cli
