# The fleet's store side and its one verify-and-insert (engine/fleet/merge.h), without NATS
# (tests/e2e/fleet.cmake runs the daemons with a real nats-server and sshd).
add_executable(test-fleet ${CMAKE_SOURCE_DIR}/tests/unit/fleet_test.c)
target_include_directories(test-fleet PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
target_link_libraries(test-fleet PRIVATE swarmdeck_engine)
foreach(t merge refused outbox cursor upgrade)
  add_test(NAME fleet_${t} COMMAND test-fleet ${t})
  set_tests_properties(fleet_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
