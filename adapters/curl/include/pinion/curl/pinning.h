// pinion/curl/pinning.h — pin enforcement for libcurl transfers.
//
//   pinion::PolicyStore store(*pinion::LoadPolicyFile("pins.toml"));
//   auto pinning = pinion::curl::CurlPinning::Create(store);
//   CURL* easy = curl_easy_init();
//   curl_easy_setopt(easy, CURLOPT_URL, "https://api.example.com/");
//   (*pinning)->Install(easy);           // pins every connection of this handle
//   CURLcode rc = curl_easy_perform(easy);
//   if (auto verdict = (*pinning)->VerdictOf(easy); verdict && !verdict->allowed())
//     std::cerr << verdict->Explain();  // rc is CURLE_PEER_FAILED_VERIFICATION
//
// How: CURLOPT_SSL_CTX_FUNCTION installs pinion's OpenSSL Enforcer on the
// SSL_CTX curl creates for each connection, so pins are checked on the chain
// OpenSSL validated, inside the handshake, on top of curl's own checks. The
// host pinned is the one of the transfer's URL, and OpenSSL checks that same
// name against the certificate whatever CURLOPT_SSL_VERIFYHOST and
// CURLOPT_SSL_VERIFYPEER say (certificate verification is forced on).
// curl's connection cache ignores the SSL_CTX function, so before any
// request byte is sent (CURLOPT_PREREQFUNCTION) every transfer must prove
// that its connection — new or reused — was pin-checked by this CurlPinning
// for its host and port and that the decision holds under the current policy
// (Enforcer::ConfirmConnection); otherwise the transfer is aborted
// (CURLE_ABORTED_BY_CALLBACK). A plain-HTTP transfer to a host the policy
// pins is aborted too. Install owns CURLOPT_SSL_CTX_FUNCTION/DATA and
// CURLOPT_PREREQFUNCTION/DATA: set your own before Install, never after.
// Needs libcurl built on OpenSSL: Install fails with kTlsSetup otherwise,
// never silently unpinned. The CurlPinning must outlive the handles attached
// to it.
#ifndef PINION_CURL_PINNING_H_
#define PINION_CURL_PINNING_H_

#include <curl/curl.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "pinion/openssl/enforcer_options.h"
#include "pinion/policy_store.h"
#include "pinion/result.h"
#include "pinion/verdict.h"

namespace pinion::openssl {
class Enforcer;
}  // namespace pinion::openssl

namespace pinion::curl {

class CurlPinning {
 public:
  // Create reads policies from `store`, which must outlive the CurlPinning.
  static Result<std::unique_ptr<CurlPinning>> Create(PolicyStore& store,
                                                     openssl::EnforcerOptions options = {});
  ~CurlPinning();

  // The adapters share one vocabulary: Install (once per handle here, as per
  // context for OpenSSL and Asio) and VerdictOf after a transfer.

  // Install makes every connection `easy` opens enforce the policy. kTlsSetup
  // when libcurl's TLS backend is not OpenSSL or the option is refused.
  Status Install(CURL* easy);
  // Uninstall unpins `easy`; call it before curl_easy_cleanup(easy) (required:
  // copies made with curl_easy_duphandle would otherwise name a freed
  // handle). Copies of an installed handle must be installed themselves;
  // until then their transfers fail.
  void Uninstall(CURL* easy);

  // VerdictOf is the verdict that decided `easy`'s latest transfer: its
  // handshake's, or the one confirmed for a reused connection (null when none
  // was reached, e.g. a network error, a failure of normal validation, or a
  // reused connection that pinion never checked).
  std::shared_ptr<const Verdict> VerdictOf(CURL* easy) const;

  // The names before the shared vocabulary; removed in 0.3.
  [[deprecated("use Install")]] Status Attach(CURL* easy) { return Install(easy); }
  [[deprecated("use Uninstall")]] void Detach(CURL* easy) { Uninstall(easy); }
  [[deprecated("use VerdictOf")]] std::shared_ptr<const Verdict> LastVerdict(CURL* easy) const {
    return VerdictOf(easy);
  }

 private:
  // Attachment is what one attached handle's callbacks need.
  struct Attachment {
    CurlPinning* pinning = nullptr;
    CURL* easy = nullptr;
    std::shared_ptr<const Verdict> last_verdict;  // guarded by pinning->mutex_
  };

  CurlPinning(std::unique_ptr<openssl::Enforcer> enforcer, PolicyStore& store);
  static CURLcode OnSslContext(CURL* easy, void* ssl_ctx, void* attachment);
  static int OnPrerequest(void* attachment, char* primary_ip, char* local_ip, int primary_port,
                          int local_port);
  void SetLastVerdict(CURL* easy, std::shared_ptr<const Verdict> verdict);

  std::unique_ptr<openssl::Enforcer> enforcer_;
  PolicyStore& store_;
  mutable std::mutex mutex_;
  std::map<CURL*, std::unique_ptr<Attachment>> attachments_;
  std::vector<std::unique_ptr<Attachment>> retired_;  // detached; copies may still name them
};

// IsOpenSslBackend: libcurl's active TLS backend is OpenSSL (what CurlPinning needs).
bool IsOpenSslBackend();

// PinnedPublicKeyFor is the CURLOPT_PINNEDPUBLICKEY string ("sha256//…;sha256//…")
// of the rule covering `host`: curl's own, leaf-only pinning, for builds
// where CurlPinning cannot be used (any TLS backend). curl compares only the
// leaf's key, so a rule whose pins are CA keys would never match: use
// CurlPinning for those. Errors: kInvalidArgument when no rule covers `host`
// or the rule has certificate pins (curl cannot express them).
Result<std::string> PinnedPublicKeyFor(const Policy& policy, std::string_view host);
// ApplyPinnedPublicKey sets CURLOPT_PINNEDPUBLICKEY on `easy` from `policy`
// (kTlsSetup when the linked curl's backend does not support it).
Status ApplyPinnedPublicKey(CURL* easy, const Policy& policy, std::string_view host);

}  // namespace pinion::curl

#endif  // PINION_CURL_PINNING_H_
