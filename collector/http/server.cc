#include "http/server.h"

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it (C++20, GCC 12)

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <future>
#include <optional>
#include <thread>

#include "http/percent_decoding.h"

namespace pinion::collector {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

// One I/O thread runs every connection, so handlers need no strand; a
// concrete executor type also spares Beast's type-erased one on every operation.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using PlainStream = beast::basic_stream<tcp, Executor>;
using TlsStream = beast::ssl_stream<PlainStream>;

// The answer to a request that could not be read: 413 for a body over the
// limit, 400 for unreadable HTTP (either way the connection then closes), or 0
// to close without one (the client left, stalled or reset).
int StatusForReadError(beast::error_code ec) {
  if (ec == http::error::body_limit) return 413;
  if (ec.category() == http::make_error_code(http::error::bad_method).category() &&
      ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return 400;
  }
  return 0;
}

HttpRequest RequestFromMessage(http::request<http::string_body>& message, std::string remote) {
  HttpRequest request;
  request.method = std::string(message.method_string().data(), message.method_string().size());
  std::string_view target(message.target().data(), message.target().size());
  std::size_t question = target.find('?');
  request.path = PercentDecode(target.substr(0, question), false);
  if (question != std::string_view::npos) request.params = ParseQuery(target.substr(question + 1));
  for (const auto& field : message) {
    std::string name(field.name_string().data(), field.name_string().size());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers.try_emplace(std::move(name), std::string(field.value().data(), field.value().size()));
  }
  request.body = std::move(message.body());
  request.remote_address = std::move(remote);
  return request;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Router router)
      : options_(std::move(options)),
        router_(std::move(router)),
        acceptor_(io_.get_executor()),
        workers_(std::max<std::size_t>(1, options_.workers)) {}
  ~Impl() {
    workers_.stop();
    workers_.join();
  }

  Status SetUpTls() {
    if (options_.tls_certificate.empty()) return OkStatus();
    tls_.emplace(asio::ssl::context::tls_server);
    boost::system::error_code ec;
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                      ec);
    if (!ec) tls_->use_certificate_chain_file(options_.tls_certificate, ec);
    if (!ec) tls_->use_private_key_file(options_.tls_key, asio::ssl::context::pem, ec);
    if (ec) {
      return Error(ErrorCode::kTlsSetup, "cannot load the TLS certificate chain or key: " + ec.message())
          .WithSource(options_.tls_certificate);
    }
    return OkStatus();
  }

  Result<int> Bind() {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(options_.listen, ec);
    tcp::endpoint endpoint(address, options_.port);
    if (!ec) acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Error(ErrorCode::kNetwork, "cannot listen on " + options_.listen + ":" + std::to_string(options_.port) +
                                            ": " + ec.message());
    }
    return static_cast<int>(acceptor_.local_endpoint().port());
  }

  void AddPeriodic(std::chrono::seconds period, std::function<void()> task) {
    periodic_.push_back(std::make_unique<Periodic>(Periodic{period, std::move(task), Timer(io_.get_executor())}));
  }

  void Run() {
    for (auto& periodic : periodic_) Arm(*periodic, std::chrono::seconds(0));
    Accept();
    io_.run();
  }

  void Stop() {
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      accept_pause_.cancel();
      for (auto& periodic : periodic_) periodic->timer.cancel();
    });
    io_.stop();
  }

  HttpResponse ErrorResponse(int status) const {
    if (options_.error_body) return options_.error_body(status);
    return HttpResponse::Content(status, "error " + std::to_string(status) + "\n", "text/plain");
  }

  // Runs the matching route (on this thread or a worker); answers 404 when none matches.
  void Dispatch(HttpRequest request, HttpResponder respond) {
    const Router::Route* match = router_.Find(request);
    if (match == nullptr) return respond(ErrorResponse(404));
    auto run = [this, match, request = std::move(request), respond]() mutable {
      try {
        match->handler(request, respond);
      } catch (const std::exception&) {
        respond(ErrorResponse(500));
      }
    };
    if (match->dispatch == Router::kOnIoThread) {
      run();
    } else {
      asio::post(workers_, std::move(run));
    }
  }

  const HttpServerOptions& options() const { return options_; }

  std::vector<HttpResponse> Exchange(std::string_view bytes, const std::string& remote_address);

 private:
  using Timer =
      asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, Executor>;
  struct Periodic {
    std::chrono::seconds period;
    std::function<void()> task;
    Timer timer;
  };

  void Accept();

  // The timer fires on the I/O thread; the task runs on a worker (it may
  // block on the database) and re-arms the timer when it is done.
  void Arm(Periodic& periodic, std::chrono::seconds delay) {
    periodic.timer.expires_after(delay);
    periodic.timer.async_wait([this, &periodic](beast::error_code ec) {
      if (ec) return;  // cancelled: stopping
      asio::post(workers_, [this, &periodic] {
        try {
          periodic.task();
        } catch (const std::exception&) {
          // The task reports its own failures; a throw must not end the schedule.
        }
        asio::post(io_, [this, &periodic] { Arm(periodic, periodic.period); });
      });
    });
  }

  HttpServerOptions options_;
  Router router_;
  std::optional<asio::ssl::context> tls_;  // outlives io_, whose queued handlers may hold TLS sessions
  asio::io_context io_{1};
  Acceptor acceptor_;
  Timer accept_pause_{io_.get_executor()};
  std::vector<std::unique_ptr<Periodic>> periodic_;
  asio::thread_pool workers_;
};

namespace {

// One connection: read a request, dispatch it, write the answer (possibly
// much later, posted from the committing thread), repeat while keep-alive.
// All of a session's work runs on the I/O thread.
template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpServer::Impl& server, Stream stream, std::string remote)
      : server_(server), stream_(std::move(stream)), remote_(std::move(remote)) {}

  void Start() {
    if constexpr (std::is_same_v<Stream, PlainStream>) {
      Read();
    } else {
      Lowest().expires_after(server_.options().read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->Read();
                              });
    }
  }

 private:
  PlainStream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Read() {
    parser_.emplace();
    parser_->body_limit(server_.options().max_body);
    parser_->header_limit(kMaxHeaderBytes);
    Lowest().expires_after(server_.options().read_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnHeader(ec); });
  }

  // A client that sent "Expect: 100-continue" (libcurl does for bodies over
  // 1 KiB) waits for a 100 before sending its body: answer it, then read on.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    auto read_body = [self = this->shared_from_this()] {
      http::async_read(self->stream_, self->buffer_, *self->parser_,
                       [self](beast::error_code read_ec, std::size_t) { self->OnRead(read_ec); });
    };
    if (parser_->is_done() || !beast::iequals(parser_->get()[http::field::expect], "100-continue")) return read_body();
    continue_.emplace(http::status::continue_, parser_->get().version());
    http::async_write(stream_, *continue_, [self = this->shared_from_this(), read_body](beast::error_code write_ec,
                                                                                         std::size_t) {
      if (write_ec) return self->Close();
      read_body();
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      int status = StatusForReadError(ec);
      if (status == 0) return Close();  // closed, timed out (a stalled client) or reset
      keep_alive_ = false;  // too large or unreadable: say so once, then close
      return Write(server_.ErrorResponse(status));
    }

    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    version_ = message.version();
    HttpRequest request = RequestFromMessage(message, remote_);
    parser_.reset();
    Lowest().expires_never();  // the handler may wait for a commit; the write re-arms the timer

    auto answered = std::make_shared<std::atomic<bool>>(false);
    HttpResponder respond = [self = this->shared_from_this(), answered](HttpResponse response) {
      if (answered->exchange(true)) return;  // once
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response)]() mutable { self->Write(std::move(response)); });
    };
    server_.Dispatch(std::move(request), std::move(respond));
  }

  void Write(HttpResponse answer) {
    response_ = {};
    response_.result(static_cast<unsigned>(answer.status));
    response_.version(version_);
    for (auto& [name, value] : answer.headers) response_.set(name, value);
    response_.body() = std::move(answer.body);
    response_.keep_alive(keep_alive_);
    response_.prepare_payload();
    Lowest().expires_after(server_.options().read_timeout);
    http::async_write(stream_, response_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

  void Close() {
    if constexpr (std::is_same_v<Stream, PlainStream>) {
      beast::error_code ignored;
      stream_.socket().shutdown(Socket::shutdown_send, ignored);
    } else {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->Lowest().close(); });
    }
  }

  HttpServer::Impl& server_;
  Stream stream_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  http::response<http::string_body> response_;
  bool keep_alive_ = false;
  unsigned version_ = 11;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor_.async_accept([this](beast::error_code ec, Socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors (or similar): retrying at once would spin.
      accept_pause_.expires_after(std::chrono::milliseconds(50));
      accept_pause_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // answers are small: no Nagle/delayed-ACK stalls
    std::string remote = socket.remote_endpoint(ignored).address().to_string();
    if (tls_) {
      std::make_shared<Session<TlsStream>>(*this, TlsStream(PlainStream(std::move(socket)), *tls_), std::move(remote))
          ->Start();
    } else {
      std::make_shared<Session<PlainStream>>(*this, PlainStream(std::move(socket)), std::move(remote))->Start();
    }
    Accept();
  });
}

std::vector<HttpResponse> HttpServer::Impl::Exchange(std::string_view bytes, const std::string& remote_address) {
  std::vector<HttpResponse> answers;
  bool keep_alive = true;
  while (keep_alive && !bytes.empty()) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options_.max_body);
    parser.header_limit(kMaxHeaderBytes);
    beast::error_code ec;
    // Everything the client will ever send is at hand, so "need more" means
    // it stalled: the session would time out and close without an answer.
    auto feed = [&](bool until_done) {
      while (!ec && !bytes.empty() && !(until_done ? parser.is_done() : parser.is_header_done())) {
        std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
        bytes.remove_prefix(used);
        if (ec == http::error::need_more || (!ec && used == 0)) return false;
      }
      return until_done ? parser.is_done() : parser.is_header_done();
    };
    bool complete = feed(false);
    if (complete && !ec && !parser.is_done() && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      answers.push_back(HttpResponse{.status = 100});
    }
    if (complete && !ec) {
      parser.eager(true);
      complete = feed(true);
    }
    if (ec && ec != http::error::need_more) {
      int status = StatusForReadError(ec);
      if (status != 0) answers.push_back(ErrorResponse(status));
      break;
    }
    if (!complete) break;
    keep_alive = parser.get().keep_alive();
    auto answer = std::make_shared<std::promise<HttpResponse>>();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    std::future<HttpResponse> future = answer->get_future();
    Dispatch(RequestFromMessage(parser.get(), remote_address), [answer, answered](HttpResponse response) {
      if (!answered->exchange(true)) answer->set_value(std::move(response));
    });
    answers.push_back(future.get());
  }
  return answers;
}

Result<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options, Router router) {
  if (options.tls_certificate.empty() != options.tls_key.empty()) {
    return Error(ErrorCode::kInvalidArgument, "HTTPS needs both a TLS certificate chain and its key");
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(router));
  PINION_TRY(impl->SetUpTls());
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;

void HttpServer::Every(std::chrono::seconds period, std::function<void()> task) {
  impl_->AddPeriodic(period, std::move(task));
}

Result<int> HttpServer::Bind() { return impl_->Bind(); }
void HttpServer::Run() { impl_->Run(); }
void HttpServer::Stop() { impl_->Stop(); }
std::vector<HttpResponse> HttpServer::Exchange(std::string_view bytes, const std::string& remote_address) {
  return impl_->Exchange(bytes, remote_address);
}

}  // namespace pinion::collector
