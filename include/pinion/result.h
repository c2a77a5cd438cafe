// pinion/result.h — `Result<T>`: a value or an `Error`, shaped like std::expected.
//
//   pinion::Result<pinion::Pin> pin = pinion::Pin::Parse(text);
//   if (!pin) { std::cerr << pin.error().ToString(); return 2; }
//   Use(*pin);
//
// Inside pinion, PINION_TRY / PINION_ASSIGN_OR_RETURN keep the happy path straight.
#ifndef PINION_RESULT_H_
#define PINION_RESULT_H_

#include <cassert>
#include <optional>
#include <utility>
#include <variant>

#include "pinion/error.h"

namespace pinion {

// Result holds either a T or an Error. Accessing the wrong alternative is a
// programming error (asserted in debug builds).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return storage_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(storage_); }
  const T& value() const& { assert(ok()); return std::get<0>(storage_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { assert(!ok()); return std::get<1>(storage_); }
  Error&& error() && { assert(!ok()); return std::get<1>(std::move(storage_)); }

 private:
  std::variant<T, Error> storage_;
};

// Status is a Result with no value: success, or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { assert(!ok()); return *error_; }
  Error&& error() && { assert(!ok()); return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

inline Status OkStatus() { return Status(); }

}  // namespace pinion

#define PINION_CONCAT_INNER_(a, b) a##b
#define PINION_CONCAT_(a, b) PINION_CONCAT_INNER_(a, b)

// PINION_TRY(expr): if the Status/Result `expr` failed, return its Error.
#define PINION_TRY(expr)                                        \
  do {                                                          \
    auto&& pinion_try_result_ = (expr);                         \
    if (!pinion_try_result_.ok()) {                             \
      return std::move(pinion_try_result_).error();             \
    }                                                           \
  } while (false)

// PINION_ASSIGN_OR_RETURN(lhs, expr): evaluate the Result `expr`; on failure
// return its Error, otherwise move its value into `lhs` (which may declare).
#define PINION_ASSIGN_OR_RETURN(lhs, expr) \
  PINION_ASSIGN_OR_RETURN_IMPL_(PINION_CONCAT_(pinion_result_, __LINE__), lhs, expr)
#define PINION_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).error();       \
  lhs = std::move(tmp).value()

#endif  // PINION_RESULT_H_
