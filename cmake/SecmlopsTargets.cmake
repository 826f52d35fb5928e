# The one place that says how code that ends up inside a plugin module is compiled: hidden
# visibility (a module exports only its entry point; with RTLD_LOCAL two plugins carrying the
# same static library must not interpose each other's symbols), position-independent code (it is
# linked into a shared object) and the project's warnings (secmlops::warnings, -Werror in CI).
include_guard(GLOBAL)

# secmlops_target_settings(<target>...): apply those settings to existing targets.
function(secmlops_target_settings)
  foreach(target ${ARGN})
    set_target_properties(${target} PROPERTIES
      C_VISIBILITY_PRESET hidden
      CXX_VISIBILITY_PRESET hidden
      VISIBILITY_INLINES_HIDDEN ON
      POSITION_INDEPENDENT_CODE ON)
    target_link_libraries(${target} PRIVATE secmlops::warnings)
  endforeach()
endfunction()

# secmlops_add_library(<name> SOURCES <src>... [INCLUDE_DIR <dir>])
#
# A static library secmlops_<name> (alias secmlops::<name>) for a plugin's core or for code
# several plugins share (libs/), with the settings above. INCLUDE_DIR (default: the calling
# folder) is its public include directory; add dependencies with target_link_libraries().
function(secmlops_add_library name)
  cmake_parse_arguments(L "" "INCLUDE_DIR" "SOURCES" ${ARGN})
  if(NOT L_SOURCES)
    message(FATAL_ERROR "secmlops_add_library(${name}): SOURCES is required")
  endif()
  if(NOT L_INCLUDE_DIR)
    set(L_INCLUDE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
  add_library(secmlops_${name} STATIC ${L_SOURCES})
  add_library(secmlops::${name} ALIAS secmlops_${name})
  target_include_directories(secmlops_${name} PUBLIC ${L_INCLUDE_DIR})
  secmlops_target_settings(secmlops_${name})
endfunction()

# secmlops_plugin(NAME <name> SOURCES <src>... [LINK_LIBRARIES <lib>...]): an in-tree plugin
# module — secmlops_add_plugin() (what third parties use, which already hides symbols and
# forbids undefined ones) plus the project's warnings.
function(secmlops_plugin)
  secmlops_add_plugin(${ARGN})
  secmlops_target_settings(${SECMLOPS_LAST_PLUGIN_TARGET})
  set(SECMLOPS_LAST_PLUGIN_TARGET ${SECMLOPS_LAST_PLUGIN_TARGET} PARENT_SCOPE)
endfunction()
