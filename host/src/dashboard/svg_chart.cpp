#include "dashboard/svg_chart.hpp"

#include "dashboard/html_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace secmlops::host::dashboard {

namespace {

constexpr double kWidth = 640, kHeight = 380;
constexpr double kLeft = 56, kRight = 624, kTop = 36, kBottom = 330;

// About `count` round tick values covering [lo, hi].
std::vector<double> ticks(double lo, double hi, int count) {
  const double span = hi - lo;
  if (!(span > 0)) return {lo};
  const double raw = span / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> out;
  // An integer counter: adding step to a double would carry its rounding error tick to tick.
  const double first = std::ceil(lo / step - 1e-9);
  for (int64_t i = 0;; ++i) {
    const double v = (first + static_cast<double>(i)) * step;
    if (v > hi + step * 1e-9) break;
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return out;
}

}  // namespace

std::string render_swatch(const ChartSeries& s) {
  return fmt::format(
      "<svg class=\"swatch\" width=\"28\" height=\"10\" aria-hidden=\"true\"><line x1=\"1\" "
      "y1=\"5\" "
      "x2=\"27\" y2=\"5\" stroke=\"{}\" stroke-width=\"2.5\"{}/></svg>",
      escape_html(s.color),
      s.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", escape_html(s.dash)));
}

std::string render_line_chart(const LineChart& c) {
  double x_min = std::numeric_limits<double>::infinity();
  double x_max = -x_min;
  for (const auto& s : c.series)
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y))
        x_min = std::min(x_min, x), x_max = std::max(x_max, x);
  if (!std::isfinite(x_min)) x_min = 0, x_max = 1;
  if (x_min > 0 && x_min <= (x_max - x_min)) x_min = 0;  // start at 0 unless eps sit far from it
  if (x_max - x_min <= 0) x_max = x_min + (x_min == 0 ? 1 : std::abs(x_min) * 0.1);
  const double y_min = c.y_min, y_max = c.y_max > c.y_min ? c.y_max : c.y_min + 1;

  auto px = [&](double x) { return kLeft + (x - x_min) / (x_max - x_min) * (kRight - kLeft); };
  auto py = [&](double y) {
    y = std::clamp(y, y_min, y_max);
    return kBottom - (y - y_min) / (y_max - y_min) * (kBottom - kTop);
  };

  const std::string id = escape_html(c.id);
  std::string o;
  o += fmt::format(
      "<svg class=\"chart\" id=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" aria-labelledby=\"{}-t\" "
      "data-metric=\"{}\" data-x-min=\"{}\" data-x-max=\"{}\" data-y-min=\"{}\" data-y-max=\"{}\" "
      "data-plot-left=\"{}\" data-plot-right=\"{}\" data-plot-top=\"{}\" data-plot-bottom=\"{}\">",
      id, kWidth, kHeight, id, escape_html(c.metric), x_min, x_max, y_min, y_max, kLeft, kRight,
      kTop, kBottom);
  o += fmt::format("<title id=\"{}-t\">", id);
  append_escaped(o, c.title);
  o += "</title>";
  o += fmt::format("<text class=\"ctitle\" x=\"{}\" y=\"20\">", kLeft);
  append_escaped(o, c.title);
  o += "</text>";

  // Grid and axes.
  o += "<g class=\"axes\">";
  for (double t : ticks(y_min, y_max, 5)) {
    const auto y = format_coord(py(t));
    o += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", kLeft,
                     kRight, y, y);
    o += fmt::format(
        "<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"end\" dy=\"0.32em\">{}</text>",
        kLeft - 6, y, format_number(t, 3));
  }
  for (double t : ticks(x_min, x_max, 6)) {
    const auto x = format_coord(px(t));
    o += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", x, x, kTop,
                     kBottom);
    o += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", x,
                     kBottom + 16, format_number(t, 3));
  }
  o += fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\"/>", kLeft,
                   kRight, kBottom);
  o += fmt::format("<line class=\"axis\" x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\"/>", kLeft,
                   kTop, kBottom);
  o += fmt::format("<text class=\"alabel\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">",
                   (kLeft + kRight) / 2, kHeight - 12);
  append_escaped(o, c.x_label);
  o += fmt::format(
      "</text><text class=\"alabel\" transform=\"translate(14 {}) rotate(-90)\" "
      "text-anchor=\"middle\">",
      (kTop + kBottom) / 2);
  append_escaped(o, c.y_label);
  o += "</text></g>";

  for (const auto& s : c.series) {
    const std::string label = escape_html(s.label);
    o += fmt::format("<g class=\"series\" data-model=\"{}\" data-attack=\"{}\" data-metric=\"{}\">",
                     escape_html(s.model), escape_html(s.attack), escape_html(c.metric));
    std::string points;
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y))
        points += fmt::format("{}{},{}", points.empty() ? "" : " ", format_coord(px(x)),
                              format_coord(py(y)));
    o += fmt::format(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\"{}><title>{}</title></polyline>",
        points, escape_html(s.color),
        s.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", escape_html(s.dash)), label);
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      // Full precision in the data attributes; the hover text is for people.
      o += fmt::format(
          "<circle class=\"pt\" cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\" data-eps=\"{}\" "
          "data-value=\"{}\">"
          "<title>{} \xE2\x80\x94 eps {}: {}</title></circle>",
          format_coord(px(x)), format_coord(py(y)), escape_html(s.color), x, y, label,
          format_number(x), format_number(y));
    }
    o += "</g>";
  }
  o += "</svg>";
  return o;
}

}  // namespace secmlops::host::dashboard
