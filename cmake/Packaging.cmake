# Installation: headers, the libraries (pinion::pinion, pinion::dynamic,
# pinion::report, pinion::openssl, pinion::curl, header-only pinion::asio), a
# CMake config package and one pkg-config file per library.
#   cmake --install build --prefix /usr/local
#   find_package(pinion 0.1 CONFIG REQUIRED)  →  target_link_libraries(app PRIVATE pinion::openssl)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(pinion_openssl PROPERTIES EXPORT_NAME openssl)
set_target_properties(pinion_curl PROPERTIES EXPORT_NAME curl)
set_target_properties(pinion_asio PROPERTIES EXPORT_NAME asio)

install(TARGETS pinion pinion_dynamic pinion_report pinion_openssl pinion_curl pinion_asio EXPORT pinionTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The public headers only: the engine's, dynamic's and report's never name an
# OpenSSL type; pinion/openssl/ (the adapter and the engine's RAII owners and
# helpers for OpenSSL users) and the Asio adapter are the only ones that do.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/pinion
                  ${PROJECT_SOURCE_DIR}/adapters/openssl/include/pinion
                  ${PROJECT_SOURCE_DIR}/adapters/curl/include/pinion
                  ${PROJECT_SOURCE_DIR}/adapters/asio/include/pinion
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT pinionTargets NAMESPACE pinion:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pinion)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/pinionConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/pinionConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pinion)
# 0.x: only the same minor version is compatible (semantic versioning before 1.0).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pinionConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/pinionConfig.cmake ${PROJECT_BINARY_DIR}/pinionConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/pinion)
# One .pc per library; each finds the prefix from its own location
# (${pcfiledir}), so it stays right with --prefix. The libraries are static,
# so what they link is in Requires, not Requires.private.
file(RELATIVE_PATH PINION_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
function(pinion_pkg_config name summary requires libs)
  set(PC_NAME ${name})
  set(PC_SUMMARY "${summary}")
  set(PC_REQUIRES "${requires}")
  set(PC_LIBS "${libs}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/pinion.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${name}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endfunction()
pinion_pkg_config(pinion "the engine: pins, policies, evaluation" "libcrypto >= 3.0 libidn2 libpsl tomlplusplus" "-lpinion")
pinion_pkg_config(pinion-dynamic "signed pin-set updates (DSSE manifests, kill switch)" "pinion = ${PROJECT_VERSION} libcrypto >= 3.0" "-lpinion_dynamic")
pinion_pkg_config(pinion-report "failure reports: building, spool, reporter" "pinion = ${PROJECT_VERSION}" "-lpinion_report")
pinion_pkg_config(pinion-openssl "enforcement in OpenSSL handshakes" "pinion = ${PROJECT_VERSION} openssl >= 3.0" "-lpinion_openssl")
pinion_pkg_config(pinion-curl "enforcement for libcurl, manifest updater, report uploader" "pinion-openssl = ${PROJECT_VERSION} pinion-dynamic = ${PROJECT_VERSION} pinion-report = ${PROJECT_VERSION} libcurl" "-lpinion_curl")
pinion_pkg_config(pinion-asio "enforcement for asio::ssl::stream (header-only; Boost.Asio or Asio)" "pinion-openssl = ${PROJECT_VERSION}" "")
