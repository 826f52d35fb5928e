// PROTO, FRAME and STOP, and the frame rules of the two unpicklers.
//
// CPython's C unpickler (pickle.load) checks only that a FRAME's declared length is present,
// then reads opcodes in line, ignoring frame boundaries; the pure-Python unpickler
// (pickle._load, and joblib's NumpyUnpickler, which subclasses it) reads a frame as a unit and
// fails when an opcode straddles its end or a new frame starts inside it, but accepts a frame
// shorter than declared. Where the two disagree, one of them runs what the other refuses: a
// finding. The machine parses in line, as the C unpickler does.
#include "opcodes.hpp"
#include "pickle_machine.hpp"

#include <algorithm>

namespace secmlops::plugins::pickle::vm {

void PickleMachine::op_proto(OpBytes at) {
  need_args(at, 1);
  protocol_ = at.p[1];
  if (protocol_ > 5)
    findings_.malformed("unsupported pickle protocol " + std::to_string(protocol_));
  pos_ += 2;
}

void PickleMachine::op_frame(OpBytes at) {
  need_args(at, 8);
  uint64_t len = 0;
  for (int i = 0; i < 8; ++i) len |= uint64_t{at.p[1 + i]} << (8 * i);
  const uint64_t data = pos_ + 9;
  if (frame_end_ != UINT64_MAX && pos_ < frame_end_)
    frame_mismatch(
        "FRAME starts " + std::to_string(frame_end_ - pos_) +
        " bytes before the end of the current frame: the pure-Python unpickler stops here, "
        "CPython's C unpickler reads on");
  if (len >= (uint64_t{1} << 63) || len > end_ - std::min(data, end_)) {
    // Only a disagreement if the pickle then completes (a truncated file fails either way):
    // reported at STOP.
    overlong_frame_ =
        "FRAME at offset " + std::to_string(pos_) + " declares " + std::to_string(len) +
        " bytes but " + std::to_string(end_ - std::min(data, end_)) +
        " remain: CPython's C unpickler stops there, the pure-Python unpickler reads on";
    frame_end_ = end_;
  } else {
    frame_end_ = data + len;
  }
  pos_ = data;
}

void PickleMachine::op_stop() {
  pop();
  if (!overlong_frame_.empty()) [[unlikely]]
    frame_mismatch(overlong_frame_);
  pos_ += 1;
}

// The machine reached the end of the current frame; the opcode before it may have run past.
void PickleMachine::frame_boundary() {
  if (pos_ > frame_end_)
    frame_mismatch(std::string(opname(findings_.op)) + " at offset " +
                   std::to_string(findings_.op_off) + " runs " + std::to_string(pos_ - frame_end_) +
                   " bytes past the end of its FRAME: the pure-Python unpickler stops there, "
                   "CPython's C unpickler reads on");
  frame_end_ = UINT64_MAX;
}

void PickleMachine::frame_mismatch(const std::string& message) {
  if (frame_reported_) return;
  frame_reported_ = true;
  findings_.report(
      "PICKLE-FRAME-MISMATCH", SECMLOPS_SEVERITY_HIGH,
      message + "; scanners and loaders that read frames differently see different opcodes",
      findings_.op_off, op::kFrame);
}

}  // namespace secmlops::plugins::pickle::vm
