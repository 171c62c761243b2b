# bench-sandbox: start latency of swarmdeck-sandbox vs bwrap vs plain posix_spawn, and density
# of 1000 concurrent sandboxes. Run by hand (needs root); see docs/benchmarks/sandbox.md.
if(TARGET swarmdeck-sandbox)
  add_executable(bench-sandbox ${CMAKE_CURRENT_LIST_DIR}/sandbox_bench.c)
  target_compile_definitions(bench-sandbox PRIVATE SBX_HELPER="$<TARGET_FILE:swarmdeck-sandbox>")
  add_dependencies(bench-sandbox swarmdeck-sandbox)
endif()
