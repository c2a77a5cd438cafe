// The router alone: which route answers which method and path, and what a
// pattern's groups capture.
#include "http/router.h"

#include <gtest/gtest.h>

#include <string>

namespace pinion::collector {
namespace {

// A handler that answers with its own name, so a test can see which ran.
HttpHandler Named(std::string name) {
  return [name](HttpRequest&, HttpResponder respond) {
    respond(HttpResponse::Content(200, name, "text/plain"));
  };
}

std::string Answer(const Router::Route& route, HttpRequest& request) {
  std::string body;
  route.handler(request, [&](HttpResponse response) { body = response.body; });
  return body;
}

HttpRequest Request(std::string method, std::string path) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

TEST(CollectorRouterTest, MatchesMethodAndWholePath) {
  Router router;
  router.Add("POST", "/v1/reports", Router::kOnIoThread, Named("post"));
  router.Add("GET", "/v1/reports", Router::kOnWorker, Named("list"));
  router.Add("GET", R"(/v1/reports/(\d{1,18}))", Router::kOnWorker, Named("one"));

  HttpRequest post = Request("POST", "/v1/reports");
  const Router::Route* route = router.Find(post);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Answer(*route, post), "post");
  EXPECT_EQ(route->dispatch, Router::kOnIoThread);

  HttpRequest list = Request("GET", "/v1/reports");
  route = router.Find(list);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Answer(*route, list), "list");
  EXPECT_EQ(route->dispatch, Router::kOnWorker);
  EXPECT_TRUE(list.captures.empty());

  for (const char* path : {"/v1/reports/", "/v1/reports/12a", "/v1/reports/1234567890123456789",
                           "/v1/reports/5/x", "/v1/report", "/v1/reports?x"}) {
    HttpRequest miss = Request("GET", path);
    EXPECT_EQ(router.Find(miss), nullptr) << path;
    EXPECT_TRUE(miss.captures.empty()) << path;
  }
  HttpRequest wrong_method = Request("DELETE", "/v1/reports");
  EXPECT_EQ(router.Find(wrong_method), nullptr);
}

TEST(CollectorRouterTest, CapturesGroupsAndTheFirstMatchWins) {
  Router router;
  router.Add("GET", R"(/v1/manifests/([^/]+))", Router::kOnWorker, Named("manifest"));
  router.Add("GET", "/v1/manifests/special", Router::kOnWorker, Named("never"));
  router.Add("GET", R"(/a/(\w+)/b/(\w+))", Router::kOnWorker, Named("two"));

  HttpRequest manifest = Request("GET", "/v1/manifests/special");
  const Router::Route* route = router.Find(manifest);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Answer(*route, manifest), "manifest");
  EXPECT_EQ(manifest.captures, std::vector<std::string>{"special"});

  HttpRequest two = Request("GET", "/a/x1/b/y2");
  route = router.Find(two);
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(two.captures, (std::vector<std::string>{"x1", "y2"}));

  // A plain path is compared whole, never as a prefix.
  Router plain;
  plain.Add("GET", "/healthz", Router::kOnWorker, Named("health"));
  HttpRequest near_miss = Request("GET", "/healthzz");
  EXPECT_EQ(plain.Find(near_miss), nullptr);
}

}  // namespace
}  // namespace pinion::collector
