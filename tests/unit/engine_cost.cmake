# What one deployment costs the engine's store, counted (issue 17): pooled readers, no reader
# connection and no extra flush per deployment (engine_cost_test.c).
add_executable(engine_cost_test ${CMAKE_CURRENT_LIST_DIR}/engine_cost_test.c)
target_link_libraries(engine_cost_test PRIVATE swarmdeck_engine)
foreach(case reader_pool deploy_reads deploy_flush)
  add_test(NAME engine_cost_${case} COMMAND engine_cost_test ${case}
           $<TARGET_FILE:swarmdeck-runner> $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(engine_cost_${case} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
