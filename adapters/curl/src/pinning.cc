#include "pinion/curl/pinning.h"

#include "pinion/openssl/enforcer.h"

#include <openssl/ssl.h>

#include <string>
#include <string_view>
#include <vector>

#include "pinion/host_pattern.h"
#include "pinion/pin_formats.h"

namespace pinion::curl {
namespace {

struct UrlHost {
  std::string scheme;
  std::string host;
  std::uint16_t port = 443;
};

// The host and port the transfer's URL names (curl follows redirects by
// updating it before connecting again).
Result<UrlHost> HostOfTransfer(CURL* easy) {
  char* url = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || url == nullptr) {
    return Error(ErrorCode::kTlsSetup, "libcurl did not tell the transfer's URL");
  }
  CURLU* parsed = curl_url();
  if (parsed == nullptr) return Error(ErrorCode::kTlsSetup, "out of memory");
  UrlHost out;
  char* scheme = nullptr;
  char* host = nullptr;
  char* port = nullptr;
  bool ok = curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(parsed, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK;
  if (ok) {
    out.scheme.assign(scheme);
    std::string_view name = host;
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
    out.host.assign(name);
    out.port = static_cast<std::uint16_t>(std::stoi(port));
  }
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  curl_url_cleanup(parsed);
  if (!ok) return Error(ErrorCode::kTlsSetup, std::string("cannot read the host of ") + url);
  return out;
}

// SameConnection: the connection `easy` reports (its local and remote
// address and port) is the one curl names for this transfer. The callback
// data names the handle pinion attached, but a copy made with
// curl_easy_duphandle carries the same data: without this check the copy's
// transfer would be judged by the original's connection.
bool SameConnection(CURL* easy, const char* primary_ip, int primary_port, const char* local_ip, int local_port) {
  char* easy_primary_ip = nullptr;
  char* easy_local_ip = nullptr;
  long easy_primary_port = -1, easy_local_port = -1;
  if (primary_ip == nullptr || local_ip == nullptr ||
      curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &easy_primary_ip) != CURLE_OK ||
      curl_easy_getinfo(easy, CURLINFO_LOCAL_IP, &easy_local_ip) != CURLE_OK ||
      curl_easy_getinfo(easy, CURLINFO_PRIMARY_PORT, &easy_primary_port) != CURLE_OK ||
      curl_easy_getinfo(easy, CURLINFO_LOCAL_PORT, &easy_local_port) != CURLE_OK ||
      easy_primary_ip == nullptr || easy_local_ip == nullptr) {
    return false;
  }
  return easy_primary_port == primary_port && easy_local_port == local_port &&
         std::string_view(easy_primary_ip) == primary_ip && std::string_view(easy_local_ip) == local_ip;
}

}  // namespace

bool IsOpenSslBackend() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  // With several backends built in, inactive ones are listed in parentheses.
  return info != nullptr && info->ssl_version != nullptr &&
         std::string_view(info->ssl_version).starts_with("OpenSSL/");
}

CurlPinning::CurlPinning(std::unique_ptr<openssl::Enforcer> enforcer, PolicyStore& store)
    : enforcer_(std::move(enforcer)), store_(store) {}

CurlPinning::~CurlPinning() = default;

Result<std::unique_ptr<CurlPinning>> CurlPinning::Create(PolicyStore& store, openssl::EnforcerOptions options) {
  PINION_ASSIGN_OR_RETURN(auto enforcer, openssl::Enforcer::Create(store, std::move(options)));
  return std::unique_ptr<CurlPinning>(new CurlPinning(std::move(enforcer), store));
}

Status CurlPinning::Install(CURL* easy) {
  if (!IsOpenSslBackend()) {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    return Error(ErrorCode::kTlsSetup, std::string("libcurl uses the TLS backend '") +
                                           (info->ssl_version ? info->ssl_version : "none") +
                                           "'; pinion's curl adapter needs OpenSSL");
  }
  Attachment* attachment = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto& slot = attachments_[easy];
    if (slot == nullptr) slot = std::make_unique<Attachment>(Attachment{this, easy, nullptr});
    slot->last_verdict = nullptr;
    attachment = slot.get();
  }
  if (curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, &CurlPinning::OnSslContext) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, attachment) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &CurlPinning::OnPrerequest) != CURLE_OK ||
      curl_easy_setopt(easy, CURLOPT_PREREQDATA, attachment) != CURLE_OK) {
    Uninstall(easy);
    return Error(ErrorCode::kTlsSetup,
                 "libcurl refused CURLOPT_SSL_CTX_FUNCTION or CURLOPT_PREREQFUNCTION (needs libcurl 7.80 or later)");
  }
  // Pinning sits on top of normal validation, never instead of it (the
  // Enforcer forces both again whatever is set after this).
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  return OkStatus();
}

void CurlPinning::Uninstall(CURL* easy) {
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, nullptr);
  curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, nullptr);
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, nullptr);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, nullptr);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = attachments_.find(easy);
  if (it == attachments_.end()) return;
  // A copy made with curl_easy_duphandle may still point at this
  // attachment: keep it, marked detached, for the CurlPinning's lifetime.
  it->second->easy = nullptr;
  retired_.push_back(std::move(it->second));
  attachments_.erase(it);
}

std::shared_ptr<const Verdict> CurlPinning::VerdictOf(CURL* easy) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = attachments_.find(easy);
  return it == attachments_.end() ? nullptr : it->second->last_verdict;
}

void CurlPinning::SetLastVerdict(CURL* easy, std::shared_ptr<const Verdict> verdict) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = attachments_.find(easy);
  if (it != attachments_.end()) it->second->last_verdict = std::move(verdict);
}

CURLcode CurlPinning::OnSslContext(CURL* easy, void* ssl_ctx, void* arg) {
  auto* attachment = static_cast<Attachment*>(arg);
  CurlPinning* self = attachment->pinning;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    if (attachment->easy != easy) {
      // A copy (curl_easy_duphandle) of an attached handle, or a detached
      // one: it must be attached itself, or its transfers fail.
      return CURLE_SSL_CERTPROBLEM;
    }
  }
  self->SetLastVerdict(easy, nullptr);  // this connection's verdict replaces the last one
  auto target = HostOfTransfer(easy);
  if (!target) return CURLE_SSL_CERTPROBLEM;
  openssl::ContextDefaults defaults{target->host, target->port,
                                    [self, easy](std::shared_ptr<const Verdict> verdict) {
                                      self->SetLastVerdict(easy, std::move(verdict));
                                    }};
  if (!self->enforcer_->Install(static_cast<SSL_CTX*>(ssl_ctx), std::move(defaults)).ok()) {
    return CURLE_SSL_CERTPROBLEM;  // fail the transfer rather than run it unpinned
  }
  return CURLE_OK;
}

int CurlPinning::OnPrerequest(void* arg, char* primary_ip, char* local_ip, int primary_port, int local_port) {
  // Runs after the connection is made or taken from curl's cache, before the
  // request is sent: the one point every transfer passes, reused or not.
  auto* attachment = static_cast<Attachment*>(arg);
  CurlPinning* self = attachment->pinning;
  CURL* easy = nullptr;
  {
    std::lock_guard<std::mutex> lock(self->mutex_);
    easy = attachment->easy;
  }
  if (easy == nullptr) return CURL_PREREQFUNC_ABORT;  // a copy of a handle since detached
  auto target = HostOfTransfer(easy);
  if (!target) return CURL_PREREQFUNC_ABORT;
  if (target->scheme != "https") {
    // No TLS to pin: allowed only for hosts the policy does not pin.
    PolicySnapshot policy = self->store_.Current();
    auto normalized = NormalizeHostName(target->host);
    if (!normalized) return CURL_PREREQFUNC_ABORT;
    bool pinned = policy != nullptr && policy->FindRule(*normalized) != nullptr;
    return pinned ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
  }
  curl_tlssessioninfo* tls = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_TLS_SSL_PTR, &tls) != CURLE_OK || tls == nullptr ||
      tls->backend != CURLSSLBACKEND_OPENSSL || tls->internals == nullptr) {
    self->SetLastVerdict(easy, nullptr);
    return CURL_PREREQFUNC_ABORT;
  }
  auto* ssl = static_cast<SSL*>(tls->internals);
  if (!SameConnection(easy, primary_ip, primary_port, local_ip, local_port)) {
    // Not the connection this transfer runs on (a duplicated handle that was
    // never attached itself): nothing proves a check for it.
    self->SetLastVerdict(easy, nullptr);
    return CURL_PREREQFUNC_ABORT;
  }
  auto confirmed = self->enforcer_->ConfirmConnection(ssl, target->host, target->port);
  if (!confirmed) {
    // Keep a rejecting verdict to explain the failure; never an allowing one.
    std::shared_ptr<const Verdict> verdict = openssl::Enforcer::VerdictOf(ssl);
    self->SetLastVerdict(easy, verdict != nullptr && !verdict->allowed() ? verdict : nullptr);
    return CURL_PREREQFUNC_ABORT;
  }
  self->SetLastVerdict(easy, *confirmed);
  return CURL_PREREQFUNC_OK;
}

Result<std::string> PinnedPublicKeyFor(const Policy& policy, std::string_view host) {
  PINION_ASSIGN_OR_RETURN(std::string normalized, NormalizeHostName(host));
  const DomainRule* rule = policy.FindRule(normalized);
  if (rule == nullptr) {
    return Error(ErrorCode::kInvalidArgument, "no rule of the policy covers '" + normalized + "'");
  }
  std::vector<Pin> pins;
  for (const PinEntry& entry : rule->pins) pins.push_back(entry.pin);
  auto text = FormatCurlPinList(pins);
  if (!text) {
    return Error(ErrorCode::kInvalidArgument,
                 text.error().message() + " (rule " + rule->host.ToString() + "); use CurlPinning instead");
  }
  return text;
}

Status ApplyPinnedPublicKey(CURL* easy, const Policy& policy, std::string_view host) {
  PINION_ASSIGN_OR_RETURN(std::string pins, PinnedPublicKeyFor(policy, host));
  CURLcode code = curl_easy_setopt(easy, CURLOPT_PINNEDPUBLICKEY, pins.c_str());  // curl copies the string
  if (code != CURLE_OK) {
    return Error(ErrorCode::kTlsSetup, std::string("libcurl refused CURLOPT_PINNEDPUBLICKEY: ") + curl_easy_strerror(code));
  }
  return OkStatus();
}

}  // namespace pinion::curl
