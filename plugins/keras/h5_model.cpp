#include "h5_model.hpp"

#include <hdf5.h>

#include <cstring>
#include <mutex>
#include <optional>

namespace secmlops::plugins::keras {
namespace {

using Evidence = std::vector<std::pair<std::string, std::string>>;

constexpr uint8_t kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

// Closes an HDF5 identifier with the matching H5?close when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  [[nodiscard]] hid_t get() const { return id_; }
  [[nodiscard]] bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// Messages of libhdf5's error stack. Instead of printing the stack (its default), libhdf5 calls
// capture_errors when an API call fails; any later cleanup call would clear the stack, so the
// messages are kept here at the moment of failure.
std::vector<std::string>& captured_errors() {
  static std::vector<std::string> v;  // guarded by hdf5_mutex
  return v;
}

herr_t collect(unsigned, const H5E_error2_t* e, void* data) {
  auto* v = static_cast<std::vector<std::string>*>(data);
  if (v->size() < 4 && e->desc != nullptr && e->desc[0] != '\0')
    v->push_back(std::string(e->func_name ? e->func_name : "?") + ": " + e->desc);
  return 0;
}

herr_t capture_errors(hid_t stack, void*) {
  if (captured_errors().empty()) H5Ewalk2(stack, H5E_WALK_DOWNWARD, collect, &captured_errors());
  return 0;
}

// The messages of the current (or last captured) failure, then forgets them.
std::string hdf5_errors() {
  std::vector<std::string> msgs;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &msgs);
  H5Eclear2(H5E_DEFAULT);
  if (msgs.empty()) msgs.swap(captured_errors());
  captured_errors().clear();
  std::string s;
  for (const auto& m : msgs) s += (s.empty() ? "" : "; ") + m;
  return s.empty() ? "unknown libhdf5 error" : s;
}

// Where the superblock says the file ends (HDF5 spec, superblock versions 0-3), so a truncated
// file is reported with numbers rather than as a generic open failure. 0 when unknown.
uint64_t declared_eof(sdk::Bytes image, uint64_t& superblock_at) {
  for (uint64_t at = 0; at + 8 <= image.size(); at = at == 0 ? 512 : at * 2) {
    if (std::memcmp(image.data() + at, kSignature, 8) != 0) continue;
    superblock_at = at;
    const uint8_t* p = image.data() + at;
    const uint64_t avail = image.size() - at;
    auto read = [&](uint64_t off, unsigned width) -> uint64_t {
      if (width == 0 || width > 8 || off + width > avail) return 0;
      uint64_t v = 0;
      for (unsigned i = width; i-- > 0;) v = (v << 8) | p[off + i];
      return v;
    };
    if (avail < 12) return 0;
    const unsigned version = p[8];
    uint64_t eof_field = 0;
    unsigned offsets = 0;
    if (version == 0 || version == 1) {
      offsets = p[13];
      eof_field = 24 + (version == 1 ? 4 : 0) + 2 * static_cast<uint64_t>(offsets);
    } else if (version == 2 || version == 3) {
      offsets = p[9];
      eof_field = 12 + 2 * static_cast<uint64_t>(offsets);
    } else {
      return 0;
    }
    return at + read(eof_field, offsets);
  }
  return 0;
}

std::string shorten(std::string s, size_t max = 200) {
  if (s.size() > max) s = s.substr(0, max) + "…";
  return s;
}

struct Walk {
  const H5Limits* limits;
  const std::function<bool()>* cancelled;
  hid_t dapl;
  H5Result* result;
  uint64_t links = 0;
  bool limit_hit = false;
};

void add(H5Result& r, secmlops_severity sev, const char* rule, std::string message,
         std::string detail, Evidence ev = {}) {
  if (r.findings.size() >= 500) return;
  r.findings.push_back(
      {sev, rule, std::move(message), SECMLOPS_NO_OFFSET, std::move(detail), std::move(ev)});
}

void check_dataset(hid_t group, const char* name, Walk& w) {
  Handle ds(H5Dopen2(group, name, w.dapl), H5Dclose);
  if (!ds.ok()) {
    add(*w.result, SECMLOPS_SEVERITY_LOW, "KERAS-H5-UNREADABLE-OBJECT",
        std::string("dataset '") + shorten(name) + "' cannot be opened: " + hdf5_errors(),
        shorten(name));
    return;
  }
  Handle dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
  if (!dcpl.ok()) return;
  if (H5Pget_layout(dcpl.get()) == H5D_VIRTUAL) {
    size_t count = 0;
    H5Pget_virtual_count(dcpl.get(), &count);
    char file[512] = {};
    if (count > 0) H5Pget_virtual_filename(dcpl.get(), 0, file, sizeof file);
    add(*w.result, SECMLOPS_SEVERITY_HIGH, "KERAS-H5-VIRTUAL-DATASET",
        std::string("dataset '") + shorten(name) + "' is a virtual dataset mapping data from '" +
            shorten(file) + "': reading it opens other files on the loading machine",
        shorten(name), {{"source_file", shorten(file)}, {"mappings", std::to_string(count)}});
  }
  int ext = H5Pget_external_count(dcpl.get());
  if (ext > 0) {
    char file[512] = {};
    off_t off = 0;
    hsize_t size = 0;
    H5Pget_external(dcpl.get(), 0, sizeof file, file, &off, &size);
    add(*w.result, SECMLOPS_SEVERITY_HIGH, "KERAS-H5-EXTERNAL-STORAGE",
        std::string("dataset '") + shorten(name) + "' stores its data in external file '" +
            shorten(file) + "': reading it opens that path on the loading machine",
        shorten(name), {{"external_file", shorten(file)}, {"external_files", std::to_string(ext)}});
  }
  H5Eclear2(H5E_DEFAULT);
}

herr_t visit_link(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto& w = *static_cast<Walk*>(data);
  if (++w.links > w.limits->max_links) {
    w.limit_hit = true;
    return 1;
  }
  if ((w.links & 0xff) == 0 && *w.cancelled && (*w.cancelled)()) {
    w.result->cancelled = true;
    return 1;
  }
  if (info->type == H5L_TYPE_EXTERNAL) {
    std::string file = "?", obj = "?";
    if (info->u.val_size > 0 && info->u.val_size < (1u << 16)) {
      std::vector<char> buf(info->u.val_size);
      const char* f = nullptr;
      const char* o = nullptr;
      unsigned flags = 0;
      if (H5Lget_val(group, name, buf.data(), buf.size(), H5P_DEFAULT) >= 0 &&
          H5Lunpack_elink_val(buf.data(), buf.size(), &flags, &f, &o) >= 0) {
        file = f ? f : "?";
        obj = o ? o : "?";
      }
    }
    add(*w.result, SECMLOPS_SEVERITY_HIGH, "KERAS-H5-EXTERNAL-LINK",
        std::string("link '") + shorten(name) + "' points into another file '" + shorten(file) +
            "': following it opens that path on the loading machine",
        shorten(name), {{"target_file", shorten(file)}, {"target_object", shorten(obj)}});
  } else if (info->type == H5L_TYPE_HARD) {
    H5O_info_t oi{};
    if (H5Oget_info_by_name2(group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
      add(*w.result, SECMLOPS_SEVERITY_LOW, "KERAS-H5-UNREADABLE-OBJECT",
          std::string("object '") + shorten(name) + "' cannot be read: " + hdf5_errors(),
          shorten(name));
      return 0;
    }
    if (oi.type == H5O_TYPE_GROUP) ++w.result->groups;
    if (oi.type == H5O_TYPE_DATASET) {
      ++w.result->datasets;
      check_dataset(group, name, w);
    }
  } else if (info->type != H5L_TYPE_SOFT) {
    add(*w.result, SECMLOPS_SEVERITY_MEDIUM, "KERAS-H5-UNUSUAL-LINK",
        std::string("link '") + shorten(name) + "' has user-defined link type " +
            std::to_string(info->type) + ", which needs a link-class plugin to resolve",
        shorten(name));
  }
  H5Eclear2(H5E_DEFAULT);
  return 0;
}

// Reads a string attribute of `loc` (fixed or variable length, first element). nullopt when the
// attribute is absent; `problem` is set when it exists but is not a readable string.
std::optional<std::string> read_string_attribute(hid_t loc, const char* name,
                                                 const H5Limits& limits, std::string& problem) {
  if (H5Aexists(loc, name) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  Handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  if (!a.ok()) return problem = "cannot open: " + hdf5_errors(), std::nullopt;
  Handle type(H5Aget_type(a.get()), H5Tclose);
  Handle space(H5Aget_space(a.get()), H5Sclose);
  if (!type.ok() || !space.ok())
    return problem = "cannot read its type: " + hdf5_errors(), std::nullopt;
  if (H5Tget_class(type.get()) != H5T_STRING) return problem = "is not a string", std::nullopt;
  hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 1) return problem = "is empty", std::nullopt;
  if (H5Tis_variable_str(type.get()) > 0) {
    if (n != 1)
      return problem = "holds " + std::to_string(n) + " strings instead of one", std::nullopt;
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.get(), H5T_VARIABLE);
    H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
    char* p = nullptr;
    if (H5Aread(a.get(), mem.get(), &p) < 0 || p == nullptr)
      return problem = "cannot be read: " + hdf5_errors(), std::nullopt;
    size_t len = strnlen(p, limits.max_attribute_bytes + 1);
    std::string s(p, std::min<size_t>(len, limits.max_attribute_bytes));
    H5free_memory(p);
    if (len > limits.max_attribute_bytes)
      return problem = "is larger than the attribute limit", std::nullopt;
    return s;
  }
  const size_t size = H5Tget_size(type.get());
  if (size == 0 || size > limits.max_attribute_bytes / static_cast<uint64_t>(n))
    return problem = "is larger than the attribute limit", std::nullopt;
  std::string buf(size * static_cast<size_t>(n), '\0');
  Handle mem(H5Tcopy(type.get()), H5Tclose);
  if (H5Aread(a.get(), mem.get(), buf.data()) < 0)
    return problem = "cannot be read: " + hdf5_errors(), std::nullopt;
  buf.resize(strnlen(buf.data(), size));
  return buf;
}

// Opens `image` read-only with the core driver, in place. Like H5LTopen_file_image with
// DONT_COPY | DONT_RELEASE, but the callbacks keep no per-open state: libhdf5_hl 1.10.8 leaks its
// 72-byte callback context on every open (seen under LeakSanitizer), which a long-running scanner
// cannot afford. Every callback hands back the caller's buffer: nothing is copied, resized or
// freed.
hid_t open_image_in_place(sdk::Bytes image) {
  static constexpr auto image_malloc = [](size_t, H5FD_file_image_op_t, void* udata) -> void* {
    return udata;
  };
  static constexpr auto image_memcpy = [](void* dest, const void* src, size_t, H5FD_file_image_op_t,
                                          void*) -> void* { return dest == src ? dest : nullptr; };
  static constexpr auto image_realloc = [](void*, size_t, H5FD_file_image_op_t, void*) -> void* {
    return nullptr;
  };
  static constexpr auto image_free = [](void*, H5FD_file_image_op_t, void*) -> herr_t { return 0; };
  static constexpr auto udata_copy = [](void* udata) -> void* { return udata; };
  static constexpr auto udata_free = [](void*) -> herr_t { return 0; };
  void* buffer = const_cast<uint8_t*>(image.data());
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.ok()) return -1;
  H5FD_file_image_callbacks_t callbacks = {image_malloc, image_memcpy, image_realloc, image_free,
                                           udata_copy,   udata_free,   buffer};
  if (H5Pset_fapl_core(fapl.get(), 64 * 1024, false) < 0 ||
      H5Pset_file_image_callbacks(fapl.get(), &callbacks) < 0 ||
      H5Pset_file_image(fapl.get(), buffer, image.size()) < 0)
    return -1;
  // The core driver refuses to open an image when a file of the given name exists; this path
  // cannot exist, and no file is ever opened or created under it.
  return H5Fopen("/nonexistent/secmlops-hdf5-image", H5F_ACC_RDONLY, fapl.get());
}

}  // namespace

uint32_t probe_h5(sdk::Bytes head) {
  if (head.size() >= 8 && std::memcmp(head.data(), kSignature, 8) == 0) return 80;
  for (size_t at = 512; at + 8 <= head.size(); at *= 2)
    if (std::memcmp(head.data() + at, kSignature, 8) == 0) return 60;
  return 0;
}

H5Result analyze_h5(sdk::Bytes image, const WalkLimits& walk_limits, const H5Limits& limits,
                    const std::function<bool()>& cancelled) {
  H5Result r;
  std::lock_guard lock(hdf5_mutex());
  // libhdf5 prints its error stack to stderr by default: keep it quiet, report it ourselves.
  H5Eset_auto2(H5E_DEFAULT, capture_errors, nullptr);
  captured_errors().clear();
  if (image.empty()) {
    r.error = "empty HDF5 image";
    return r;
  }
  // Read-only, in place, never copied (see open_image_in_place).
  Handle file(open_image_in_place(image), H5Fclose);
  if (!file.ok()) {
    r.error = "not a readable HDF5 file: " + hdf5_errors();
    uint64_t sb = 0;
    uint64_t eof = declared_eof(image, sb);
    if (eof > image.size())
      r.error = "truncated HDF5 file: the superblock at byte " + std::to_string(sb) + " declares " +
                std::to_string(eof) + " bytes but the stream has " + std::to_string(image.size()) +
                " (" + r.error + ")";
    return r;
  }
  Handle root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
  if (!root.ok()) {
    r.error = "cannot open the root group: " + hdf5_errors();
    return r;
  }

  Evidence info;
  auto attr = [&](const char* name) {
    std::string problem;
    auto v = read_string_attribute(root.get(), name, limits, problem);
    if (!problem.empty())
      add(r, SECMLOPS_SEVERITY_MEDIUM, "KERAS-H5-BAD-ATTRIBUTE",
          std::string("root attribute '") + name + "' " + problem, name);
    return v;
  };
  for (const char* name : {"keras_version", "backend"})
    if (auto v = attr(name)) info.emplace_back(name, shorten(*v, 80));

  for (const char* name : {"model_config", "training_config"}) {
    auto text = attr(name);
    if (!text) continue;
    nlohmann::json doc;
    std::string error;
    uint64_t at = 0;
    if (!parse_json(*text, walk_limits, doc, error, at)) {
      add(r, SECMLOPS_SEVERITY_MEDIUM, "KERAS-CONFIG-INVALID",
          std::string("root attribute '") + name + "' is not valid JSON (at character " +
              std::to_string(at) + "): " + shorten(error),
          name);
      continue;
    }
    if (std::strcmp(name, "model_config") == 0)
      walk_model_config(doc, name, SECMLOPS_NO_OFFSET, walk_limits, r.findings);
    else
      walk_training_config(doc, name, SECMLOPS_NO_OFFSET, walk_limits, r.findings);
    info.emplace_back(name, "present");
  }

  // Walk every link (without following soft or external ones) for objects that make HDF5 open
  // other files. External-file and virtual-dataset prefixes point nowhere, so even a dataset
  // opened here cannot resolve a path on this machine.
  Handle dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
  H5Pset_efile_prefix(dapl.get(), "/nonexistent/secmlops-efile-blocked");
  H5Pset_virtual_prefix(dapl.get(), "/nonexistent/secmlops-vds-blocked");
  Walk w{&limits, &cancelled, dapl.get(), &r};
  herr_t s = H5Lvisit(root.get(), H5_INDEX_NAME, H5_ITER_NATIVE, visit_link, &w);
  if (s < 0)
    r.error = "walking the HDF5 objects failed after " + std::to_string(w.links) +
              " links: " + hdf5_errors();
  if (w.limit_hit)
    add(r, SECMLOPS_SEVERITY_MEDIUM, "KERAS-H5-LIMIT",
        "file has more than " + std::to_string(limits.max_links) +
            " links; the rest was not inspected",
        "/");

  info.emplace_back("groups", std::to_string(r.groups));
  info.emplace_back("datasets", std::to_string(r.datasets));
  bool has_config = false;
  for (const auto& [k, v] : info) has_config |= k == "model_config";
  add(r, SECMLOPS_SEVERITY_INFO, "KERAS-MODEL-INFO",
      has_config
          ? "Keras HDF5 model with an architecture config"
          : "HDF5 weights file without a model config (nothing executable is declared in it)",
      "/", std::move(info));
  H5Eclear2(H5E_DEFAULT);
  return r;
}

}  // namespace secmlops::plugins::keras
