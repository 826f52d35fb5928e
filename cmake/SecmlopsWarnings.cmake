# Warnings for project code (not applied to generated protobuf sources).
option(SECMLOPS_WERROR "Treat warnings in project code as errors (CI turns this on)" OFF)

add_library(secmlops_warnings INTERFACE)
target_compile_options(secmlops_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-missing-field-initializers>
  $<$<BOOL:${SECMLOPS_WERROR}>:-Werror>)
# GCC 12's optimiser reports -Wrestrict inside libstdc++'s std::string when a string is built
# from a character and a string (GCC bugs 105329 and 105651, fixed in GCC 13): a false positive
# in the library's own code that no change on our side removes. Off for those compilers, in
# optimised builds only (the pass that misfires does not run in Debug, which keeps the warning).
target_compile_options(secmlops_warnings INTERFACE
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>,$<NOT:$<CONFIG:Debug>>>:-Wno-restrict>)
add_library(secmlops::warnings ALIAS secmlops_warnings)
