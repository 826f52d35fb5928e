// Arbitrary bytes as a report file given to `secmlops report html`: either invalid_argument or a
// page. The page is checked, not only survived: whatever the input, it holds no script element
// and its SVG and section elements stay balanced (a string that closed one would break out).
#include "secmlops/host/report_html.hpp"
#include "secmlops/v1/pipeline.pb.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace {

size_t count(const std::string& s, const char* needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  secmlops::v1::PipelineReport report;
  try {
    secmlops::host::add_report_json(report, text, "fuzz.json");
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const std::string html = secmlops::host::render_html(report);
  if (count(html, "<script") != 0 || count(html, "<svg") != count(html, "</svg>") ||
      count(html, "<section") != count(html, "</section>") ||
      count(html, "<title") != count(html, "</title>"))
    std::abort();
  return 0;
}
