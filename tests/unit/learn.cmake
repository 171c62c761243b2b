# Learning engine tests (engine/learn*.c, docs/learning.md): one ctest per case of
# learn_test.c, each on its own temporary store. Labelled "sanitize" (ASan+UBSan build too).
add_executable(learn_test ${CMAKE_CURRENT_LIST_DIR}/learn_test.c)
target_link_libraries(learn_test PRIVATE swarmdeck_engine)
foreach(case stats_empty stats_hand stats_failures patterns_hand patterns_task restart
             suggest_evidence suggest_ranking suggest_timeout suggest_reference prediction_accuracy
             optimize_bounds optimize_converges)
  add_test(NAME learn_${case} COMMAND learn_test ${case})
  set_tests_properties(learn_${case} PROPERTIES LABELS "learn;sanitize")
endforeach()

# The reward model and issue 15's cases (learn_model_test.c), the same way.
add_executable(learn_model_test ${CMAKE_CURRENT_LIST_DIR}/learn_model_test.c)
target_link_libraries(learn_model_test PRIVATE swarmdeck_engine)
foreach(case patterns_search suggest_deflated_gate optimize_repeat_seed optimize_batch
             suggest_untuned suggest_min_trades_synthetic deflated_sharpe stats_reward_skill cache)
  add_test(NAME learn_${case} COMMAND learn_model_test ${case})
  set_tests_properties(learn_${case} PROPERTIES LABELS "learn;sanitize")
endforeach()
