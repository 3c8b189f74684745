/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CPeregrineXDP: AF_XDP sockets and their UMEM through libxdp's <xdp/xsk.h>, behind plain C types.
 *
 * Why a C target: <xdp/xsk.h> includes <bpf/libbpf.h>, whose `struct bpf_insn` collides with
 * libpcap's in PeregrineCapture (see CPeregrineBPF.h); and the ring helpers are inline functions
 * meant to be called once per frame, so the batched loops over them live here, and the Swift receive
 * loop makes two calls per batch (receive, refill) instead of a few per frame. No policy: sizes,
 * layouts and error messages are decided in Swift (Sources/PeregrineCapture/AFXDP/).
 */
#ifndef C_PEREGRINE_XDP_H
#define C_PEREGRINE_XDP_H

#include <stddef.h>
#include <stdint.h>
#include <linux/if_xdp.h>

/* A UMEM (`struct xsk_umem`) with its fill and completion rings. */
typedef struct CPeregrineXDP_umem CPeregrineXDP_umem;
/* An AF_XDP socket (`struct xsk_socket`) with its receive ring. */
typedef struct CPeregrineXDP_socket CPeregrineXDP_socket;

/*
 * `size` bytes of anonymous, page-aligned memory for a UMEM, bound to NUMA node `numa_node` (mbind
 * MPOL_BIND) unless it is negative, then touched so that every page is allocated now, on that node.
 * Returns NULL with errno set on failure. Free with CPeregrineXDP_freeArea.
 */
void *CPeregrineXDP_allocateArea(uint64_t size, int numa_node);
void CPeregrineXDP_freeArea(void *area, uint64_t size);

/*
 * Registers `area` (`frame_count` frames of `frame_size` bytes, a power of two) as a UMEM
 * (xsk_umem__create) with fill and completion rings of the given sizes (powers of two). Returns NULL
 * with errno set on failure.
 */
CPeregrineXDP_umem *CPeregrineXDP_createUMEM(
    void *area, uint32_t frame_count, uint32_t frame_size, uint32_t fill_size, uint32_t completion_size);

/* Deletes the UMEM (xsk_umem__delete); its sockets must be deleted first. Returns 0, or -1 with errno. */
int CPeregrineXDP_deleteUMEM(CPeregrineXDP_umem *umem);

/*
 * Creates a receive-only AF_XDP socket on (`interface`, `queue`) over `umem` and binds it with
 * XDP_USE_NEED_WAKEUP and XDP_ZEROCOPY when `zero_copy` is non-zero, XDP_COPY otherwise. The first
 * socket of a UMEM takes its fill and completion rings (xsk_socket__create); later ones must use the
 * same queue and share them (xsk_socket__create_shared, XDP_SHARED_UMEM), after which refills take
 * the UMEM's lock. No XDP program is loaded (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD): the caller
 * attaches its own and registers the socket with CPeregrineXDP_registerSocket. Returns NULL with
 * errno set on failure (EOPNOTSUPP: the driver has no zero-copy support).
 */
CPeregrineXDP_socket *CPeregrineXDP_createSocket(
    CPeregrineXDP_umem *umem, const char *interface, uint32_t queue, uint32_t rx_size, int zero_copy);

/* Deletes the socket (xsk_socket__delete); the kernel removes it from every XSKMAP. */
void CPeregrineXDP_deleteSocket(CPeregrineXDP_socket *socket);

/* The socket's descriptor (for poll, getsockopt, the XSKMAP). */
int CPeregrineXDP_socketDescriptor(const CPeregrineXDP_socket *socket);

/* Puts every frame of the UMEM on its fill ring; call once, after the first socket is bound. Returns
 * the number of frames put (all of them when the fill ring is at least as large as the UMEM). */
uint32_t CPeregrineXDP_fillAll(CPeregrineXDP_umem *umem);

/*
 * Takes up to `max` received descriptors off the socket's receive ring into `descriptors` and
 * releases their ring entries (the frames stay user space's until given back with
 * CPeregrineXDP_refill). Returns the number taken, 0 when the ring is empty.
 */
uint32_t CPeregrineXDP_receive(CPeregrineXDP_socket *socket, struct xdp_desc *descriptors, uint32_t max);

/*
 * Gives the frames of `count` descriptors back to the kernel on the UMEM's fill ring (each address
 * rounded down to its frame). Returns the number put: all of them unless the fill ring is smaller
 * than the UMEM. Takes the UMEM's lock when sockets share it.
 */
uint32_t CPeregrineXDP_refill(CPeregrineXDP_umem *umem, const struct xdp_desc *descriptors, uint32_t count);

/* Whether the kernel asked to be woken (XDP_RING_NEED_WAKEUP on the fill ring): poll or recvfrom does. */
int CPeregrineXDP_fillNeedsWakeup(const CPeregrineXDP_umem *umem);

/* getsockopt(SOL_XDP, XDP_STATISTICS). Returns 0, or -1 with errno set. */
int CPeregrineXDP_statistics(const CPeregrineXDP_socket *socket, struct xdp_statistics *statistics);

/* Puts the socket into entry `index` of the XSKMAP `map_descriptor` (bpf_map_update_elem). Returns 0,
 * or -1 with errno set. */
int CPeregrineXDP_registerSocket(int map_descriptor, uint32_t index, const CPeregrineXDP_socket *socket);

/* Whether the socket is bound in zero-copy mode (getsockopt(SOL_XDP, XDP_OPTIONS)). */
int CPeregrineXDP_isZeroCopy(const CPeregrineXDP_socket *socket);

#endif
