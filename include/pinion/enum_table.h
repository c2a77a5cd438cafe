// pinion/enum_table.h — one table per enum gives both directions, so a
// name written by Name() is always one Parse() reads back, and a new
// enumerator cannot get a name without a parser (or the reverse).
//
//   inline constexpr EnumTable<Mode, 2> kModeNames{{{{Mode::kA, "a"}, {Mode::kB, "b"}}}};
//   kModeNames.Name(Mode::kA) == "a";   kModeNames.Parse("b") == Mode::kB;
//   static_assert(kModeNames.IsComplete());  // every value 0..N-1 once, names distinct
#ifndef PINION_ENUM_TABLE_H_
#define PINION_ENUM_TABLE_H_

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace pinion {

template <typename Enum>
struct EnumName {
  Enum value;
  std::string_view name;
};

template <typename Enum, std::size_t N>
struct EnumTable {
  std::array<EnumName<Enum>, N> entries;

  // Name: the value's name; "unknown" for a value outside the enum.
  constexpr std::string_view Name(Enum value) const {
    for (const EnumName<Enum>& entry : entries) {
      if (entry.value == value) return entry.name;
    }
    return "unknown";
  }
  // Parse: the value with exactly this name (case-sensitive), if any.
  constexpr std::optional<Enum> Parse(std::string_view name) const {
    for (const EnumName<Enum>& entry : entries) {
      if (entry.name == name) return entry.value;
    }
    return std::nullopt;
  }
  // IsComplete: the values are 0..N-1, each once, and the names distinct, so
  // the table covers the whole (contiguous) enum and reads back unambiguously.
  constexpr bool IsComplete() const {
    for (std::size_t i = 0; i < N; ++i) {
      if (static_cast<std::size_t>(static_cast<std::underlying_type_t<Enum>>(entries[i].value)) >= N) return false;
      for (std::size_t j = 0; j < i; ++j) {
        if (entries[i].value == entries[j].value || entries[i].name == entries[j].name) return false;
      }
    }
    return true;
  }
  constexpr std::span<const EnumName<Enum>> all() const { return entries; }
};

}  // namespace pinion

#endif  // PINION_ENUM_TABLE_H_
