#include "pinion/tooling/rotation.h"

#include <gtest/gtest.h>
