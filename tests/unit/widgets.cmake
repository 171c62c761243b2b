# Widget and theme tests: pure logic plus headless snapshots (newterm on
# /dev/null, read back with mvinnstr). No terminal needed.
add_executable(test-widgets ${CMAKE_SOURCE_DIR}/tests/unit/widgets_test.c)
target_link_libraries(test-widgets PRIVATE swarmdeck_tui swarmdeck_widgets)
target_compile_definitions(test-widgets PRIVATE
  SWARMDECK_SOURCE_THEMES="${CMAKE_SOURCE_DIR}/themes")
foreach(t table_sort table_filter table_selection_by_id table_targets table_draw table_layout table_click
          logview_follow logview_search logview_save sparkline_utf8 sparkline_ascii
          form_validation form_choice theme_parser theme_bad_files theme_shipped dialog_default
          sparkline_range sparkline_braille textview browser statusline_fit statusline_draw
          logview_done keys_variants table_sort_arrow)
  add_test(NAME widgets_${t} COMMAND test-widgets ${t})
  set_tests_properties(widgets_${t} PROPERTIES LABELS "sanitize" TIMEOUT 60)
endforeach()

# The operator guide's key tables must be the binding table (--dump-keys).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_FOUND AND TARGET swarmdeck)
  add_test(NAME console_doc_keys
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/unit/doc_keys.py
            $<TARGET_FILE:swarmdeck> ${CMAKE_SOURCE_DIR}/docs/operator-guide.md)
  set_tests_properties(console_doc_keys PROPERTIES LABELS "console" TIMEOUT 30)
endif()
