// SPDX-License-Identifier: Apache-2.0
#include "CPeregrineBPF.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of verifier log kept: the kernel (6.4+) keeps the end of the log when it does not fit, and
 * the end is where the verifier says why it rejected the program. */
#define VERIFIER_LOG_SIZE (256 * 1024)
/* Lines of the log's end quoted in an error message. */
#define VERIFIER_LOG_LINES 3

struct CPeregrineBPF_object {
    struct bpf_object *object;
    char *log;
};

/* libbpf's first warning on this thread since the call began: the cause, where later ones only say
 * that the object failed. Kept for the error message instead of printed to stderr (a one-line error
 * must carry it); debug and info output is dropped. The print callback is process-wide. */
static __thread char last_warning[512];

static int keep_warning(enum libbpf_print_level level, const char *format, va_list arguments) {
    if (level != LIBBPF_WARN || last_warning[0]) return 0;
    vsnprintf(last_warning, sizeof(last_warning), format, arguments);
    size_t length = strlen(last_warning);
    while (length > 0 && last_warning[length - 1] == '\n') last_warning[--length] = 0;
    return 0;
}

static pthread_once_t print_once = PTHREAD_ONCE_INIT;
static void install_print(void) { libbpf_set_print(keep_warning); }

static void begin_call(void) {
    pthread_once(&print_once, install_print);
    last_warning[0] = 0;
}

/* "strerror(code)[: libbpf's last warning]" into message. */
static void describe(int code, char *message, size_t message_size) {
    if (last_warning[0])
        snprintf(message, message_size, "%s: %s", strerror(code), last_warning);
    else
        snprintf(message, message_size, "%s", strerror(code));
}

CPeregrineBPF_object *CPeregrineBPF_open(const char *path, char *message, size_t message_size) {
    begin_call();
    struct CPeregrineBPF_object *wrapper = calloc(1, sizeof(*wrapper));
    if (!wrapper) {
        describe(ENOMEM, message, message_size);
        errno = ENOMEM;
        return NULL;
    }
    struct bpf_object *object = bpf_object__open_file(path, NULL);
    if (!object) {
        int code = errno;
        free(wrapper);
        describe(code, message, message_size);
        errno = code;
        return NULL;
    }
    wrapper->object = object;
    return wrapper;
}

int CPeregrineBPF_setConfig(CPeregrineBPF_object *wrapper, const struct peregrine_config *config) {
    begin_call();
    struct bpf_map *map = bpf_object__find_map_by_name(wrapper->object, ".rodata.config");
    if (!map) {
        errno = EINVAL;
        return -1;
    }
    size_t size = 0;
    if (!bpf_map__initial_value(map, &size) || size != sizeof(*config)) {
        errno = EINVAL;
        return -1;
    }
    int result = bpf_map__set_initial_value(map, config, sizeof(*config));
    if (result < 0) {
        errno = -result;
        return -1;
    }
    return 0;
}

/* Appends the last VERIFIER_LOG_LINES non-empty lines of `log` to message, joined by " | ". */
static void append_log_tail(const char *log, char *message, size_t message_size) {
    size_t end = strlen(log);
    size_t start = end;
    int lines = 0;
    while (start > 0 && lines < VERIFIER_LOG_LINES) {
        while (start > 0 && log[start - 1] == '\n') start--;
        if (start == 0) break;
        while (start > 0 && log[start - 1] != '\n') start--;
        lines++;
    }
    if (lines == 0) return;
    size_t used = strlen(message);
    size_t room = used < message_size ? message_size - used : 0;
    int written = snprintf(message + used, room, "; verifier: ");
    if (written < 0 || (size_t)written >= room) return;
    used += (size_t)written;
    for (const char *p = log + start; *p && used + 1 < message_size; p++) {
        if (*p == '\n') {
            if (p[1] == 0) break;
            if (used + 4 >= message_size) break;
            memcpy(message + used, " | ", 3);
            used += 3;
        } else {
            message[used++] = *p;
        }
    }
    message[used] = 0;
}

int CPeregrineBPF_load(CPeregrineBPF_object *wrapper, char *message, size_t message_size) {
    begin_call();
    if (!wrapper->log) {
        wrapper->log = calloc(1, VERIFIER_LOG_SIZE);
        if (!wrapper->log) {
            describe(ENOMEM, message, message_size);
            errno = ENOMEM;
            return -1;
        }
    }
    struct bpf_program *program;
    /* With log level 0 libbpf asks for the verifier's log only after a failed load, and retries. */
    bpf_object__for_each_program(program, wrapper->object) {
        bpf_program__set_log_buf(program, wrapper->log, VERIFIER_LOG_SIZE);
    }
    wrapper->log[0] = 0;
    int result = bpf_object__load(wrapper->object);
    if (result < 0) {
        int code = -result;
        describe(code, message, message_size);
        append_log_tail(wrapper->log, message, message_size);
        errno = code;
        return -1;
    }
    return 0;
}

int CPeregrineBPF_programDescriptor(CPeregrineBPF_object *wrapper, const char *name) {
    struct bpf_program *program = bpf_object__find_program_by_name(wrapper->object, name);
    if (!program) {
        errno = ENOENT;
        return -1;
    }
    int descriptor = bpf_program__fd(program);
    if (descriptor < 0) errno = -descriptor;
    return descriptor < 0 ? -1 : descriptor;
}

int CPeregrineBPF_mapDescriptor(CPeregrineBPF_object *wrapper, const char *name) {
    struct bpf_map *map = bpf_object__find_map_by_name(wrapper->object, name);
    if (!map) {
        errno = ENOENT;
        return -1;
    }
    int descriptor = bpf_map__fd(map);
    if (descriptor < 0) errno = -descriptor;
    return descriptor < 0 ? -1 : descriptor;
}

void CPeregrineBPF_close(CPeregrineBPF_object *wrapper) {
    if (!wrapper) return;
    bpf_object__close(wrapper->object);
    free(wrapper->log);
    free(wrapper);
}

int CPeregrineBPF_testRun(
    int program_descriptor, const void *data, uint32_t size, void *data_out, uint32_t *data_out_size,
    uint32_t *return_value) {
    struct bpf_test_run_opts options;
    memset(&options, 0, sizeof(options));
    options.sz = sizeof(options);
    options.data_in = data;
    options.data_size_in = size;
    options.data_out = data_out;
    options.data_size_out = *data_out_size;
    options.repeat = 1;
    int result = bpf_prog_test_run_opts(program_descriptor, &options);
    if (result < 0) {
        errno = -result;
        return -1;
    }
    *data_out_size = options.data_size_out;
    *return_value = options.retval;
    return 0;
}

int CPeregrineBPF_attachXDP(int program_descriptor, int interface_index, uint32_t mode) {
    begin_call();
    struct bpf_link_create_opts options;
    memset(&options, 0, sizeof(options));
    options.sz = sizeof(options);
    options.flags = mode;
    int descriptor = bpf_link_create(program_descriptor, interface_index, BPF_XDP, &options);
    if (descriptor < 0) {
        errno = -descriptor;
        return -1;
    }
    return descriptor;
}

int CPeregrineBPF_sumPerCPUCounter(int map_descriptor, uint32_t index, uint64_t *sum) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus < 0) {
        errno = -cpus;
        return -1;
    }
    uint64_t *values = calloc((size_t)cpus, sizeof(uint64_t));
    if (!values) {
        errno = ENOMEM;
        return -1;
    }
    int result = bpf_map_lookup_elem(map_descriptor, &index, values);
    if (result < 0) {
        free(values);
        errno = -result;
        return -1;
    }
    uint64_t total = 0;
    for (int cpu = 0; cpu < cpus; cpu++) total += values[cpu];
    free(values);
    *sum = total;
    return 0;
}

/* A zeroed per-CPU value array of the shunt map (one entry per possible CPU), or NULL with errno set. */
static struct peregrine_shunt_counts *shunt_values(int *cpus) {
    *cpus = libbpf_num_possible_cpus();
    if (*cpus < 0) {
        errno = -*cpus;
        return NULL;
    }
    struct peregrine_shunt_counts *values = calloc((size_t)*cpus, sizeof(*values));
    if (!values) errno = ENOMEM;
    return values;
}

int CPeregrineBPF_shuntAdd(int map_descriptor, const struct peregrine_flow_key *key,
                           const struct peregrine_shunt_counts *start) {
    int cpus;
    struct peregrine_shunt_counts *values = shunt_values(&cpus);
    if (!values) return -1;
    for (int cpu = 0; cpu < cpus; cpu++) {
        values[cpu].ab.seq_last = start->ab.seq_last;
        values[cpu].ab.ack_last = start->ab.ack_last;
        values[cpu].ba.seq_last = start->ba.seq_last;
        values[cpu].ba.ack_last = start->ba.ack_last;
    }
    int result = bpf_map_update_elem(map_descriptor, key, values, BPF_NOEXIST);
    free(values);
    if (result < 0) {
        errno = -result;
        return -1;
    }
    return 0;
}

static void add_direction(struct peregrine_shunt_direction *total, const struct peregrine_shunt_direction *cpu) {
    total->packets += cpu->packets;
    total->ip_bytes += cpu->ip_bytes;
    total->payload_bytes += cpu->payload_bytes;
    total->retransmissions += cpu->retransmissions;
    total->zero_windows += cpu->zero_windows;
    if (cpu->seq_advance > total->seq_advance || (total->seq_advance == 0 && cpu->seq_advance == 0)) {
        total->seq_advance = cpu->seq_advance;
        total->seq_last = cpu->seq_last;
    }
    if (cpu->ack_advance > total->ack_advance || (total->ack_advance == 0 && cpu->ack_advance == 0)) {
        total->ack_advance = cpu->ack_advance;
        total->ack_last = cpu->ack_last;
    }
}

int CPeregrineBPF_shuntRead(int map_descriptor, const struct peregrine_flow_key *key, int remove,
                            struct peregrine_shunt_counts *total) {
    int cpus;
    struct peregrine_shunt_counts *values = shunt_values(&cpus);
    if (!values) return -1;
    int result = remove ? bpf_map_lookup_and_delete_elem(map_descriptor, key, values)
                        : bpf_map_lookup_elem(map_descriptor, key, values);
    if (result < 0) {
        free(values);
        errno = -result;
        return -1;
    }
    memset(total, 0, sizeof(*total));
    for (int cpu = 0; cpu < cpus; cpu++) {
        add_direction(&total->ab, &values[cpu].ab);
        add_direction(&total->ba, &values[cpu].ba);
    }
    free(values);
    return 0;
}

int CPeregrineBPF_deleteKey(int map_descriptor, const void *key) {
    int result = bpf_map_delete_elem(map_descriptor, key);
    if (result < 0) {
        errno = -result;
        return -1;
    }
    return 0;
}
