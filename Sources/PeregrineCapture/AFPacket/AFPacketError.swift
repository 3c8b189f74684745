// SPDX-License-Identifier: Apache-2.0
import PeregrineSystem

/// A failure to open or read an AF_PACKET source (style.md §5).
public enum AFPacketError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A configuration value the kernel would refuse.
    case invalidConfiguration(String)
    /// The interface's hardware type has no decoder here (only Ethernet and loopback, which both carry
    /// Ethernet headers, are supported).
    case unsupportedInterface(name: String, hardwareType: UInt16)
    /// A system call failed; the error names it, its errno and the interface.
    case system(SystemError)

    /// One line saying what went wrong.
    public var description: String {
        switch self {
        case .invalidConfiguration(let reason):
            return "invalid AF_PACKET configuration: \(reason)"
        case .unsupportedInterface(let name, let type):
            return "interface \(name): hardware type \(type) is not Ethernet; AF_PACKET capture needs Ethernet frames"
        case .system(let error):
            return error.description
        }
    }
}
