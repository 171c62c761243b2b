# The worker-thread skeleton (engine/base/worker.h): jobs, request slots, due
# times, stop with work in every state. ASan+UBSan and ThreadSanitizer too.
add_executable(test-worker ${CMAKE_SOURCE_DIR}/tests/unit/worker_test.c)
target_link_libraries(test-worker PRIVATE sd_base)
foreach(t jobs stop_frees requests sleep)
  add_test(NAME worker_${t} COMMAND test-worker ${t})
  set_tests_properties(worker_${t} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 60)
endforeach()
