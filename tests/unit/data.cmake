# Tests for the bundled market data in data/ (see data/README.md).
#   data_wellformed          every file: header, dates, finite numbers, bars, row counts
#   data_spy_compound        SPY.csv against compounding the zipline returns in python
#   data_regen_*             gendata reproduces each generated file byte for byte, twice
#   data_synth_stats_*       each synthetic series shows the properties its model claims
# The python checks need only python3's standard library.
set(SWARMDECK_DATA_CHECK ${CMAKE_CURRENT_LIST_DIR}/data_check.py)
set(SWARMDECK_DATA_REGEN ${CMAKE_CURRENT_LIST_DIR}/data_regen.sh)
find_package(Python3 COMPONENTS Interpreter QUIET)

if(Python3_Interpreter_FOUND)
  add_test(NAME data_wellformed
           COMMAND ${Python3_EXECUTABLE} ${SWARMDECK_DATA_CHECK} wellformed ${SWARMDECK_SOURCE_DATA})
  add_test(NAME data_spy_compound
           COMMAND ${Python3_EXECUTABLE} ${SWARMDECK_DATA_CHECK} spy ${SWARMDECK_SOURCE_DATA})
  set_tests_properties(data_wellformed data_spy_compound PROPERTIES LABELS "data;sanitize")
endif()

# gendata comes from tools/, which the top-level CMakeLists.txt adds before tests/.
if(TARGET gendata)
  add_test(NAME data_regen_SPY
           COMMAND sh ${SWARMDECK_DATA_REGEN} $<TARGET_FILE:gendata> ${SWARMDECK_SOURCE_DATA} spy)
  set_tests_properties(data_regen_SPY PROPERTIES LABELS "data;sanitize")
  foreach(sym QQQ IWM TSLA)
    add_test(NAME data_regen_${sym}
             COMMAND sh ${SWARMDECK_DATA_REGEN} $<TARGET_FILE:gendata> ${SWARMDECK_SOURCE_DATA}
                     synth ${sym})
    set_tests_properties(data_regen_${sym} PROPERTIES LABELS "data;sanitize")
    if(Python3_Interpreter_FOUND)
      add_test(NAME data_synth_stats_${sym}
               COMMAND ${Python3_EXECUTABLE} ${SWARMDECK_DATA_CHECK} stats ${SWARMDECK_SOURCE_DATA}
                       $<TARGET_FILE:gendata> ${sym})
      set_tests_properties(data_synth_stats_${sym} PROPERTIES LABELS "data;sanitize")
    endif()
  endforeach()
endif()
