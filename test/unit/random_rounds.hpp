// How many of a random test's seeded cases run. The gcc build (the test command's ctest): all
// of them. The sanitizer build (scripts/fuzz.sh: test code at -O0 under ASan + UBSan,
// DUCACHE_SANITIZED_TESTS from CMakeLists.txt): the first quarter, the same seeds in the same
// order; those few tests were most of its unit tests' time. The checks on what a test
// exercised (how many errors, fallbacks, directory hits) scale alike: random_rounds(threshold).
#pragma once

#ifdef DUCACHE_SANITIZED_TESTS
constexpr int kRandomRoundsShare = 4;
#else
constexpr int kRandomRoundsShare = 1;
#endif

constexpr int random_rounds(int n) { return n / kRandomRoundsShare; }
