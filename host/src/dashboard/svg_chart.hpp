#pragma once

// Line charts as inline SVG: no script, no external resource. The plot carries its own scale in
// data attributes, so a reader (or a test) can turn every point's position back into its value.

#include <string>
#include <utility>
#include <vector>

namespace secmlops::host::dashboard {

struct ChartSeries {
  std::string model;
  std::string attack;
  std::string label;  // "model · attack", shown on hover and in the legend table
  std::string color;  // CSS colour
  std::string dash;   // stroke-dasharray, empty for a solid line
  std::vector<std::pair<double, double>> points;  // (eps, value); non-finite values are skipped
};

struct LineChart {
  std::string id;      // element id, also the prefix of the ids inside
  std::string metric;  // data-metric of every series ("adversarial_accuracy")
  std::string title;
  std::string x_label;
  std::string y_label;
  double y_min = 0;
  double y_max = 1;
  std::vector<ChartSeries> series;
};

// The chart as an <svg> element. Every series is a <g class="series"> with data-model,
// data-attack and data-metric, one polyline and one <circle class="pt"> per point whose
// data-eps/data-value hold the numbers and whose <title> shows them on hover.
std::string render_line_chart(const LineChart& chart);

// A short line in a series' colour and dash, for legends and table rows.
std::string render_swatch(const ChartSeries& series);

}  // namespace secmlops::host::dashboard
