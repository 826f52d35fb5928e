# Hot model kernels are compiled once per instruction set and chosen at run time
# (secmlops/models/isa.hpp); everything else keeps the portable x86-64 baseline.
#
# secmlops_isa_variants(<target> SOURCES <src>... [LINK_LIBRARIES <lib>...] [OPTIONS <opt>...])
#   compiles SOURCES three times into <target> (with its include directories): portable
#   (baseline), avx2 (-mavx2 -mfma) and avx512 (F, DQ, VL, BW). Each copy sees SECMLOPS_ISA_NS = isa_portable | isa_avx2 |
#   isa_avx512 and puts its functions in that namespace. The AVX copies also rename Eigen's
#   namespace (-DEigen=secmlops_eigen_<isa>): otherwise an inline Eigen function instantiated in
#   both an AVX and a portable object has one name, the linker keeps either copy, and portable
#   callers could run AVX code. tests/libs/model_common/isa_symbols_check.py checks the
#   built plugins: every function holding an AVX instruction is named for an AVX variant.
#
# secmlops_numeric_code(<target>): -O2 even in Debug builds for model code (tests that train
# real models stay quick), applied to the target itself, not to what links it.
include_guard(GLOBAL)

function(secmlops_isa_variants target)
  # The run-time check for each set is in libs/model_common/src/isa.cpp.
  set(flags_portable "")
  set(flags_avx2 -mavx2 -mfma)
  set(flags_avx512 -mavx2 -mfma -mavx512f -mavx512dq -mavx512vl -mavx512bw -mprefer-vector-width=512
    -Wno-maybe-uninitialized)  # GCC 12 warns inside its own AVX-512 headers as Eigen uses them
  cmake_parse_arguments(V "" "" "SOURCES;LINK_LIBRARIES;OPTIONS" ${ARGN})
  foreach(isa portable avx2 avx512)
    set(obj ${target}_${isa})
    add_library(${obj} OBJECT ${V_SOURCES})
    target_link_libraries(${obj} PRIVATE ${V_LINK_LIBRARIES} secmlops::warnings)
    target_include_directories(${obj} PRIVATE $<TARGET_PROPERTY:${target},INCLUDE_DIRECTORIES>)
    target_compile_definitions(${obj} PRIVATE SECMLOPS_ISA_NS=isa_${isa})
    if(NOT isa STREQUAL "portable")
      target_compile_definitions(${obj} PRIVATE Eigen=secmlops_eigen_${isa})
    endif()
    target_compile_options(${obj} PRIVATE -O3 ${V_OPTIONS} ${flags_${isa}})
    set_target_properties(${obj} PROPERTIES POSITION_INDEPENDENT_CODE ON
      CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:${obj}>)
  endforeach()
endfunction()

function(secmlops_numeric_code target)
  target_compile_options(${target} PRIVATE $<$<CONFIG:Debug>:-O2>)
endfunction()
