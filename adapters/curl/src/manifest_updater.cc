#include "pinion/curl/manifest_updater.h"

#include <algorithm>

#include "curl_handles.h"
#include "pinion/curl/pinning.h"

namespace pinion::curl {
namespace {

struct Download {
  std::string body;
  std::string etag;
  bool too_large = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* arg) {
  auto* download = static_cast<Download*>(arg);
  std::size_t bytes = size * count;
  if (download->body.size() + bytes > kMaxEnvelopeBytes) {
    download->too_large = true;
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  download->body.append(data, bytes);
  return bytes;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* arg) {
  auto* download = static_cast<Download*>(arg);
  std::string_view line(data, size * count);
  constexpr std::string_view kName = "etag:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == kName) {
      std::string_view value = line.substr(kName.size());
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
      }
      download->etag.assign(value);
    }
  }
  return size * count;
}

using internal::EasyHandle;
using internal::HeaderList;

// CurlManifestFetcher: one pinned, conditional HTTPS GET per Fetch. The
// download is pinned by the baseline policy, through a store it owns.
class CurlManifestFetcher final : public ManifestFetcher {
 public:
  CurlManifestFetcher(const DynamicPolicy& policy, ManifestUpdaterOptions options)
      : options_(std::move(options)), baseline_store_(policy.baseline()) {}

  Status Init() {
    PINION_ASSIGN_OR_RETURN(pinning_, CurlPinning::Create(baseline_store_));
    return OkStatus();
  }

  std::string Source() const override { return options_.url; }

  ManifestDownload Fetch(const std::string& if_none_match) override {
    ManifestDownload result;
    EasyHandle easy(curl_easy_init());
    if (!easy) {
      result.error = Error(ErrorCode::kNetwork, "curl_easy_init failed");
      return result;
    }
    Download download;
    HeaderList headers;
    if (!if_none_match.empty()) headers.reset(curl_slist_append(nullptr, ("If-None-Match: " + if_none_match).c_str()));
    curl_easy_setopt(easy.get(), CURLOPT_URL, options_.url.c_str());
    curl_easy_setopt(easy.get(), CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(easy.get(), CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(easy.get(), CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_MAXREDIRS, 3L);
    curl_easy_setopt(easy.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy.get(), CURLOPT_TIMEOUT, static_cast<long>(options_.timeout.count()));
    curl_easy_setopt(easy.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxEnvelopeBytes));
    curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &download);
    curl_easy_setopt(easy.get(), CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(easy.get(), CURLOPT_HEADERDATA, &download);
    curl_easy_setopt(easy.get(), CURLOPT_USERAGENT, "pinion-manifest-updater");
    if (headers) curl_easy_setopt(easy.get(), CURLOPT_HTTPHEADER, headers.get());
    if (!options_.ca_file.empty()) curl_easy_setopt(easy.get(), CURLOPT_CAINFO, options_.ca_file.c_str());
    if (Status attached = pinning_->Install(easy.get()); !attached.ok()) {
      result.error = attached.error();
      return result;
    }
    CURLcode code = curl_easy_perform(easy.get());
    result.pin_verdict = pinning_->VerdictOf(easy.get());
    pinning_->Uninstall(easy.get());
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &result.http_status);
    if (code != CURLE_OK) {
      std::string what = download.too_large
                             ? "the manifest is larger than " + std::to_string(kMaxEnvelopeBytes) + " bytes"
                             : std::string(curl_easy_strerror(code));
      if (result.pin_verdict && !result.pin_verdict->allowed()) {
        what = "the manifest server's chain failed the baseline pins: " + result.pin_verdict->Summary();
        result.error = Error(ErrorCode::kPinValidationFailed, what).WithSource(options_.url);
      } else {
        result.error = Error(ErrorCode::kNetwork, what).WithSource(options_.url);
      }
      return result;
    }
    result.body = std::move(download.body);
    result.etag = std::move(download.etag);
    return result;
  }

 private:
  ManifestUpdaterOptions options_;
  PolicyStore baseline_store_;  // pins the download
  std::unique_ptr<CurlPinning> pinning_;
};

}  // namespace

Result<std::unique_ptr<ManifestUpdater>> ManifestUpdater::Create(DynamicPolicy& policy,
                                                                 ManifestUpdaterOptions options) {
  if (!options.url.starts_with("https://")) {
    return Error(ErrorCode::kInvalidArgument, "manifests are fetched over https:// only, not '" + options.url + "'");
  }
  if (options.timeout.count() <= 0) return Error(ErrorCode::kInvalidArgument, "the request timeout must be > 0");
  PINION_TRY(internal::InitCurlOnce());
  ManifestSchedule schedule{.interval = options.interval,
                            .jitter = options.jitter,
                            .min_backoff = options.min_backoff,
                            .max_backoff = options.max_backoff,
                            .random_seed = options.random_seed};
  auto fetcher = std::make_unique<CurlManifestFetcher>(policy, std::move(options));
  PINION_TRY(fetcher->Init());
  PINION_ASSIGN_OR_RETURN(auto updater, pinion::ManifestUpdater::Create(policy, std::move(fetcher), schedule));
  return std::unique_ptr<ManifestUpdater>(new ManifestUpdater(std::move(updater)));
}

}  // namespace pinion::curl
