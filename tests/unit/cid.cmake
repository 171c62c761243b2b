# IPFS CIDs computed locally (engine/store/cid.c) against vectors from a real node.
add_executable(test-cid ${CMAKE_SOURCE_DIR}/tests/unit/cid_test.c)
target_link_libraries(test-cid PRIVATE swarmdeck_engine)
foreach(t vectors streaming parse levels)
  add_test(NAME cid_${t} COMMAND test-cid ${t})
  set_tests_properties(cid_${t} PROPERTIES LABELS "sanitize" TIMEOUT 120)
endforeach()
