#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace secmlops::test {

// Sets and unsets environment variables for as long as the object lives, then gives each the
// value (or the absence) it had before the first change — also when a failed assertion leaves
// the test early.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }

  void set(const std::string& name, const std::string& value) {
    save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    save(name);
    ::unsetenv(name.c_str());
  }
  // The value the variable had before this object first changed it.
  [[nodiscard]] std::optional<std::string> original(const std::string& name) const {
    for (const auto& [k, v] : saved_)
      if (k == name) return v;
    const char* now = std::getenv(name.c_str());
    return now != nullptr ? std::optional<std::string>(now) : std::nullopt;
  }

 private:
  void save(const std::string& name) {
    for (const auto& entry : saved_)
      if (entry.first == name) return;
    const char* now = std::getenv(name.c_str());
    saved_.emplace_back(name, now != nullptr ? std::optional<std::string>(now) : std::nullopt);
  }

  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace secmlops::test
