# Key material is wiped with crypto_wipe (OPENSSL_cleanse), which the compiler cannot drop,
# never with memset (tests/unit/wipe_check.py reads the sources).
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME lint_wipe COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/wipe_check.py
                                  ${CMAKE_SOURCE_DIR})
  set_tests_properties(lint_wipe PROPERTIES LABELS "lint")
endif()
