// Shared by the libcurl adapter's tests: an HTTPS server on 127.0.0.1 that
// answers GET / with "hello" (keeping connections alive), and a write
// callback that appends a body to a std::string.
#ifndef PINION_ADAPTERS_CURL_TESTS_HELLO_SERVER_H_
#define PINION_ADAPTERS_CURL_TESTS_HELLO_SERVER_H_

#include <httplib.h>

#include <cstddef>
#include <filesystem>
#include <string>

#include "https_test_server.h"

namespace pinion::curl::testing {

class HelloServer {
 public:
  HelloServer(const std::filesystem::path& chain, const std::filesystem::path& key) : server_(chain, key) {
    server_.http().Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("hello", "text/plain");
    });
    server_.Start();
  }
  int port() const { return server_.port(); }
  std::string Url(const std::string& host = "localhost") const { return server_.Url(host); }

 private:
  pinion::testing::HttpsTestServer server_;
};

// CollectBody is a CURLOPT_WRITEFUNCTION appending to the std::string in CURLOPT_WRITEDATA.
inline std::size_t CollectBody(char* data, std::size_t size, std::size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace pinion::curl::testing

#endif  // PINION_ADAPTERS_CURL_TESTS_HELLO_SERVER_H_
