# The learner on the deployment path (issue 17, learn_lazy_test.c): the reward model refitted once
# per 64 new runs past 256, not per observation; every run in it below; learn_version.
add_executable(learn_lazy_test ${CMAKE_CURRENT_LIST_DIR}/learn_lazy_test.c)
target_link_libraries(learn_lazy_test PRIVATE swarmdeck_engine)
foreach(case epoch small version oos)
  add_test(NAME learn_lazy_${case} COMMAND learn_lazy_test ${case})
  set_tests_properties(learn_lazy_${case} PROPERTIES LABELS "learn;sanitize")
endforeach()
