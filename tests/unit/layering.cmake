# The engine's layering (engine/CMakeLists.txt) is enforced by include paths: a part sees
# only its own headers and those of the parts it links. Each case compiles a one-line file
# that includes HEADER as part PART would, in its own EXCLUDE_FROM_ALL object library, and
# expects the compiler to say the header is not found ("deny") or to compile it ("allow",
# the control that shows the probe itself is sound).
set(LAYER_PROBE_DIR ${CMAKE_BINARY_DIR}/layering)
function(sd_layer_case kind part header)
  string(REPLACE "." "_" hname ${header})
  set(name layer_${kind}_${part}_${hname})
  set(src ${LAYER_PROBE_DIR}/${name}.c)
  file(WRITE ${src}.in "#include \"${header}\"\nint sd_layer_probe_${part}_${hname};\n")
  configure_file(${src}.in ${src} COPYONLY)
  add_library(${name} OBJECT EXCLUDE_FROM_ALL ${src})
  # What the part's own sources see: its headers and those of everything it links, PRIVATE
  # links included (the catalog's runner_csv), which its users do not see.
  target_link_libraries(${name} PRIVATE sd_${part} $<TARGET_PROPERTY:sd_${part},LINK_LIBRARIES>)
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target ${name})
  string(REPLACE "." "\\." hre ${header})
  if(kind STREQUAL "deny")
    set_tests_properties(${name} PROPERTIES
      PASS_REGULAR_EXPRESSION "${hre}[:']* (No such file|file not found)" LABELS "layering")
  else()
    set_tests_properties(${name} PROPERTIES FAIL_REGULAR_EXPRESSION "error" LABELS "layering")
  endif()
endfunction()

# No arrow up, none sideways between provider and store.
sd_layer_case(deny base store.h)
sd_layer_case(deny base provider.h)
sd_layer_case(deny provider store.h)
sd_layer_case(deny provider coord.h)
sd_layer_case(deny store provider.h)
sd_layer_case(deny store catalog.h)
sd_layer_case(deny store learn.h)
sd_layer_case(deny catalog learn.h)
sd_layer_case(deny catalog strategy.h)
sd_layer_case(deny learn coord.h)
sd_layer_case(deny learn provider.h)
# The runner's CSV loader is the catalog's own business (linked PRIVATE).
sd_layer_case(deny learn series.h)
sd_layer_case(deny coord bench.h)
# The daemon's parts: the client knows only base; nothing below serve sees it.
sd_layer_case(deny client coord.h)
sd_layer_case(deny client store.h)
sd_layer_case(deny coord server.h)
sd_layer_case(deny bench evlog.h)
# The fleet stands on the store alone: nothing of the engine above it, no console.
sd_layer_case(deny fleet coord.h)
sd_layer_case(deny fleet learn.h)
sd_layer_case(deny fleet server.h)
sd_layer_case(deny store fleet.h)
# Controls: downward includes compile.
sd_layer_case(allow coord store.h)
sd_layer_case(allow coord provider.h)
sd_layer_case(allow store util.h)
sd_layer_case(allow catalog series.h)
sd_layer_case(allow serve coord.h)
sd_layer_case(allow client util.h)
sd_layer_case(allow fleet export.h)
sd_layer_case(allow serve fleet.h)
