// The gate in front of the read routes (GET /v1/reports…, /v1/summary, the
// dashboard): ReadAccess decides, this answers the refusals.
#include <string>
#include <utility>

#include "http/handlers.h"
#include "http/json_response.h"
#include "http/read_access.h"

namespace pinion::collector {

HttpHandler ReadersOnly(const ReadAccess& access, HttpHandler handler) {
  return [&access, handler = std::move(handler)](HttpRequest& request, HttpResponder respond) {
    std::string authorization = request.Header("authorization");
    switch (access.Check(authorization)) {
      case ReadAccess::Decision::kAllowed:
        return handler(request, std::move(respond));
      case ReadAccess::Decision::kUnauthorized:
        // RFC 6750 §3: the challenge, with invalid_token when one was presented.
        return respond(
            ErrorResponse(401, "unauthorized",
                          "reading reports needs 'Authorization: Bearer TOKEN' with the token of "
                          "--read-token-file")
                .Set("WWW-Authenticate", authorization.empty()
                                             ? "Bearer realm=\"pinion\""
                                             : "Bearer realm=\"pinion\", error=\"invalid_token\""));
      case ReadAccess::Decision::kDisabled:
        return respond(
            ErrorResponse(403, "reads_disabled",
                          "reading reports is disabled: this collector listens on a non-loopback "
                          "address without --read-token-file"));
    }
  };
}

}  // namespace pinion::collector
