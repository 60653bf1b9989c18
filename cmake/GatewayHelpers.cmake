# gw_embed_file(<target> <symbol> <input>): compiles <input>'s bytes into <target> as
# gw::embedded::<symbol> (a std::string_view).
function(gw_embed_file target symbol input)
  get_filename_component(abs "${input}" ABSOLUTE)
  set(out "${CMAKE_CURRENT_BINARY_DIR}/embedded/${symbol}.cc")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -DINPUT=${abs} -DOUTPUT=${out} -DSYMBOL=${symbol}
            -P ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
    DEPENDS "${abs}" ${PROJECT_SOURCE_DIR}/cmake/EmbedFile.cmake
    COMMENT "Embedding ${input}")
  target_sources(${target} PRIVATE "${out}")
endfunction()

# gw_add_adapter(<profile> SOURCES ...): one national profile, built as an object library
# so that its self-registration is always linked in. Adapters may depend only on the
# shared schema and common code.
function(gw_add_adapter profile)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  set(target "adapter_${profile}")
  string(REPLACE "-" "_" target "${target}")
  add_library(${target} OBJECT ${ARG_SOURCES})
  target_link_libraries(${target} PUBLIC gateway_schema)
  set_property(GLOBAL APPEND PROPERTY GW_ADAPTER_TARGETS ${target})
endfunction()
