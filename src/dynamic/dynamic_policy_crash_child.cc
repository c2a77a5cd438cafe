// A child process for the dynamic-policy crash tests: offers one manifest to a
// DynamicPolicy and kills itself (SIGKILL, as `kill -9`) at a chosen step of
// the state-directory write. With the step "none" it runs to the end and
// prints every step it passed, so the test learns the full list.
//
//   dynamic_policy_child STATE_DIR BASELINE MANIFEST KEY1 KEY2 STEP
#include <csignal>
#include <iostream>
#include <string>

#include "pinion/dynamic/dynamic_policy.h"
#include "pinion/pin_source.h"
#include "pinion/policy_loader.h"

namespace {

std::string ReadText(const char* path) {
  auto bytes = pinion::ReadFileBounded(path, pinion::kMaxEnvelopeBytes);
  if (!bytes) {
    std::cerr << bytes.error().ToString() << "\n";
    std::exit(2);
  }
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: dynamic_policy_child STATE_DIR BASELINE MANIFEST KEY1 KEY2 STEP\n";
    return 2;
  }
  std::string die_at = argv[6];
  auto baseline = pinion::LoadPolicyFile(argv[2]);
  auto key1 = pinion::TrustedKeyFromPem(ReadText(argv[4]));
  auto key2 = pinion::TrustedKeyFromPem(ReadText(argv[5]));
  if (!baseline || !key1 || !key2) return 2;
  pinion::DynamicPolicyOptions options;
  options.on_store_step = [&](std::string_view step) {
    std::cout << step << std::endl;
    if (step == die_at) std::raise(SIGKILL);
  };
  auto policy = pinion::DynamicPolicy::Create(*baseline, {*key1, *key2}, argv[1], options);
  if (!policy) {
    std::cerr << policy.error().ToString() << "\n";
    return 2;
  }
  auto accepted = (*policy)->Offer(ReadText(argv[3]), argv[3]);
  if (!accepted) {
    std::cerr << accepted.error().ToString() << "\n";
    return 1;
  }
  return 0;
}
