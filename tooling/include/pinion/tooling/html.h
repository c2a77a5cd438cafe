// pinion/tooling/html.h — text into HTML, for the pages pinion renders
// (the inventory, the collector's dashboard).
#ifndef PINION_TOOLING_HTML_H_
#define PINION_TOOLING_HTML_H_

#include <string>
#include <string_view>

namespace pinion::tooling {

// HtmlEscape makes `text` safe as HTML element content and as a quoted
// attribute value: & < > " ' become character references.
std::string HtmlEscape(std::string_view text);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_HTML_H_
