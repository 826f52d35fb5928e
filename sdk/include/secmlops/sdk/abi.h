/*
 * secmlops plugin ABI — the binary contract between the secmlops host and its plugins.
 *
 * This header is C (C99 and C++ compatible) on purpose: only fixed-width integers, double,
 * NUL-terminated UTF-8 strings, (pointer, length) buffers, opaque handles and function pointers
 * cross the boundary. No STL, no exceptions, no C++ classes.
 *
 * VERSIONING
 *   The library table and the plugin descriptor carry the ABI version the plugin was built
 *   against. The host accepts a plugin whose major equals its own and whose minor is <= its own.
 *   Every struct starts with `struct_size`; structs only ever grow at their end, so a reader
 *   must never touch a field that lies beyond the struct_size the writer declared. Fields are
 *   tagged with the minor version that introduced them ("since 1.N"); fields without a tag exist
 *   since 1.0. An array of structs (declared options) is read with the stride of its entries'
 *   struct_size, which is the same for every entry of the array.
 *
 * CAPABILITIES
 *   One rule: a plugin's capabilities are the SECMLOPS_CAP_* bits of its descriptor. Each bit
 *   names one optional function (or, for NEEDS_GRADIENT, one requirement), and the function
 *   pointer is non-NULL exactly when its bit is set; the host refuses a library where the two
 *   disagree and reads capabilities from the bits alone (`secmlops plugins` lists their names:
 *   probe, loss_gradient, describe, export_onnx, import_onnx, needs_gradient, flush). A plugin
 *   built against a header older than the bit that names a function (flush before 1.4) has the
 *   bit set by the host from the pointer. `has_gradient` in secmlops_model_info is not a
 *   capability but a property of one fitted model (a family with gradients may fit a model
 *   without them); the host hands attacks a model handle whose `loss_gradient` is non-NULL
 *   exactly when the plugin has SECMLOPS_CAP_GRADIENT and the fitted model has_gradient.
 *
 * NAMES
 *   A plugin name matches SECMLOPS_PLUGIN_NAME_PATTERN: a lower-case letter or digit, then at
 *   most 63 lower-case letters, digits, '_', '.' or '-'. Names are unique among loaded plugins.
 *
 * LIFETIME AND THREADS
 *   - The host loads a library once (RTLD_LOCAL) and calls `init` once, before anything else,
 *     on one thread. It calls `shutdown` once, after the last instance of every plugin in the
 *     library has been destroyed, just before unloading.
 *   - Instances are created per job (`create`) and destroyed with `destroy`. One instance is used
 *     by one thread at a time; different instances may be used concurrently from different
 *     threads. Plugin code shared between instances must therefore be thread-safe.
 *   - Functions documented as "static" (probe) take no instance and may be called from any thread
 *     at any time between init and shutdown.
 *   - A `secmlops_job*` handed to a plugin function is valid only for the duration of that call.
 *     The plugin passes it back to host services; it must not keep it.
 *   - Host services and threads: `log` and `is_cancelled` may be called from any thread, also
 *     threads the plugin started itself (a model fitting on worker threads polls is_cancelled
 *     from each), as long as the call that received the job has not returned: a plugin joins
 *     its threads before returning. Every other service taking a job (the stream services,
 *     `view`, `stat_sibling`, `progress`, `emit_*`) is called only from the thread that made the
 *     call, one call at a time.
 *   - Model-handle callbacks (secmlops_model_handle.predict_proba / loss_gradient) are called
 *     only during `generate`, from the thread that called generate, one at a time: they run the
 *     model plugin's instance, which is single-threaded like every instance. An attack that
 *     wants parallelism batches rows into one call instead.
 *
 * MEMORY
 *   Whoever allocates, frees. Strings and buffers the plugin passes to host services are copied
 *   by the host before the service returns. Buffers the host passes to the plugin (input
 *   matrices, configuration) are valid for the duration of the call. Pointers the plugin
 *   returns (descriptors, last_error, exported bytes) are owned by the plugin and stay valid as
 *   documented next to each function.
 *
 * ERRORS
 *   Functions return a secmlops_status. On failure the plugin sets a message retrievable with
 *   `last_error(instance)` (or `last_error(NULL)` for init/create failures on the calling thread).
 *   A failed library `init` is explained by the FIRST descriptor's `last_error(NULL)`, which the
 *   host calls on the thread that called init, right after init returned; the library owns that
 *   message (it stays valid until the next init or create on that thread). A library whose
 *   plugins keep separate error slots must therefore put an init failure in its first plugin's.
 *   Plugins must never let a C++ exception or a longjmp cross the boundary.
 */
#ifndef SECMLOPS_SDK_ABI_H
#define SECMLOPS_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SECMLOPS_ABI_MAJOR 1
#define SECMLOPS_ABI_MINOR 4

/* The one symbol a plugin library exports. */
#define SECMLOPS_ENTRY_SYMBOL "secmlops_plugin_entry_v1"

/* Plugin names (since 1.4 as macros; the rule itself holds since 1.0): ECMAScript/POSIX ERE
 * syntax, matched against the whole name. */
#define SECMLOPS_PLUGIN_NAME_PATTERN "[a-z0-9][a-z0-9_.-]{0,63}"
#define SECMLOPS_PLUGIN_NAME_MAX 64

#if defined(_WIN32)
#define SECMLOPS_EXPORT __declspec(dllexport)
#else
#define SECMLOPS_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------------------------ */
/* Status codes                                                                                */
/* ------------------------------------------------------------------------------------------ */
typedef int32_t secmlops_status;
enum {
  SECMLOPS_OK = 0,
  SECMLOPS_ERR_INVALID_ARGUMENT = 1, /* the caller passed something wrong (params, shapes)    */
  SECMLOPS_ERR_UNSUPPORTED = 2,      /* not handled by this plugin (format, option, dtype)     */
  SECMLOPS_ERR_PARSE = 3,            /* the input is malformed                                 */
  SECMLOPS_ERR_IO = 4,               /* reading the input failed                               */
  SECMLOPS_ERR_CANCELLED = 5,        /* the host asked to stop (is_cancelled returned nonzero) */
  SECMLOPS_ERR_LIMIT = 6,            /* a resource limit was hit (size, depth, time, memory)   */
  SECMLOPS_ERR_STATE = 7,            /* wrong call order (predict before fit, …)               */
  SECMLOPS_ERR_INTERNAL = 8,         /* a bug or unexpected condition in the plugin            */
  SECMLOPS_ERR_NO_MEMORY = 9
};

typedef enum secmlops_kind {
  SECMLOPS_KIND_SCANNER = 1,
  SECMLOPS_KIND_MODEL = 2,
  SECMLOPS_KIND_ATTACK = 3,
  SECMLOPS_KIND_REPORTER = 4
} secmlops_kind;

/* Severities of findings; numerically ordered so that a threshold is a comparison. */
typedef enum secmlops_severity {
  SECMLOPS_SEVERITY_INFO = 1,
  SECMLOPS_SEVERITY_LOW = 2,
  SECMLOPS_SEVERITY_MEDIUM = 3,
  SECMLOPS_SEVERITY_HIGH = 4,
  SECMLOPS_SEVERITY_CRITICAL = 5
} secmlops_severity;

typedef enum secmlops_log_level {
  SECMLOPS_LOG_TRACE = 0,
  SECMLOPS_LOG_DEBUG = 1,
  SECMLOPS_LOG_INFO = 2,
  SECMLOPS_LOG_WARN = 3,
  SECMLOPS_LOG_ERROR = 4
} secmlops_log_level;

/* Opaque handles. The host owns jobs; the plugin owns instances. */
typedef struct secmlops_job secmlops_job;
typedef struct secmlops_instance secmlops_instance;

/* A key/value pair of UTF-8 strings: configuration, parameters, evidence. */
typedef struct secmlops_kv {
  const char* key;
  const char* value;
} secmlops_kv;

/* Element types of matrices. */
typedef enum secmlops_dtype { SECMLOPS_DTYPE_F64 = 1, SECMLOPS_DTYPE_F32 = 2 } secmlops_dtype;

/* A dense row-major matrix (rows × cols). `data` holds rows*cols elements of `dtype`. */
typedef struct secmlops_matrix {
  uint32_t struct_size;
  uint32_t dtype; /* secmlops_dtype */
  uint64_t rows;
  uint64_t cols;
  const void* data;
} secmlops_matrix;

/* ------------------------------------------------------------------------------------------ */
/* Findings (scanners → host)                                                                  */
/* ------------------------------------------------------------------------------------------ */
typedef struct secmlops_finding {
  uint32_t struct_size;
  uint32_t severity;   /* secmlops_severity */
  const char* rule_id; /* stable identifier, e.g. "PICKLE-EXEC-GLOBAL"; documented in rules  */
  const char* message; /* one human sentence                                                 */
  /* Byte offset inside the stream being scanned (the file or archive member the host handed to
   * scan), or UINT64_MAX when the finding has no offset. The host prefixes file and member. */
  uint64_t offset;
  /* Optional finer location inside the stream, e.g. "pickle #2" or "layers[3].config"; NULL. */
  const char* detail;
  /* Evidence as key/value pairs, e.g. {"global","posix.system"}, {"opcode","STACK_GLOBAL"}. */
  const secmlops_kv* evidence;
  uint32_t evidence_count;
} secmlops_finding;

#define SECMLOPS_NO_OFFSET UINT64_MAX

/* Answer of stat_sibling (since 1.1). */
enum {
  SECMLOPS_SIBLING_EXISTS = 1u << 0,      /* a file or directory is there                        */
  SECMLOPS_SIBLING_OUTSIDE = 1u << 1,     /* resolves outside the scanned file's directory      */
  SECMLOPS_SIBLING_ABSOLUTE = 1u << 2,    /* the path given was absolute                        */
  SECMLOPS_SIBLING_SYMLINK = 1u << 3,     /* a symbolic link is on the way                      */
  SECMLOPS_SIBLING_NOT_REGULAR = 1u << 4, /* exists but is not a regular file                   */
  SECMLOPS_SIBLING_NO_CONTEXT = 1u << 5   /* the stream is no file on disk (upload, member)     */
};
typedef struct secmlops_sibling_info {
  uint32_t struct_size;
  uint32_t flags; /* SECMLOPS_SIBLING_* */
  uint64_t size;  /* bytes, when EXISTS and a regular file */
} secmlops_sibling_info;

/* ------------------------------------------------------------------------------------------ */
/* Host services: handed to the library at init; valid until shutdown returns.                */
/* ------------------------------------------------------------------------------------------ */
typedef struct secmlops_host_services {
  uint32_t struct_size;
  uint32_t abi_major; /* the host's ABI version */
  uint32_t abi_minor;

  /* Log a message. Callable from any thread, any time between init and shutdown; `job` may be
   * NULL. The host copies `message`. */
  void (*log)(secmlops_job* job, int32_t level, const char* message);

  /* ---- input stream of a scan job (only valid inside scanner.scan) ---- */
  /* Read up to `len` bytes at the current position into `buf`. Returns the number of bytes
   * read (0 at end of stream) or -1 on error (then the plugin returns SECMLOPS_ERR_IO). */
  int64_t (*read)(secmlops_job* job, void* buf, uint64_t len);
  /* Move the current position to `offset` (absolute, 0 <= offset <= size). Seeking skips bytes
   * without reading them: scanners skip tensor payloads this way. */
  secmlops_status (*seek)(secmlops_job* job, uint64_t offset);
  /* The current position. */
  uint64_t (*tell)(secmlops_job* job);
  /* Total size of the stream in bytes. */
  uint64_t (*size)(secmlops_job* job);

  /* ---- progress and cancellation (any job) ---- */
  /* Report progress in [0, 1]. Cheap; may be called often. */
  void (*progress)(secmlops_job* job, double fraction);
  /* Nonzero when the host wants the job to stop: the plugin returns SECMLOPS_ERR_CANCELLED
   * promptly (check it at least every few milliseconds of work). */
  int32_t (*is_cancelled)(secmlops_job* job);

  /* ---- results (copied by the host before returning) ---- */
  secmlops_status (*emit_finding)(secmlops_job* job, const secmlops_finding* finding);
  /* A named number, e.g. a model's parameter count or an attack's query count. `step` orders
   * values of the same key (use 0 when there is a single value). */
  secmlops_status (*emit_metric)(secmlops_job* job, const char* key, double value, int64_t step);
  /* A named text value, e.g. "solver" → "lbfgs". */
  secmlops_status (*emit_property)(secmlops_job* job, const char* key, const char* value);

  /* ---- since 1.1 ---- */
  /* Zero-copy access to `len` bytes of the input stream starting at `offset`. Returns a pointer
   * valid until the next call of any stream service on this job, or NULL when the range is out
   * of bounds or the host cannot map it (then use read). Does not move the current position. */
  const uint8_t* (*view)(secmlops_job* job, uint64_t offset, uint64_t len);
  /* Facts about a file named relative to the directory of the scanned file (ONNX external data,
   * sidecar weights), so that a scanner never opens paths itself. The host refuses to look
   * outside that directory: such paths come back flagged OUTSIDE without being touched. */
  secmlops_status (*stat_sibling)(secmlops_job* job, const char* relative_path,
                                  struct secmlops_sibling_info* out);
} secmlops_host_services;

#define SECMLOPS_HOST_SERVICES_SIZE_1_0 offsetof(secmlops_host_services, view)

/* ------------------------------------------------------------------------------------------ */
/* Declared configuration options (since 1.3; every kind, defaults and host checks since 1.4) */
/* ------------------------------------------------------------------------------------------ */
/* A plugin's configuration is the key/value list the host hands it: `create`'s config for every
 * kind, and also `fit`'s params for models and `generate`'s params for attacks. One declaration
 * describes all of them. Values always cross as strings; the host checks every key against the
 * declaration, and every value against its type, before it creates the instance (and before
 * fit / generate), so a misspelt or mistyped key is an error naming the valid ones instead of
 * being ignored. A plugin that declares its options receives only the keys it declares: options
 * meant for other plugins (a scan's --policy is read by the pickle scanner only) never reach it.
 *
 * The type of an option's value: */
typedef enum secmlops_option_type {
  SECMLOPS_OPTION_STRING = 0, /* any text (a mode name, a policy document)                      */
  SECMLOPS_OPTION_INT = 1,    /* a decimal 64-bit signed integer                                */
  SECMLOPS_OPTION_DOUBLE = 2, /* a finite decimal number                                        */
  SECMLOPS_OPTION_BOOL = 3    /* "true" or "false" (also "1"/"0")                               */
} secmlops_option_type;

/* One option the plugin understands. Owned by the plugin, valid until shutdown. */
typedef struct secmlops_option {
  uint32_t struct_size;
  uint32_t type;    /* secmlops_option_type                                               */
  const char* name; /* the key, e.g. "mode" or "pickle.max_opcodes"; a name ending in ".*"
                     * declares every key with that prefix                                 */
  const char* help; /* one line for users; may be NULL                                    */
  /* ---- since 1.4 ---- */
  /* The value the plugin uses when the key is absent, as the text a user would give (it parses
   * as `type`), for documentation and listings; NULL when there is no single default (computed
   * from the data, or "unset" changes behaviour). The host never injects it. */
  const char* default_value;
} secmlops_option;

#define SECMLOPS_OPTION_SIZE_1_3 offsetof(secmlops_option, default_value)

/* ------------------------------------------------------------------------------------------ */
/* Scanner kind                                                                                */
/* ------------------------------------------------------------------------------------------ */
/* What the host knows about the stream it hands to scan. */
typedef struct secmlops_scan_request {
  uint32_t struct_size;
  const char* path;   /* the file as the user named it                                      */
  const char* member; /* archive member path ("a.zip!/b/c.pkl" style chain), or NULL         */
  const char* format; /* the format id the host routed on (one of the scanner's formats)    */
  uint64_t size;      /* size of the stream in bytes                                         */
} secmlops_scan_request;

typedef struct secmlops_scanner_api {
  uint32_t struct_size;
  /* NULL-terminated list of format ids this scanner handles, e.g. {"pickle", "numpy", NULL}.
   * Owned by the plugin, valid until shutdown. */
  const char* const* formats;
  /* Static, cheap, thread-safe: how confident (0 = not mine, 100 = certain) the scanner is that
   * a stream whose first bytes are head[0..head_len) and whose name is `name` (may be NULL) is
   * one of its formats. When nonzero, writes the format id (one of `formats`) to *format.
   * Routing is by content: the name is only a tie-breaker. */
  uint32_t (*probe)(const uint8_t* head, uint64_t head_len, const char* name, const char** format);
  /* Scan the job's input stream, emitting findings through the host services. Returning an
   * error does not discard findings already emitted. */
  secmlops_status (*scan)(secmlops_instance* instance, secmlops_job* job,
                          const secmlops_scan_request* request);
} secmlops_scanner_api;

/* ------------------------------------------------------------------------------------------ */
/* Model kind                                                                                  */
/* ------------------------------------------------------------------------------------------ */
typedef struct secmlops_model_info {
  uint32_t struct_size;
  uint64_t n_features;
  uint32_t n_classes;
  /* Nonzero when loss_gradient is meaningful for this fitted model. A property of the model,
   * not a capability: read only when the plugin declares SECMLOPS_CAP_GRADIENT. */
  uint32_t has_gradient;
} secmlops_model_info;

typedef struct secmlops_model_api {
  uint32_t struct_size;
  /* Train on X (n × d) with labels y (n class indices 0..k-1). Params as key/value strings. */
  secmlops_status (*fit)(secmlops_instance* instance, secmlops_job* job, const secmlops_matrix* x,
                         const int32_t* y, const secmlops_kv* params, uint32_t param_count);
  /* Shape and abilities of the fitted model. */
  secmlops_status (*info)(secmlops_instance* instance, secmlops_model_info* out);
  /* Class probabilities for every row of X: writes rows × n_classes doubles to `out`, which the
   * host allocated with exactly that many elements. */
  secmlops_status (*predict_proba)(secmlops_instance* instance, secmlops_job* job,
                                   const secmlops_matrix* x, double* out);
  /* Gradient of the model's loss with respect to the input, for every row: writes rows × cols
   * doubles to `out` (host-allocated). NULL when the model family has no gradient. */
  secmlops_status (*loss_gradient)(secmlops_instance* instance, secmlops_job* job,
                                   const secmlops_matrix* x, const int32_t* y, double* out);
  /* Describe the fitted model through emit_metric / emit_property (parameter counts, depth,
   * support vectors, layer sizes, …). */
  secmlops_status (*describe)(secmlops_instance* instance, secmlops_job* job);
  /* Serialise the fitted model as an ONNX ModelProto. *data stays valid until the next call on
   * this instance or its destruction; the plugin owns it. */
  secmlops_status (*export_onnx)(secmlops_instance* instance, secmlops_job* job,
                                 const uint8_t** data, uint64_t* len);
  /* Load a model from ONNX bytes. Returns SECMLOPS_ERR_UNSUPPORTED when the graph is not one
   * this plugin represents, so the host can offer it to another model plugin. */
  secmlops_status (*import_onnx)(secmlops_instance* instance, secmlops_job* job,
                                 const uint8_t* data, uint64_t len);
} secmlops_model_api;

/* The host's mediated view of a fitted model, handed to attacks. Every call goes through the
 * host, which counts queries and enforces cancellation. Valid for the duration of generate;
 * called from generate's thread only (see LIFETIME AND THREADS). */
typedef struct secmlops_model_handle {
  uint32_t struct_size;
  void* context;
  uint64_t n_features;
  uint32_t n_classes;
  uint32_t has_gradient; /* mirrors loss_gradient != NULL; the pointer is what counts */
  secmlops_status (*predict_proba)(void* context, const secmlops_matrix* x, double* out);
  /* Non-NULL exactly when the model has gradients (CAPABILITIES above); then has_gradient is 1. */
  secmlops_status (*loss_gradient)(void* context, const secmlops_matrix* x, const int32_t* y,
                                   double* out);
} secmlops_model_handle;

/* ------------------------------------------------------------------------------------------ */
/* Attack kind                                                                                 */
/* ------------------------------------------------------------------------------------------ */
typedef struct secmlops_attack_api {
  uint32_t struct_size;
  /* Craft adversarial examples for X (n × d). `y` holds n labels: true labels (untargeted) or
   * target labels (when params say targeted); NULL means "use the model's predictions". Writes
   * n × d doubles to `x_adv` (host-allocated). Metrics (queries, iterations) go through
   * emit_metric. */
  secmlops_status (*generate)(secmlops_instance* instance, secmlops_job* job,
                              const secmlops_model_handle* model, const secmlops_matrix* x,
                              const int32_t* y, const secmlops_kv* params, uint32_t param_count,
                              double* x_adv);
} secmlops_attack_api;

/* ------------------------------------------------------------------------------------------ */
/* Reporter kind                                                                               */
/* ------------------------------------------------------------------------------------------ */
typedef enum secmlops_event_type {
  SECMLOPS_EVENT_RUN_START = 1, /* key = experiment, value = run name                        */
  SECMLOPS_EVENT_PARAM = 2,     /* key, value                                                */
  SECMLOPS_EVENT_METRIC = 3,    /* key, number, step, timestamp_ms                           */
  SECMLOPS_EVENT_TAG = 4,       /* key, value                                                */
  SECMLOPS_EVENT_DATASET = 5,   /* key = dataset name, value = digest, path = source;
                                   since 1.2 also schema and profile (see below)              */
  SECMLOPS_EVENT_ARTIFACT = 6,  /* path = local file, key = artifact path in the run         */
  SECMLOPS_EVENT_RUN_END = 7    /* value = "FINISHED" | "FAILED" | "KILLED"                  */
} secmlops_event_type;

typedef struct secmlops_run_event {
  uint32_t struct_size;
  uint32_t type; /* secmlops_event_type */
  const char* key;
  const char* value;
  const char* path;
  double number;
  int64_t step;
  int64_t timestamp_ms; /* milliseconds since the Unix epoch */
  /* ---- since 1.2 ---- */
  /* DATASET: MLflow's dataset schema ({"mlflow_colspec": [...]}) and profile (rows, digest,
   * personal-data counts) as JSON text; NULL or "" when unknown. */
  const char* schema;
  const char* profile;
} secmlops_run_event;

typedef struct secmlops_reporter_api {
  uint32_t struct_size;
  /* Receive one event of the run this instance reports. Events arrive in order. */
  secmlops_status (*on_event)(secmlops_instance* instance, secmlops_job* job,
                              const secmlops_run_event* event);
  /* Deliver everything buffered; called after RUN_END and before destroy. May be NULL
   * (SECMLOPS_CAP_FLUSH says which, since 1.4). */
  secmlops_status (*flush)(secmlops_instance* instance, secmlops_job* job);
} secmlops_reporter_api;

/* ------------------------------------------------------------------------------------------ */
/* Descriptors                                                                                 */
/* ------------------------------------------------------------------------------------------ */
/* Capability bits a plugin declares (see CAPABILITIES at the top): set exactly when the
 * named function is non-NULL; the host refuses a mismatch. */
enum {
  SECMLOPS_CAP_PROBE = 1u << 0,          /* scanner: probe != NULL                  */
  SECMLOPS_CAP_GRADIENT = 1u << 1,       /* model: loss_gradient != NULL            */
  SECMLOPS_CAP_ONNX_EXPORT = 1u << 2,    /* model: export_onnx != NULL              */
  SECMLOPS_CAP_ONNX_IMPORT = 1u << 3,    /* model: import_onnx != NULL              */
  SECMLOPS_CAP_DESCRIBE = 1u << 4,       /* model: describe != NULL                 */
  SECMLOPS_CAP_NEEDS_GRADIENT = 1u << 5, /* attack: requires a model with gradients */
  SECMLOPS_CAP_FLUSH = 1u << 6           /* reporter: flush != NULL (since 1.4)     */
};

typedef struct secmlops_plugin_descriptor {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t kind;           /* secmlops_kind */
  const char* name;        /* unique, SECMLOPS_PLUGIN_NAME_PATTERN (see NAMES at the top)     */
  const char* version;     /* the plugin's own version, e.g. "1.2.0"                          */
  const char* description; /* one line                                                       */
  uint64_t capabilities;   /* SECMLOPS_CAP_* bits                                             */

  /* Create an instance for one job. `config` holds `config_count` key/value pairs (policy,
   * options). On failure returns an error and leaves *out NULL; last_error(NULL) explains. */
  secmlops_status (*create)(const secmlops_kv* config, uint32_t config_count,
                            secmlops_instance** out);
  void (*destroy)(secmlops_instance* instance);
  /* The message of the last failed call on `instance` (or, with NULL, of the last failed
   * init/create on the calling thread). Valid until the next call on the same instance (or on
   * the same thread for NULL). Never NULL: "" when there is nothing to say. */
  const char* (*last_error)(const secmlops_instance* instance);

  /* Exactly the table matching `kind` is non-NULL. */
  const secmlops_scanner_api* scanner;
  const secmlops_model_api* model;
  const secmlops_attack_api* attack;
  const secmlops_reporter_api* reporter;

  /* ---- since 1.1 ---- */
  const char* license; /* SPDX identifier, e.g. "Apache-2.0"; may be NULL */

  /* ---- since 1.3 ---- */
  /* The configuration keys the plugin understands (see "Declared configuration options"):
   * `option_count` entries, read with the stride of options[0].struct_size. NULL means "not
   * declared": every key is passed through unchecked, as for plugins built against 1.0-1.2. A
   * non-NULL pointer with option_count 0 declares that the plugin takes no options. A scan's
   * options go to several scanners: a key is refused when no scanner declares it, as long as
   * every loaded scanner declares its options. */
  const secmlops_option* options;
  uint32_t option_count;
} secmlops_plugin_descriptor;

#define SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_0 offsetof(secmlops_plugin_descriptor, license)
#define SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_1 offsetof(secmlops_plugin_descriptor, options)
#define SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_2 SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_1
#define SECMLOPS_PLUGIN_DESCRIPTOR_SIZE_1_3 sizeof(secmlops_plugin_descriptor)

/* What the entry symbol returns: every plugin of the library. */
typedef struct secmlops_library {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t plugin_count;
  const secmlops_plugin_descriptor* const* plugins;
  /* Called once after loading, before any other function. `services` stays valid until
   * shutdown returns. A non-OK status refuses the whole library; plugins[0]->last_error(NULL)
   * explains (see ERRORS at the top). May be NULL. */
  secmlops_status (*init)(const secmlops_host_services* services);
  /* Called once before unloading, after every instance has been destroyed. May be NULL. */
  void (*shutdown)(void);
} secmlops_library;

/* The entry point. The host passes its own ABI version so a plugin may adapt; the returned
 * table is owned by the plugin and valid until the library is unloaded. Returns NULL when the
 * plugin cannot work with this host. */
typedef const secmlops_library* (*secmlops_entry_fn)(uint32_t host_abi_major,
                                                     uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* SECMLOPS_SDK_ABI_H */
