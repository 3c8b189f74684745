// SPDX-License-Identifier: Apache-2.0
import Glibc

/// An `mmap`ed region that unmaps itself when released: the owner of a packet ring's memory.
///
/// The region is shared with the kernel (a TPACKET ring, later an AF_XDP UMEM), so the pointer stays
/// valid exactly as long as this object lives; whoever walks it must keep the object alive.
public final class MappedRegion {
    /// The first byte of the mapping.
    public let base: UnsafeMutableRawPointer
    /// The mapping's length in bytes.
    public let length: Int

    /// Maps `length` bytes of `descriptor` (offset 0) shared and readable/writable.
    ///
    /// `MAP_POPULATE` faults every page in now rather than on the packet path. `MAP_LOCKED` is not used:
    /// an AF_PACKET ring is kernel memory and is not charged to RLIMIT_MEMLOCK, and locking would fail
    /// without CAP_IPC_LOCK (linux-capture-facts.md §2, §3.5).
    /// The corresponding C call is `mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0)`.
    /// - Throws: `SystemError.syscall` naming `mmap` and `interface`.
    public init(sharing descriptor: CInt, length: Int, interface: String?) throws(SystemError) {
        let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw .syscall(call: "mmap(\(length) bytes, MAP_SHARED)", errno: errno, interface: interface)
        }
        self.base = mapped
        self.length = length
    }

    deinit {
        // munmap only fails for arguments this object never holds (unaligned or unmapped ranges).
        let result = munmap(base, length)
        assert(result == 0, "munmap of a region this object mapped failed")
    }
}
