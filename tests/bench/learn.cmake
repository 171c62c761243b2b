# bench-learn: suggestion latency at 1k/10k/100k trajectories, stats over 1M, index
# rebuild from a 100k store (docs/benchmarks/learn.md). Not a CTest test: run by hand.
add_executable(bench-learn ${CMAKE_CURRENT_LIST_DIR}/learn_bench.c)
target_link_libraries(bench-learn PRIVATE swarmdeck_engine m)
