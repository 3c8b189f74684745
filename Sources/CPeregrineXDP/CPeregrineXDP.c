// SPDX-License-Identifier: Apache-2.0
#include "CPeregrineXDP.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <xdp/xsk.h>

/* MPOL_BIND of <numaif.h>; the mbind system call is used directly so that libnuma is not needed. */
#define PEREGRINE_MPOL_BIND 2

struct CPeregrineXDP_umem {
    struct xsk_umem *umem;
    struct xsk_ring_prod fill;
    struct xsk_ring_cons completion;
    void *area;
    uint32_t frame_count;
    uint32_t frame_size;
    /* Sockets bound over this UMEM. */
    uint32_t sockets;
    /* Set for good when a second socket binds: from then on refills from several threads share the
     * fill ring and take `lock` (linux-capture-facts.md §3.2, layout A), once per batch. */
    int shared;
    pthread_mutex_t lock;
};

struct CPeregrineXDP_socket {
    struct xsk_socket *socket;
    struct xsk_ring_cons rx;
    CPeregrineXDP_umem *umem;
};

void *CPeregrineXDP_allocateArea(uint64_t size, int numa_node) {
    void *area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) return NULL;
    if (numa_node >= 0) {
        unsigned long mask[16];
        memset(mask, 0, sizeof(mask));
        if (numa_node >= (int)(sizeof(mask) * 8)) {
            munmap(area, size);
            errno = EINVAL;
            return NULL;
        }
        mask[numa_node / (8 * sizeof(unsigned long))] |= 1UL << (numa_node % (8 * sizeof(unsigned long)));
        if (syscall(SYS_mbind, area, size, PEREGRINE_MPOL_BIND, mask, sizeof(mask) * 8, 0) != 0) {
            int code = errno;
            munmap(area, size);
            errno = code;
            return NULL;
        }
    }
    /* Allocate every page now, under the policy just set (first touch). */
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t offset = 0; offset < size; offset += (uint64_t)page) ((volatile char *)area)[offset] = 0;
    return area;
}

void CPeregrineXDP_freeArea(void *area, uint64_t size) { munmap(area, size); }

CPeregrineXDP_umem *CPeregrineXDP_createUMEM(
    void *area, uint32_t frame_count, uint32_t frame_size, uint32_t fill_size, uint32_t completion_size) {
    CPeregrineXDP_umem *wrapper = calloc(1, sizeof(*wrapper));
    if (!wrapper) {
        errno = ENOMEM;
        return NULL;
    }
    struct xsk_umem_config config = {
        .fill_size = fill_size,
        .comp_size = completion_size,
        .frame_size = frame_size,
        .frame_headroom = 0,
        .flags = 0,
    };
    int result = xsk_umem__create(
        &wrapper->umem, area, (uint64_t)frame_count * frame_size, &wrapper->fill, &wrapper->completion, &config);
    if (result < 0) {
        free(wrapper);
        errno = -result;
        return NULL;
    }
    wrapper->area = area;
    wrapper->frame_count = frame_count;
    wrapper->frame_size = frame_size;
    pthread_mutex_init(&wrapper->lock, NULL);
    return wrapper;
}

int CPeregrineXDP_deleteUMEM(CPeregrineXDP_umem *wrapper) {
    int result = xsk_umem__delete(wrapper->umem);
    if (result < 0) {
        errno = -result;
        return -1;
    }
    pthread_mutex_destroy(&wrapper->lock);
    free(wrapper);
    return 0;
}

CPeregrineXDP_socket *CPeregrineXDP_createSocket(
    CPeregrineXDP_umem *umem, const char *interface, uint32_t queue, uint32_t rx_size, int zero_copy) {
    CPeregrineXDP_socket *wrapper = calloc(1, sizeof(*wrapper));
    if (!wrapper) {
        errno = ENOMEM;
        return NULL;
    }
    struct xsk_socket_config config;
    memset(&config, 0, sizeof(config));
    config.rx_size = rx_size;
    config.tx_size = 0;
    config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
    config.bind_flags = XDP_USE_NEED_WAKEUP | (zero_copy ? XDP_ZEROCOPY : XDP_COPY);
    int result;
    if (umem->sockets == 0)
        result = xsk_socket__create(&wrapper->socket, interface, queue, umem->umem, &wrapper->rx, NULL, &config);
    else
        result = xsk_socket__create_shared(
            &wrapper->socket, interface, queue, umem->umem, &wrapper->rx, NULL, NULL, NULL, &config);
    if (result < 0) {
        free(wrapper);
        errno = -result;
        return NULL;
    }
    umem->sockets += 1;
    if (umem->sockets > 1) umem->shared = 1;
    wrapper->umem = umem;
    return wrapper;
}

void CPeregrineXDP_deleteSocket(CPeregrineXDP_socket *wrapper) {
    xsk_socket__delete(wrapper->socket);
    wrapper->umem->sockets -= 1;
    free(wrapper);
}

int CPeregrineXDP_socketDescriptor(const CPeregrineXDP_socket *wrapper) { return xsk_socket__fd(wrapper->socket); }

uint32_t CPeregrineXDP_fillAll(CPeregrineXDP_umem *umem) {
    uint32_t index = 0;
    uint32_t reserved = xsk_ring_prod__reserve(&umem->fill, umem->frame_count, &index);
    for (uint32_t i = 0; i < reserved; i++)
        *xsk_ring_prod__fill_addr(&umem->fill, index + i) = (uint64_t)i * umem->frame_size;
    xsk_ring_prod__submit(&umem->fill, reserved);
    return reserved;
}

uint32_t CPeregrineXDP_receive(CPeregrineXDP_socket *wrapper, struct xdp_desc *descriptors, uint32_t max) {
    uint32_t index = 0;
    uint32_t count = xsk_ring_cons__peek(&wrapper->rx, max, &index);
    for (uint32_t i = 0; i < count; i++) descriptors[i] = *xsk_ring_cons__rx_desc(&wrapper->rx, index + i);
    xsk_ring_cons__release(&wrapper->rx, count);
    return count;
}

uint32_t CPeregrineXDP_refill(CPeregrineXDP_umem *umem, const struct xdp_desc *descriptors, uint32_t count) {
    int shared = umem->shared;
    if (shared) pthread_mutex_lock(&umem->lock);
    uint32_t index = 0;
    uint32_t reserved = xsk_ring_prod__reserve(&umem->fill, count, &index);
    uint64_t frame_mask = ~(uint64_t)(umem->frame_size - 1);
    for (uint32_t i = 0; i < reserved; i++)
        *xsk_ring_prod__fill_addr(&umem->fill, index + i) = descriptors[i].addr & frame_mask;
    xsk_ring_prod__submit(&umem->fill, reserved);
    if (shared) pthread_mutex_unlock(&umem->lock);
    return reserved;
}

int CPeregrineXDP_fillNeedsWakeup(const CPeregrineXDP_umem *umem) { return xsk_ring_prod__needs_wakeup(&umem->fill); }

int CPeregrineXDP_statistics(const CPeregrineXDP_socket *wrapper, struct xdp_statistics *statistics) {
    socklen_t length = sizeof(*statistics);
    memset(statistics, 0, sizeof(*statistics));
    return getsockopt(xsk_socket__fd(wrapper->socket), SOL_XDP, XDP_STATISTICS, statistics, &length);
}

int CPeregrineXDP_registerSocket(int map_descriptor, uint32_t index, const CPeregrineXDP_socket *wrapper) {
    int descriptor = xsk_socket__fd(wrapper->socket);
    int result = bpf_map_update_elem(map_descriptor, &index, &descriptor, BPF_ANY);
    if (result < 0) {
        errno = -result;
        return -1;
    }
    return 0;
}

int CPeregrineXDP_isZeroCopy(const CPeregrineXDP_socket *wrapper) {
    struct xdp_options options;
    socklen_t length = sizeof(options);
    if (getsockopt(xsk_socket__fd(wrapper->socket), SOL_XDP, XDP_OPTIONS, &options, &length) != 0) return 0;
    return (options.flags & XDP_OPTIONS_ZEROCOPY) != 0;
}
