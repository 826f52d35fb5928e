#pragma once

// Text that goes into the HTML dashboard. Every string from a report is attacker-controlled
// (file names, archive members, pickle globals, model metadata), so it only ever reaches the page
// through escape_html: the result is inert in element content, in quoted attributes and in SVG
// text.

#include <string>
#include <string_view>

namespace secmlops::host::dashboard {

// Escapes & < > " ' as entities; replaces invalid UTF-8 and control characters with U+FFFD and
// shows bidirectional-override characters as "[U+202E]" (they could reorder what a reader sees).
std::string escape_html(std::string_view text);

// Appends escape_html(text) to out.
void append_escaped(std::string& out, std::string_view text);

// Numbers as the page shows them: NaN and infinities as "–"/"∞", otherwise up to `digits`
// significant digits ("0.8125", "1e-05").
std::string format_number(double value, int digits = 4);

// A number for SVG geometry: fixed two decimals, never exponent notation.
std::string format_coord(double value);

// "1.2 s", "340 ms", "2 min 05 s".
std::string format_duration(double seconds);

// "12.3 KiB" style sizes.
std::string format_bytes(unsigned long long bytes);

// A URL fit for href: only http and https are kept (a report could carry "javascript:");
// anything else yields an empty string and the caller shows the text without a link.
std::string safe_link(std::string_view url);

}  // namespace secmlops::host::dashboard
