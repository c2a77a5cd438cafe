# Installation: headers, the libraries (pinion::pinion, pinion::openssl,
# pinion::curl, header-only pinion::asio), a CMake config package and a pkg-config file.
#   cmake --install build --prefix /usr/local
#   find_package(pinion 0.1 CONFIG REQUIRED)  →  target_link_libraries(app PRIVATE pinion::openssl)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(pinion PROPERTIES EXPORT_NAME pinion)
set_target_properties(pinion_openssl PROPERTIES EXPORT_NAME openssl)
set_target_properties(pinion_curl PROPERTIES EXPORT_NAME curl)
set_target_properties(pinion_asio PROPERTIES EXPORT_NAME asio)

install(TARGETS pinion pinion_openssl pinion_curl pinion_asio EXPORT pinionTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The public headers only: the core's never name an OpenSSL type; the
# adapters' (pinion/openssl/, pinion/curl/) are the only ones that do.
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
# pinion.pc finds the prefix from its own location (${pcfiledir}), so it stays right with --prefix.
file(RELATIVE_PATH PINION_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
configure_file(${PROJECT_SOURCE_DIR}/cmake/pinion.pc.in ${PROJECT_BINARY_DIR}/pinion.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pinion.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
