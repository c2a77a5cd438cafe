// Internal to pinion::curl: RAII owners for libcurl handles and the one
// process-wide curl_global_init, shared by the updater and the uploader.
#ifndef PINION_ADAPTERS_CURL_SRC_CURL_HANDLES_H_
#define PINION_ADAPTERS_CURL_SRC_CURL_HANDLES_H_

#include <curl/curl.h>

#include <memory>

#include "pinion/result.h"

namespace pinion::curl::internal {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

// InitCurlOnce runs curl_global_init the first time (thread-safe: a function
// static) and reports its result every time (kTlsSetup when it failed).
inline Status InitCurlOnce() {
  static const CURLcode kResult = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (kResult != CURLE_OK) return Error(ErrorCode::kTlsSetup, "curl_global_init failed");
  return OkStatus();
}

}  // namespace pinion::curl::internal

#endif  // PINION_ADAPTERS_CURL_SRC_CURL_HANDLES_H_
