// pinion/tooling/inventory.h — the documented pins auditors ask for: per host,
// each pin with its label, the key or certificate it corresponds to, the
// policy expiry and the next rotation.
#ifndef PINION_TOOLING_INVENTORY_H_
#define PINION_TOOLING_INVENTORY_H_

#include <string>
#include <vector>

#include "pinion/clock.h"
#include "pinion/pin_source.h"
#include "pinion/policy.h"

namespace pinion::tooling {

struct InventoryOptions {
  std::string source_name = "policy";
  TimePoint now = SystemClock::Instance().Now();
  std::vector<PinSource> keys;  // --keys: what the pins correspond to
};

// InventoryMarkdown and InventoryHtml render the same document. The next
// rotation of a host is the earliest of its rule's expiry and the expiry of
// any certificate (from --keys) a pin matches.
std::string InventoryMarkdown(const Policy& policy, const InventoryOptions& options);
std::string InventoryHtml(const Policy& policy, const InventoryOptions& options);

}  // namespace pinion::tooling

#endif  // PINION_TOOLING_INVENTORY_H_
