# What issue 15's review found untested in the learner (learn_trust_test.c): one ctest per
# case, labelled "sanitize" (ASan+UBSan build too) and, through tests/CMakeLists.txt, "tsan".
add_executable(learn_trust_test ${CMAKE_CURRENT_LIST_DIR}/learn_trust_test.c)
target_link_libraries(learn_trust_test PRIVATE swarmdeck_engine)
foreach(case optimize_boundary_trap stats_baselines suggest_rests_on suggest_interval
             optimize_reports_oos oos_ranks walk_forward)
  add_test(NAME learn_${case} COMMAND learn_trust_test ${case})
  set_tests_properties(learn_${case} PROPERTIES LABELS "learn;sanitize")
endforeach()
