// joblib: after BUILD of a NumpyArrayWrapper, joblib's unpickler reads the array from the file
// itself — raw bytes sized by the wrapper's shape and dtype, or, for object arrays, a complete
// pickle written inline. The machine skips the bytes (never reading them) or scans the pickle,
// and continues after them. A size it cannot work out stops the analysis: what follows would
// be read at the wrong place.
#include "opcodes.hpp"
#include "pickle_machine.hpp"
#include "string_refs.hpp"

#include <cctype>
#include <charconv>

namespace secmlops::plugins::pickle::vm {

void PickleMachine::joblib_array(const Call& wrapper, uint64_t off) {
  V st = wrapper.state;
  const V* shape = containers_.dict_get(cursor_, st, "shape");
  const V* dtype = containers_.dict_get(cursor_, st, "dtype");
  if (shape == nullptr || dtype == nullptr)
    joblib_unknown_size("state without shape or dtype", off);
  const V* align = containers_.dict_get(cursor_, st, "numpy_array_alignment_bytes");
  uint64_t count = joblib_element_count(*shape, off);
  bool has_object = false;
  std::string typestr;
  uint64_t itemsize = joblib_itemsize(*dtype, has_object, typestr, off);
  if (pos_ >= frame_end_) frame_end_ = UINT64_MAX;
  if (has_object) {
    joblib_object_array(off);
    return;
  }
  // joblib commits the current frame before writing raw array bytes and reads them from the
  // file itself, past the unframer: they end the frame, they are not part of it.
  if (pos_ >= frame_end_) frame_end_ = UINT64_MAX;
  if (itemsize == 0 && count != 0)
    joblib_unknown_size("unknown item size for dtype '" + typestr + "'", off);
  if (count != 0 && itemsize > UINT64_MAX / count) joblib_unknown_size("array size overflows", off);
  uint64_t bytes = count * itemsize;
  if (align != nullptr && align->kind() == kInt) {
    const uint8_t* p = cursor_.try_at(pos_, 1);
    if (p == nullptr) joblib_unknown_size("file ends before the padding byte", off);
    pos_ += 1 + *p;
  }
  if (pos_ > end_ || bytes > end_ - pos_) {
    findings_.report(
        "JOBLIB-ARRAY-TRUNCATED", SECMLOPS_SEVERITY_MEDIUM,
        "joblib array data (" + std::to_string(bytes) + " bytes) runs past the end of the stream",
        off, op::kBuild, "joblib.numpy_pickle.NumpyArrayWrapper");
    throw Fatal{};
  }
  pos_ += bytes;  // skipped by offset, never read
}

void PickleMachine::joblib_unknown_size(const std::string& why, uint64_t off) {
  findings_.report("JOBLIB-ARRAY-UNKNOWN-SIZE", SECMLOPS_SEVERITY_MEDIUM,
                   "joblib array data follows this BUILD but its size cannot be determined (" +
                       why + "); the rest of the file was not analysed",
                   off, op::kBuild, "joblib.numpy_pickle.NumpyArrayWrapper");
  throw Fatal{};
}

// The product of the shape tuple, with overflow checks.
uint64_t PickleMachine::joblib_element_count(V shape, uint64_t off) {
  uint64_t count = 1;
  const Node* sn = containers_.node(shape);
  if (shape.kind() != kTuple || sn == nullptr)
    joblib_unknown_size("shape is not a tuple of integers", off);
  for (uint32_t i = 0; i < sn->count; ++i) {
    V d = containers_.at(*sn, i);
    if (d.kind() != kInt || d.as_int() < 0)
      joblib_unknown_size("shape is not a tuple of integers", off);
    auto dim = static_cast<uint64_t>(d.as_int());
    if (dim != 0 && count > UINT64_MAX / dim) joblib_unknown_size("shape overflows", off);
    count *= dim;
  }
  return count;
}

// The item size of a numpy.dtype(typestr, …) call, corrected by its BUILD state (elsize, and
// the flags that mark object fields).
uint64_t PickleMachine::joblib_itemsize(V dtype, bool& has_object, std::string& typestr,
                                        uint64_t off) {
  if (dtype.kind() != kObj || obj_call(dtype) == 0 ||
      reach_.verdict(obj_global(dtype)).special != Special::kNumpyDtype)
    joblib_unknown_size("dtype is not a numpy.dtype", off);
  const Call& dc = calls_[obj_call(dtype) - 1];
  const V* t0 = containers_.item(dc.args, 0);
  if (t0 == nullptr || !string_text(cursor_, *t0, typestr) || typestr.empty())
    joblib_unknown_size("dtype without a type string", off);
  uint64_t itemsize = 0;
  size_t i = 0;
  while (i < typestr.size() && !std::isdigit(static_cast<unsigned char>(typestr[i]))) ++i;
  std::from_chars(typestr.data() + i, typestr.data() + typestr.size(), itemsize);
  if (typestr[0] == 'U') itemsize *= 4;
  has_object = typestr[0] == 'O';
  if (const V* elsize = containers_.item(dc.state, 5);
      elsize != nullptr && elsize->kind() == kInt && elsize->as_int() > 0)
    itemsize = static_cast<uint64_t>(elsize->as_int());
  if (const V* flags = containers_.item(dc.state, 7);
      flags != nullptr && flags->kind() == kInt && (flags->as_int() & 1))
    has_object = true;
  return itemsize;
}

// Object arrays are a complete pickle written inline: scan it, continue after its STOP.
void PickleMachine::joblib_object_array(uint64_t off) {
  ++state_.depth;
  if (state_.depth > state_.limits.max_nesting) {
    --state_.depth;
    findings_.limit(
        "joblib object arrays nested deeper than " + std::to_string(state_.limits.max_nesting), off,
        op::kBuild);
  }
  PickleResult r = parse_pickle(state_, pos_, end_, "joblib object array");
  --state_.depth;
  if (!r.complete) throw Fatal{};
  pos_ = r.end;
}

}  // namespace secmlops::plugins::pickle::vm
