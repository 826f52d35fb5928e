# secmlops_model_test(<name> SOURCES <src>... LIBS <lib>...): a GoogleTest binary of a model
# plugin, with the generated fixtures (SECMLOPS_MODEL_FIXTURES) and the shared helpers.
set(SECMLOPS_MODEL_FIXTURE_DIR ${CMAKE_BINARY_DIR}/tests/model-fixtures CACHE INTERNAL "")
function(secmlops_model_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;PLUGINS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE GTest::gtest_main GTest::gmock secmlops::warnings secmlops::host ${T_LIBS})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/tests/libs/model_common)
  target_compile_definitions(${name} PRIVATE
    SECMLOPS_PLUGIN_DIR="${SECMLOPS_PLUGIN_OUTPUT_DIR}"
    SECMLOPS_CLI="$<TARGET_FILE:secmlops>"
    SECMLOPS_MODEL_FIXTURES="${SECMLOPS_MODEL_FIXTURE_DIR}")
  add_dependencies(${name} secmlops ${T_PLUGINS})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${name}."
    PROPERTIES TIMEOUT 600 FIXTURES_REQUIRED model_fixtures)
endfunction()
