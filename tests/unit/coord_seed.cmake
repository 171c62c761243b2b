# The auto-optimiser's seed mixed with the deployment id (issue 15): a repeated --seed does not
# collapse onto one point, consecutive seeds give unrelated streams (coord_seed_test.c).
add_executable(coord_seed_test ${CMAKE_CURRENT_LIST_DIR}/coord_seed_test.c)
target_link_libraries(coord_seed_test PRIVATE swarmdeck_engine)
foreach(case repeat consecutive)
  add_test(NAME coord_seed_${case} COMMAND coord_seed_test ${case}
           $<TARGET_FILE:swarmdeck-runner> $<TARGET_FILE:swarmdeck-sandbox>)
  set_tests_properties(coord_seed_${case} PROPERTIES LABELS "sanitize;tsan" TIMEOUT 120)
endforeach()
