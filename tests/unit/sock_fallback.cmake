# The daemon socket's /tmp fallback (engine/serve/sock.c): XDG_RUNTIME_DIR unset or unusable
# gives /tmp/swarmdeck-UID/sock, private, where a store's socket listens and is found again.
add_executable(sock_fallback_test ${CMAKE_CURRENT_LIST_DIR}/sock_fallback_test.c)
target_link_libraries(sock_fallback_test PRIVATE swarmdeck_engine)
foreach(case fallback listen)
  add_test(NAME sock_fallback_${case} COMMAND sock_fallback_test ${case})
  set_tests_properties(sock_fallback_${case} PROPERTIES LABELS "daemon;sanitize" TIMEOUT 60)
endforeach()
