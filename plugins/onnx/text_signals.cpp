#include "text_signals.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace secmlops::plugins::onnx {
namespace {

size_t ifind(std::string_view hay, std::string_view needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
  return it == hay.end() ? std::string_view::npos : static_cast<size_t>(it - hay.begin());
}

}  // namespace

std::string find_url(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kSchemes = {
      "https://", "http://", "ftp://", "file://", "s3://", "gs://", "hdfs://"};
  size_t best = std::string_view::npos;
  for (auto s : kSchemes) best = std::min(best, ifind(text, s));
  if (best == std::string_view::npos) return {};
  size_t end = best;
  while (end < text.size() && end - best < 200 &&
         !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '"' &&
         text[end] != '\'' && text[end] != '>' && text[end] != ')')
    ++end;
  return excerpt(text.substr(best, end - best), 200);
}

std::string find_code_marker(std::string_view text) {
  static constexpr std::array<std::string_view, 18> kMarkers = {"import os",
                                                                "import subprocess",
                                                                "import sys",
                                                                "__import__",
                                                                "exec(",
                                                                "eval(",
                                                                "os.system",
                                                                "subprocess.",
                                                                "pickle.loads",
                                                                "marshal.loads",
                                                                "base64.b64decode",
                                                                "<script",
                                                                "#!/bin/",
                                                                "powershell",
                                                                "curl ",
                                                                "wget ",
                                                                "rm -rf",
                                                                "lambda "};
  for (auto m : kMarkers)
    if (ifind(text, m) != std::string_view::npos) return std::string(m);
  return {};
}

}  // namespace secmlops::plugins::onnx
