# The sandbox helper's build-time seccomp program equals libseccomp's (engine/sandbox/filter_gen.c).
if(TARGET swarmdeck-sandbox)
  add_executable(sandbox_filter_test ${CMAKE_CURRENT_LIST_DIR}/sandbox_filter_test.c
    ${CMAKE_SOURCE_DIR}/engine/sandbox/filter.c ${CMAKE_SOURCE_DIR}/engine/sandbox/filter_prebuilt.c)
  add_dependencies(sandbox_filter_test sbx-filter-prog)
  target_include_directories(sandbox_filter_test PRIVATE ${CMAKE_SOURCE_DIR}/engine/sandbox
    ${CMAKE_BINARY_DIR}/engine/sandbox)
  target_link_libraries(sandbox_filter_test PRIVATE PkgConfig::SECCOMP)
  add_test(NAME sandbox_filter_prebuilt COMMAND sandbox_filter_test)
  set_tests_properties(sandbox_filter_prebuilt PROPERTIES LABELS "sanitize")
endif()
