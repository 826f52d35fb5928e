/* A plugin written in plain C against abi.h, compiled once per test case with -DCASE_<X> and
 * -DFIXTURE_NAME="...": the valid case is a working scanner; each other case breaks exactly one
 * rule of the ABI so the host's refusal of it can be tested. Built against the frozen 1.0 header
 * it proves that old plugins keep loading. */
#include <secmlops/sdk/abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FIXTURE_NAME
#error FIXTURE_NAME must be defined
#endif

static const secmlops_host_services* g_services;
static char g_error[256];

struct secmlops_instance {
  char error[256];
};

static secmlops_status create(const secmlops_kv* config, uint32_t count, secmlops_instance** out) {
  (void)config;
  (void)count;
  *out = (secmlops_instance*)calloc(1, sizeof(secmlops_instance));
  return *out ? SECMLOPS_OK : SECMLOPS_ERR_NO_MEMORY;
}
static void destroy(secmlops_instance* i) { free(i); }
static const char* last_error(const secmlops_instance* i) { return i ? i->error : g_error; }

static uint32_t probe(const uint8_t* head, uint64_t len, const char* name, const char** format) {
  (void)name;
  if (len >= 7 && memcmp(head, "FIXTURE", 7) == 0) {
    *format = "fixture";
    return 90;
  }
  return 0;
}

/* Reads the whole stream through the host and reports its size and first line. */
static secmlops_status scan(secmlops_instance* inst, secmlops_job* job,
                            const secmlops_scan_request* req) {
  char buf[64];
  uint64_t total = 0;
  int64_t n;
  char message[160];
  secmlops_finding f;
  (void)req;
  while ((n = g_services->read(job, buf, sizeof buf)) > 0) total += (uint64_t)n;
  if (n < 0) {
    snprintf(inst->error, sizeof inst->error, "read failed");
    return SECMLOPS_ERR_IO;
  }
  if (total != g_services->size(job)) {
    snprintf(inst->error, sizeof inst->error, "size mismatch");
    return SECMLOPS_ERR_INTERNAL;
  }
  snprintf(message, sizeof message, "%s read %llu bytes", FIXTURE_NAME, (unsigned long long)total);
  memset(&f, 0, sizeof f);
  f.struct_size = sizeof f;
  f.severity = SECMLOPS_SEVERITY_INFO;
  f.rule_id = "FIXTURE-SEEN";
  f.message = message;
  f.offset = 0;
  return g_services->emit_finding(job, &f);
}

static const char* const formats[] = {"fixture", NULL};

#if defined(CASE_BAD_CAPS)
/* A model that claims gradients without providing the function. */
static secmlops_status fit(secmlops_instance* i, secmlops_job* j, const secmlops_matrix* x,
                           const int32_t* y, const secmlops_kv* p, uint32_t n) {
  (void)i;
  (void)j;
  (void)x;
  (void)y;
  (void)p;
  (void)n;
  return SECMLOPS_OK;
}
static secmlops_status info(secmlops_instance* i, secmlops_model_info* out) {
  (void)i;
  (void)out;
  return SECMLOPS_OK;
}
static secmlops_status predict(secmlops_instance* i, secmlops_job* j, const secmlops_matrix* x,
                               double* out) {
  (void)i;
  (void)j;
  (void)x;
  (void)out;
  return SECMLOPS_OK;
}
static secmlops_model_api model_api = {
    sizeof(secmlops_model_api), fit, info, predict, NULL, NULL, NULL, NULL};
#else
static secmlops_scanner_api scanner_api = {sizeof(secmlops_scanner_api), formats, probe, scan};
#endif

#if SECMLOPS_ABI_MINOR >= 3
/* Declared options (ABI 1.3): plugins built against 1.0-1.2 headers have none. */
static const secmlops_option options[] = {
#if SECMLOPS_ABI_MINOR >= 4
    {sizeof(secmlops_option), SECMLOPS_OPTION_INT, "fixture.level", "how hard to look", "1"},
#else
    {sizeof(secmlops_option), SECMLOPS_OPTION_INT, "fixture.level", "how hard to look"},
#endif
    {sizeof(secmlops_option), SECMLOPS_OPTION_BOOL, "fixture.verbose", NULL},
};
#endif

static secmlops_plugin_descriptor descriptor;
static const secmlops_plugin_descriptor* plugins[1];
static secmlops_library library;

static secmlops_status init(const secmlops_host_services* services) {
  g_services = services;
#if defined(CASE_INIT_FAILS)
  snprintf(g_error, sizeof g_error, "signature database not found");
  return SECMLOPS_ERR_IO;
#else
  return SECMLOPS_OK;
#endif
}

#if !defined(CASE_NO_ENTRY)
SECMLOPS_EXPORT const secmlops_library* secmlops_plugin_entry_v1(uint32_t major, uint32_t minor) {
  (void)major;
  (void)minor;
  descriptor.struct_size = sizeof descriptor;
  descriptor.abi_major = SECMLOPS_ABI_MAJOR;
  descriptor.abi_minor = SECMLOPS_ABI_MINOR;
  descriptor.name = FIXTURE_NAME;
  descriptor.version = "0.0.1";
  descriptor.description = "test fixture";
  descriptor.create = create;
  descriptor.destroy = destroy;
  descriptor.last_error = last_error;
#if SECMLOPS_ABI_MINOR >= 3
  descriptor.options = options;
  descriptor.option_count = 2;
#endif
#if defined(CASE_BAD_CAPS)
  descriptor.kind = SECMLOPS_KIND_MODEL;
  descriptor.model = &model_api;
  descriptor.capabilities = SECMLOPS_CAP_GRADIENT;
#else
  descriptor.kind = SECMLOPS_KIND_SCANNER;
  descriptor.scanner = &scanner_api;
  descriptor.capabilities = SECMLOPS_CAP_PROBE;
#endif
#if defined(CASE_MAJOR)
  descriptor.abi_major = SECMLOPS_ABI_MAJOR + 1;
#endif
#if defined(CASE_MINOR_NEWER)
  descriptor.abi_minor = SECMLOPS_ABI_MINOR + 1;
#endif
#if defined(CASE_SMALL_STRUCT)
  /* Declares the current minor but hands over a struct cut to the size of an older one. */
  descriptor.struct_size = offsetof(secmlops_plugin_descriptor, reporter);
#endif
  plugins[0] = &descriptor;
  library.struct_size = sizeof library;
  library.abi_major = SECMLOPS_ABI_MAJOR;
  library.abi_minor = SECMLOPS_ABI_MINOR;
#if defined(CASE_MAJOR)
  library.abi_major = SECMLOPS_ABI_MAJOR + 1;
#endif
#if defined(CASE_MINOR_NEWER)
  library.abi_minor = SECMLOPS_ABI_MINOR + 1;
#endif
  library.plugin_count = 1;
  library.plugins = plugins;
  library.init = init;
  library.shutdown = NULL;
  return &library;
}
#else
SECMLOPS_EXPORT int not_the_entry_point(void) { return 42; }
#endif
