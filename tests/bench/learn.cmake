# bench-learn: suggestion latency at 1k/10k/100k trajectories, stats over 1M, index
# rebuild from a 100k store (docs/benchmarks/learn.md). Not a CTest test: run by hand.
add_executable(bench-learn ${CMAKE_CURRENT_LIST_DIR}/learn_bench.c)
target_link_libraries(bench-learn PRIVATE swarmdeck_engine m)
# bench-learn-opt: auto-optimise's regret on a known objective against random search and
# Optuna's TPE (tests/bench/learn_opt_bench.py, docs/benchmarks.md). Run by hand; CI runs
# learn_opt_bench_tiny, one seed of 30 runs, to keep it working.
add_executable(bench-learn-opt ${CMAKE_CURRENT_LIST_DIR}/learn_opt_bench.c)
target_link_libraries(bench-learn-opt PRIVATE swarmdeck_engine m)
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND NOT SWARMDECK_SANITIZED)
  add_test(NAME learn_opt_bench_tiny COMMAND ${Python3_EXECUTABLE}
    ${CMAKE_CURRENT_LIST_DIR}/learn_opt_bench.py $<TARGET_FILE:bench-learn-opt> --seeds 1 --runs 30
    --batch 10 --check)
  set_tests_properties(learn_opt_bench_tiny PROPERTIES TIMEOUT 300 LABELS "bench")
endif()
# bench-learn-wf: a walk-forward on SPX: the recommended momentum parameters against the
# defaults, out of sample (docs/benchmarks.md). Run by hand.
add_executable(bench-learn-wf ${CMAKE_CURRENT_LIST_DIR}/learn_wf_bench.c)
target_link_libraries(bench-learn-wf PRIVATE swarmdeck_engine m)
# bench-learn-user: the same objective as a user strategy deployed into sandboxes through the CLI
# (tests/bench/learn_user_bench.py drives it; docs/benchmarks/learn.md). Run by hand.
add_executable(bench-learn-user-strategy ${CMAKE_CURRENT_LIST_DIR}/learn_user_strategy.c)
target_link_libraries(bench-learn-user-strategy PRIVATE m)
if(NOT SWARMDECK_SANITIZED)
  target_link_options(bench-learn-user-strategy PRIVATE -static)
endif()
# bench-learn-deploy: the learner's cost per deployment (learn_suggest + learn_observe, as the
# coordinator calls them) at 1k/10k/100k trajectories (docs/benchmarks/learn.md). Run by hand.
add_executable(bench-learn-deploy ${CMAKE_CURRENT_LIST_DIR}/learn_deploy_bench.c)
target_link_libraries(bench-learn-deploy PRIVATE swarmdeck_engine m)
