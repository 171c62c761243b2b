# bench-store: the store's throughput, commit latency and stats query
# (docs/benchmarks/store.md). Not a CTest test: run ./bench-store by hand.
add_executable(bench-store ${CMAKE_SOURCE_DIR}/tests/bench/store_bench.c)
target_link_libraries(bench-store PRIVATE swarmdeck_engine m)
