// Fuzzes the collector's percent-decoder. Oracle: the result equals libcurl's
// curl_easy_unescape (what the collector used before) on every input, with and
// without '+' as a space, and never grows the input; ParseQuery never crashes.
#include <curl/curl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "http/percent_decoding.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  for (bool plus : {false, true}) {
    std::string ours = pinion::collector::PercentDecode(text, plus);
    std::string input = text;
    if (plus) std::replace(input.begin(), input.end(), '+', ' ');
    int length = 0;
    char* decoded = curl_easy_unescape(nullptr, input.c_str(), static_cast<int>(input.size()), &length);
    if (decoded == nullptr) continue;
    std::string theirs(decoded, static_cast<std::size_t>(length));
    curl_free(decoded);
    if (ours != theirs || ours.size() > text.size()) std::abort();
  }
  (void)pinion::collector::ParseQuery(text);
  return 0;
}
