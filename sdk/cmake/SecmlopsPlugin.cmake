# secmlops_add_plugin(NAME <name> SOURCES <src>... [LINK_LIBRARIES <lib>...] [OUTPUT_DIRECTORY <dir>]
#                     [INSTALL])
#
# Builds a secmlops plugin as a loadable module named secmlops_<name>.so. Every symbol is hidden
# except the entry point the SDK macro exports, and undefined symbols are link errors: a plugin
# must not depend on symbols of the host process.
#
# INSTALL (or SECMLOPS_PLUGIN_INSTALL set to ON where the function is called) installs the module
# into SECMLOPS_PLUGIN_INSTALL_DIR, by default lib/secmlops/plugins under the prefix: the folder
# an installed secmlops and secmlopsd search next to their bin/.
include_guard(GLOBAL)
set(SECMLOPS_PLUGIN_INSTALL_DIR lib/secmlops/plugins CACHE STRING
    "Where secmlops_add_plugin(... INSTALL) installs plugin modules, relative to the prefix")

function(secmlops_add_plugin)
  cmake_parse_arguments(P "INSTALL" "NAME;OUTPUT_DIRECTORY" "SOURCES;LINK_LIBRARIES" ${ARGN})
  if(NOT P_NAME)
    message(FATAL_ERROR "secmlops_add_plugin: NAME is required")
  endif()
  if(NOT P_SOURCES)
    message(FATAL_ERROR "secmlops_add_plugin(${P_NAME}): SOURCES is required")
  endif()
  set(target secmlops_plugin_${P_NAME})
  add_library(${target} MODULE ${P_SOURCES})
  target_link_libraries(${target} PRIVATE secmlops::sdk ${P_LINK_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    OUTPUT_NAME secmlops_${P_NAME}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  # Sanitizer runtimes live in the executable, so sanitized builds cannot forbid undefined symbols.
  if(NOT CMAKE_CXX_FLAGS MATCHES "-fsanitize")
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
  target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL")
  if(P_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIRECTORY})
  elseif(DEFINED SECMLOPS_PLUGIN_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${SECMLOPS_PLUGIN_OUTPUT_DIR})
  endif()
  if(P_INSTALL OR SECMLOPS_PLUGIN_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${SECMLOPS_PLUGIN_INSTALL_DIR} COMPONENT plugins)
  endif()
  if(NOT TARGET secmlops::plugin::${P_NAME})
    add_library(secmlops::plugin::${P_NAME} ALIAS ${target})
  endif()
  set(SECMLOPS_LAST_PLUGIN_TARGET ${target} PARENT_SCOPE)
endfunction()
