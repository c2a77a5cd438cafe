# One helper per target kind, so every target gets the same warnings and
# standard (STYLE.md rule 17).

set(PINION_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual
    -Wimplicit-fallthrough -Wswitch
    -Wno-missing-field-initializers  # designated initializers rely on member defaults
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)  # GCC 12 -O3 false positive on string concatenation (PR 105329)
if(PINION_WERROR)
  list(APPEND PINION_WARNINGS -Werror)
endif()

function(pinion_apply_warnings target)
  target_compile_options(${target} PRIVATE ${PINION_WARNINGS})
  target_compile_features(${target} PUBLIC cxx_std_20)
endfunction()

# pinion_cc_test(NAME SOURCES ... LIBS ...): a GoogleTest binary registered with CTest.
function(pinion_cc_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  pinion_apply_warnings(${name})
  # Test code uses OpenSSL's C API directly to build PKIs; its casts are OpenSSL's idiom.
  target_compile_options(${name} PRIVATE -Wno-old-style-cast -Wno-conversion)
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    PINION_TESTDATA_DIR="${PINION_TESTDATA_DIR}"
    PINION_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  include(GoogleTest)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${ARG_LABELS}")
endfunction()

# pinion_cc_library(NAME ALIAS pinion::x EXPORT_NAME x SOURCES ... PUBLIC_LIBS ... PRIVATE_LIBS ...):
# one module's library. Its public headers are include/ (the engine's tree,
# where every module has its folder); src/ is only ever a PRIVATE include path,
# so no target sees another module's internals through its own.
function(pinion_cc_library name)
  cmake_parse_arguments(ARG "" "ALIAS;EXPORT_NAME" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(${name} ${ARG_SOURCES})
  if(ARG_ALIAS)
    add_library(${ARG_ALIAS} ALIAS ${name})
  endif()
  if(ARG_EXPORT_NAME)
    set_target_properties(${name} PROPERTIES EXPORT_NAME ${ARG_EXPORT_NAME})
  endif()
  pinion_apply_warnings(${name})
  target_include_directories(${name}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
