# secmlops_add_subdirectories(): add_subdirectory() for every direct child folder of the current
# source directory that has a CMakeLists.txt, in name order — a new plugin, test or benchmark
# folder joins the build without editing a shared list.
function(secmlops_add_subdirectories)
  file(GLOB children LIST_DIRECTORIES true CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(child ${children})
    if(IS_DIRECTORY ${child} AND EXISTS ${child}/CMakeLists.txt)
      add_subdirectory(${child})
    endif()
  endforeach()
endfunction()
