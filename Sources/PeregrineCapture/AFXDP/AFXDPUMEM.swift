// SPDX-License-Identifier: Apache-2.0
import CPeregrineXDP
import Glibc

/// A UMEM: page-aligned frames registered with the kernel, and its fill and completion rings
/// (kernel Documentation/networking/af_xdp.rst). Shared by the sockets bound over it, which keep it
/// alive; the last one to go deletes it and frees the memory.
final class AFXDPUMEM {
    /// The first byte of the frames; a received descriptor's address is an offset from it.
    let area: UnsafeMutableRawPointer
    let frameCount: Int
    let frameSize: Int
    let handle: OpaquePointer

    /// Allocates `frameCount × frameSize` bytes (on `numaNode` when given) and registers them.
    /// The corresponding C calls are `mmap`, `mbind` and `setsockopt(SOL_XDP, XDP_UMEM_REG)`
    /// (`xsk_umem__create`).
    init(
        frameCount: Int, frameSize: Int, fillRingSize: Int, completionRingSize: Int, numaNode: Int?,
        interface: String
    ) throws(AFXDPError) {
        let size = UInt64(frameCount * frameSize)
        guard let area = CPeregrineXDP_allocateArea(size, CInt(numaNode ?? -1)) else {
            let call = numaNode.map { "mmap+mbind(node \($0)) of \(size) bytes" } ?? "mmap of \(size) bytes"
            throw .socket(call: call, errno: errno, interface: interface, queue: 0)
        }
        guard
            let handle = CPeregrineXDP_createUMEM(
                area, UInt32(frameCount), UInt32(frameSize), UInt32(fillRingSize), UInt32(completionRingSize))
        else {
            let code = errno
            CPeregrineXDP_freeArea(area, size)
            throw .socket(call: "xsk_umem__create", errno: code, interface: interface, queue: 0)
        }
        self.area = area
        self.frameCount = frameCount
        self.frameSize = frameSize
        self.handle = handle
    }

    deinit {
        // Every socket over the UMEM holds a reference to it, so none is left and the delete cannot
        // fail with EBUSY.
        let deleted = CPeregrineXDP_deleteUMEM(handle)
        assert(deleted == 0, "xsk_umem__delete failed: errno \(errno)")
        CPeregrineXDP_freeArea(area, UInt64(frameCount * frameSize))
    }
}
