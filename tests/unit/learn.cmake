# Learning engine tests (engine/learn*.c, docs/learning.md): one ctest per case of
# learn_test.c, each on its own temporary store. Labelled "sanitize" (ASan+UBSan build too).
add_executable(learn_test ${CMAKE_CURRENT_LIST_DIR}/learn_test.c)
target_link_libraries(learn_test PRIVATE swarmdeck_engine)
foreach(case stats_empty stats_hand stats_failures patterns_hand patterns_task restart
             suggest_evidence suggest_ranking suggest_timeout suggest_reference prediction_accuracy
             optimize_bounds optimize_converges
             optimize_repeat_seed optimize_batch suggest_untuned suggest_min_trades_synthetic
             deflated_sharpe stats_reward_skill patterns_search
             suggest_deflated_gate cache)
  add_test(NAME learn_${case} COMMAND learn_test ${case})
  set_tests_properties(learn_${case} PROPERTIES LABELS "learn;sanitize")
endforeach()
