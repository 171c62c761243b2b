# The fleet's connection options and live subject (engine/fleet/fleet.c): bad credentials or TLS
# files refused clearly with nothing lost, the live subject, and a TLS connection to a
# nats-server this test starts on loopback with a certificate it makes with openssl.
find_program(SD_NATS_SERVER nats-server PATHS /usr/sbin /usr/bin)
find_program(SD_OPENSSL openssl)
set(sd_nats_bin "${SD_NATS_SERVER}")
if(NOT SD_NATS_SERVER)
  set(sd_nats_bin "")
endif()
set(sd_openssl_bin "${SD_OPENSSL}")
if(NOT SD_OPENSSL)
  set(sd_openssl_bin "")
endif()
add_executable(fleet_opts_test ${CMAKE_CURRENT_LIST_DIR}/fleet_opts_test.c)
target_link_libraries(fleet_opts_test PRIVATE swarmdeck_engine)
foreach(case refused live tls down)
  add_test(NAME fleet_opts_${case}
           COMMAND fleet_opts_test ${case} "${sd_nats_bin}" "${sd_openssl_bin}")
  set_tests_properties(fleet_opts_${case} PROPERTIES LABELS "fleet;sanitize;tsan" TIMEOUT 120
                       SKIP_RETURN_CODE 77)
endforeach()
