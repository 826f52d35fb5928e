# Warnings for project code (not applied to generated protobuf sources).
add_library(secmlops_warnings INTERFACE)
target_compile_options(secmlops_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wno-missing-field-initializers>)
add_library(secmlops::warnings ALIAS secmlops_warnings)
