# The helper retries a payload's execve while its file is busy (ETXTBSY): engine/sandbox/child.c.
if(TARGET swarmdeck-sandbox)
  add_test(NAME sandbox_txtbsy
    COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/sandbox_txtbsy.py
      --helper $<TARGET_FILE:swarmdeck-sandbox> --fixtures ${CMAKE_BINARY_DIR}/sandbox-fixtures)
  set_tests_properties(sandbox_txtbsy PROPERTIES TIMEOUT 120 LABELS "sandbox")
endif()
