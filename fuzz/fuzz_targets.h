// Every fuzz target defines LLVMFuzzerTestOneInput. Built two ways
// (fuzz/CMakeLists.txt): with libFuzzer + ASan/UBSan under clang, and with
// replay_main.cc as an ordinary test that runs the seed corpus in every CI run.
#ifndef PINION_FUZZ_FUZZ_TARGETS_H_
#define PINION_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>

// FUZZ_CHECK aborts (a finding) when an oracle is violated; never on bad input.
#define FUZZ_CHECK(condition) \
  do {                        \
    if (!(condition)) std::abort(); \
  } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#endif  // PINION_FUZZ_FUZZ_TARGETS_H_
