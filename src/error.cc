#include "pinion/error.h"

#include <string>

namespace pinion {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
#define PINION_X(id, name, category, summary) \
  case ErrorCode::id:               \
    return name;
    PINION_ERROR_CODES(PINION_X)
#undef PINION_X
  }
  return "unknown";
}

std::string_view ErrorCodeSummary(ErrorCode code) {
  switch (code) {
#define PINION_X(id, name, category, summary) \
  case ErrorCode::id:               \
    return summary;
    PINION_ERROR_CODES(PINION_X)
#undef PINION_X
  }
  return "unknown error";
}

ErrorCategory CategoryOf(ErrorCode code) {
  switch (code) {
#define PINION_X(id, name, category, summary) \
  case ErrorCode::id:                         \
    return ErrorCategory::category;
    PINION_ERROR_CODES(PINION_X)
#undef PINION_X
  }
  return ErrorCategory::kUsage;  // unreachable for a valid code
}

std::string_view ErrorCategoryName(ErrorCategory category) {
  switch (category) {
#define PINION_X(id, name)    \
  case ErrorCategory::id:     \
    return name;
    PINION_ERROR_CATEGORIES(PINION_X)
#undef PINION_X
  }
  return "unknown";
}

Error Error::PrefixField(std::string_view parent) && {
  if (field_.empty()) {
    field_ = std::string(parent);
  } else if (!parent.empty()) {
    // An index ("[2]") attaches directly; a name needs a dot.
    field_ = std::string(parent) + (field_.front() == '[' ? "" : ".") + field_;
  }
  return std::move(*this);
}

std::string Error::ToString() const {
  std::string out;
  if (!source_.empty()) {
    out += source_;
    if (line_ != 0) {
      out += ':' + std::to_string(line_);
      if (column_ != 0) out += ':' + std::to_string(column_);
    }
    out += ": ";
  }
  if (!field_.empty()) out += field_ + ": ";
  out += message_;
  out += " [";
  out += ErrorCodeName(code_);
  out += ']';
  return out;
}

}  // namespace pinion
