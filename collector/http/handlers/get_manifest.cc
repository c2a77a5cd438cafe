// GET /v1/manifests/NAME: a signed manifest as it is on disk, with an ETag so
// that a client revalidating it gets a 304 without a body.
#include <string>
#include <utility>

#include "http/handlers.h"
#include "http/json_response.h"
#include "http/manifest_directory.h"

namespace pinion::collector {

void GetManifest(RouteContext& context, HttpRequest& request, HttpResponder respond) {
  const std::string& name = request.captures[0];
  if (context.manifests == nullptr) {
    return respond(ErrorResponse(404, "not_found", "this collector serves no manifests"));
  }
  if (!ManifestDirectory::IsValidName(name)) {
    return respond(
        ErrorResponse(400, "invalid_argument", "a manifest name is 1-128 of A-Z a-z 0-9 . _ -"));
  }
  auto manifest = context.manifests->Find(name);
  if (!manifest) return respond(ErrorResponse(500, manifest.error()));
  if (!manifest->has_value())
    return respond(ErrorResponse(404, "not_found", "no manifest named '" + name + "'"));
  HttpResponse response;
  response.Set("ETag", (*manifest)->etag);
  // Clients revalidate after max-age; the ETag makes that a 304 with no body.
  response.Set(
      "Cache-Control",
      "public, max-age=" + std::to_string(context.manifest_max_age.count()) + ", must-revalidate");
  if (request.Header("if-none-match") == (*manifest)->etag) {
    response.status = 304;
    return respond(std::move(response));
  }
  response.Set("Content-Type", "application/json");
  response.Set("X-Content-Type-Options", "nosniff");
  response.body = (*manifest)->body;
  respond(std::move(response));
}

}  // namespace pinion::collector
