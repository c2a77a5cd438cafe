#include "internal/config_value.h"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <set>

namespace pinion::internal {
namespace {

Error TomlError(std::string reason, const toml::source_region& where, std::string_view source) {
  return Error(ErrorCode::kPolicySyntax, std::move(reason))
      .WithSource(std::string(source))
      .WithPosition(where.begin.line, where.begin.column);
}

Result<ConfigValue> FromToml(const toml::node& node, std::string_view source) {
  ConfigValue out;
  out.line = node.source().begin.line;
  out.column = node.source().begin.column;
  switch (node.type()) {
    case toml::node_type::table:
      out.kind = ConfigValue::Kind::kTable;
      for (auto&& [key, value] : *node.as_table()) {
        PINION_ASSIGN_OR_RETURN(ConfigValue child, FromToml(value, source));
        out.table.push_back({std::string(key.str()), std::move(child)});
      }
      return out;
    case toml::node_type::array:
      out.kind = ConfigValue::Kind::kArray;
      for (const toml::node& value : *node.as_array()) {
        PINION_ASSIGN_OR_RETURN(ConfigValue child, FromToml(value, source));
        out.array.push_back(std::move(child));
      }
      return out;
    case toml::node_type::string:
      out.kind = ConfigValue::Kind::kString;
      out.string = node.as_string()->get();
      return out;
    case toml::node_type::integer:
      out.kind = ConfigValue::Kind::kInteger;
      out.integer = node.as_integer()->get();
      return out;
    case toml::node_type::floating_point:
      out.kind = ConfigValue::Kind::kFloat;
      out.floating = node.as_floating_point()->get();
      return out;
    case toml::node_type::boolean:
      out.kind = ConfigValue::Kind::kBool;
      out.boolean = node.as_boolean()->get();
      return out;
    case toml::node_type::date: {
      const toml::date& d = node.as_date()->get();
      char text[16];
      std::snprintf(text, sizeof text, "%04u-%02u-%02u", static_cast<unsigned>(d.year),
                    static_cast<unsigned>(d.month), static_cast<unsigned>(d.day));
      auto parsed = ParseTimestamp(text);
      if (!parsed) return TomlError(parsed.error().message(), node.source(), source);
      out.kind = ConfigValue::Kind::kDateTime;
      out.string = text;
      out.date_time = *parsed;
      return out;
    }
    case toml::node_type::date_time: {
      const toml::date_time& dt = node.as_date_time()->get();
      if (!dt.offset) {
        return TomlError(
            "a local date-time has no UTC offset; add 'Z' or '+HH:MM' (or give a plain date)",
            node.source(), source);
      }
      using namespace std::chrono;
      auto date = year_month_day{year(dt.date.year), month(dt.date.month), day(dt.date.day)};
      out.kind = ConfigValue::Kind::kDateTime;
      out.date_time = sys_days(date) + hours(dt.time.hour) + minutes(dt.time.minute) +
                      seconds(dt.time.second) - minutes(dt.offset->minutes);
      out.string = "date-time";
      return out;
    }
    case toml::node_type::time:
      return TomlError("a time of day without a date is not a valid date here", node.source(),
                       source);
    case toml::node_type::none:
      break;
  }
  return TomlError("unsupported TOML value", node.source(), source);
}

Result<ConfigValue> FromJson(const nlohmann::json& node) {
  ConfigValue out;
  using Type = nlohmann::json::value_t;
  switch (node.type()) {
    case Type::object:
      out.kind = ConfigValue::Kind::kTable;
      for (auto it = node.begin(); it != node.end(); ++it) {
        PINION_ASSIGN_OR_RETURN(ConfigValue child, FromJson(it.value()));
        out.table.push_back({it.key(), std::move(child)});
      }
      return out;
    case Type::array:
      out.kind = ConfigValue::Kind::kArray;
      for (const auto& value : node) {
        PINION_ASSIGN_OR_RETURN(ConfigValue child, FromJson(value));
        out.array.push_back(std::move(child));
      }
      return out;
    case Type::string:
      out.kind = ConfigValue::Kind::kString;
      out.string = node.get<std::string>();
      return out;
    case Type::boolean:
      out.kind = ConfigValue::Kind::kBool;
      out.boolean = node.get<bool>();
      return out;
    case Type::number_integer:
      out.kind = ConfigValue::Kind::kInteger;
      out.integer = node.get<std::int64_t>();
      return out;
    case Type::number_unsigned: {
      std::uint64_t value = node.get<std::uint64_t>();
      if (value > static_cast<std::uint64_t>(INT64_MAX)) {
        out.kind = ConfigValue::Kind::kFloat;
        out.floating = static_cast<double>(value);
      } else {
        out.kind = ConfigValue::Kind::kInteger;
        out.integer = static_cast<std::int64_t>(value);
      }
      return out;
    }
    case Type::number_float:
      out.kind = ConfigValue::Kind::kFloat;
      out.floating = node.get<double>();
      return out;
    case Type::null:
    case Type::binary:
    case Type::discarded:
      break;
  }
  return Error(ErrorCode::kPolicySchema, "null is not a valid value in a policy");
}

// Converts a byte offset into a 1-based line and column.
std::pair<std::uint32_t, std::uint32_t> LineColumn(std::string_view text, std::size_t offset) {
  std::uint32_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

std::string_view KindName(ConfigValue::Kind kind) {
  switch (kind) {
    case ConfigValue::Kind::kBool: return "a boolean";
    case ConfigValue::Kind::kInteger: return "an integer";
    case ConfigValue::Kind::kFloat: return "a float";
    case ConfigValue::Kind::kString: return "a string";
    case ConfigValue::Kind::kDateTime: return "a date";
    case ConfigValue::Kind::kArray: return "an array";
    case ConfigValue::Kind::kTable: return "a table";
  }
  return "a value";
}

Result<ConfigValue> ParseToml(std::string_view text, std::string_view source_name) {
  try {
    toml::table table = toml::parse(text, source_name);
    return FromToml(table, source_name);
  } catch (const toml::parse_error& error) {
    return TomlError(std::string(error.description()), error.source(), source_name);
  }
}

Result<ConfigValue> ParseJson(std::string_view text, std::string_view source_name) {
  // nlohmann keeps the last of duplicate keys silently; a policy must not, so
  // the parser callback records the first duplicate it sees.
  std::vector<std::set<std::string>> keys_by_depth;
  std::string duplicate;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    std::size_t level = static_cast<std::size_t>(depth);
    if (event == Event::object_start) {
      if (keys_by_depth.size() <= level + 1) keys_by_depth.resize(level + 2);
      keys_by_depth[level + 1].clear();
    } else if (event == Event::key && level < keys_by_depth.size()) {
      std::string key = parsed.get<std::string>();
      if (!keys_by_depth[level].insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::exception& error) {
    // parse_error carries a byte offset; others (number overflow …) do not.
    auto* parse_error = dynamic_cast<const nlohmann::json::parse_error*>(&error);
    std::size_t offset = parse_error != nullptr && parse_error->byte > 0 ? parse_error->byte - 1 : 0;
    auto [line, column] = LineColumn(text, offset);
    if (parse_error == nullptr) line = column = 0;
    std::string message = error.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the code is ours to give.
    if (std::size_t bracket = message.find("] "); bracket != std::string::npos) {
      message = message.substr(bracket + 2);
    }
    return Error(ErrorCode::kPolicySyntax, message)
        .WithSource(std::string(source_name))
        .WithPosition(line, column);
  }
  if (!duplicate.empty()) {
    return Error(ErrorCode::kPolicySyntax, "duplicate key '" + duplicate + "'")
        .WithSource(std::string(source_name));
  }
  auto tree = FromJson(document);
  if (!tree) return std::move(tree).error().WithSource(std::string(source_name));
  return tree;
}

}  // namespace pinion::internal
