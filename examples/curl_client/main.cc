// A libcurl client that pins with pinion (curl's OpenSSL backend).
//
//   curl_client URL POLICY.toml [CA_BUNDLE.pem] [CONNECT_ADDRESS]
//
// Fetches URL and prints the body. CONNECT_ADDRESS makes curl connect there
// while validating and pinning the URL's host (like --connect-to).
// Exit codes: 0 fetched, 1 pin failure (explained), 2 usage, 3 TLS/network/HTTP error.
#include <curl/curl.h>

#include <iostream>
#include <string>

#include "pinion/curl/pinning.h"
#include "pinion/policy_loader.h"

namespace {

std::size_t Print(char* data, std::size_t size, std::size_t count, void*) {
  std::cout.write(data, static_cast<std::streamsize>(size * count));
  return size * count;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::cerr << "usage: curl_client URL POLICY.toml [CA_BUNDLE.pem] [CONNECT_ADDRESS]\n";
    return 2;
  }
  auto policy = pinion::LoadPolicyFile(argv[2]);
  if (!policy) {
    std::cerr << policy.error().ToString() << "\n";
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  pinion::PolicyStore store(*policy);
  auto pinning = pinion::curl::CurlPinning::Create(store);
  if (!pinning) {
    std::cerr << pinning.error().ToString() << "\n";
    return 2;
  }
  CURL* easy = curl_easy_init();
  curl_easy_setopt(easy, CURLOPT_URL, argv[1]);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Print);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
  if (argc >= 4) curl_easy_setopt(easy, CURLOPT_CAINFO, argv[3]);
  curl_slist* connect_to = nullptr;
  if (argc == 5) {
    connect_to = curl_slist_append(nullptr, (std::string("::") + argv[4] + ":").c_str());
    curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to);
  }
  // A curl on another TLS backend is refused here: never an unpinned transfer.
  if (auto attached = (*pinning)->Install(easy); !attached.ok()) {
    std::cerr << attached.error().ToString() << "\n";
    return 2;
  }
  CURLcode code = curl_easy_perform(easy);
  auto verdict = (*pinning)->VerdictOf(easy);
  (*pinning)->Uninstall(easy);
  curl_easy_cleanup(easy);
  curl_slist_free_all(connect_to);
  if (code == CURLE_OK) return 0;
  if (verdict && !verdict->allowed()) {
    std::cout << verdict->Explain() << "\n";
    return 1;
  }
  std::cerr << "transfer failed: " << curl_easy_strerror(code) << "\n";
  return 3;
}
