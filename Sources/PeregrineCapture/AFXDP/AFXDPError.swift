// SPDX-License-Identifier: Apache-2.0
import Glibc
import PeregrineSystem

/// A failure to open or read AF_XDP sockets (style.md §5). Each case prints as one line saying what
/// failed and what to do.
public enum AFXDPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration value the kernel would refuse.
    case invalidConfiguration(String)
    /// The interface's hardware type is not Ethernet.
    case unsupportedInterface(name: String, hardwareType: UInt16)
    /// A layout in which the kernel would drop packets without counting them, or one it refuses;
    /// `reason` says why and what to do instead.
    case layoutRefused(interface: String, reason: String)
    /// Native XDP was asked for on an interface whose driver has none.
    case noNativeXDP(interface: String)
    /// libxdp or the kernel refused a UMEM or socket step (`call`), with its errno.
    case socket(call: String, errno: Int32, interface: String, queue: UInt32)
    /// Loading or attaching the XDP program failed.
    case program(BPFError)
    /// Another system call failed.
    case system(SystemError)

    /// One line saying what went wrong.
    public var description: String {
        switch self {
        case .invalidConfiguration(let reason):
            return "invalid AF_XDP configuration: \(reason)"
        case .unsupportedInterface(let name, let type):
            return "interface \(name): hardware type \(type) is not Ethernet; AF_XDP capture needs Ethernet frames"
        case .layoutRefused(let interface, let reason):
            return "AF_XDP on \(interface): \(reason)"
        case .noNativeXDP(let interface):
            return "interface \(interface) has no native XDP support in its driver: use generic mode on a "
                + "single-queue device, or AF_PACKET capture"
        case .socket(let call, let code, let interface, let queue):
            var hint = ""
            if code == EBUSY { hint = " (another AF_XDP socket or UMEM is bound to this queue)" }
            if code == EINVAL { hint = " (does the interface have this queue? see ethtool -l)" }
            if code == EPERM { hint = " (AF_XDP sockets need CAP_NET_RAW and CAP_NET_ADMIN, or root)" }
            if code == ENOBUFS {
                hint = " (the UMEM is charged to RLIMIT_MEMLOCK without CAP_IPC_LOCK: grant CAP_IPC_LOCK, raise LimitMEMLOCK, "
                    + "or shrink the UMEM, capture.af_xdp frame_count × frame_size)"
            }
            return "\(call) on \(interface) queue \(queue) failed: \(String(cString: strerror(code))) (errno \(code))\(hint)"
        case .program(let error):
            return error.description
        case .system(let error):
            return error.description
        }
    }
}
