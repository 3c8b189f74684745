// SPDX-License-Identifier: Apache-2.0

/// A failure to open, filter or read a capture file (style.md §5: setup failures throw).
///
/// Every case names the file, and `description` is one line that the command-line tool prints as is.
public enum PcapError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened as a capture: missing, a directory, empty, not pcap/pcapng
    /// (libpcap says "unknown file format"), or its header is cut short.
    case cannotOpen(path: String, reason: String)
    /// The file's link type is one Peregrine has no decoder for.
    case unsupportedLinkType(path: String, linkType: UInt32, name: String)
    /// The capture filter did not compile (`pcap_compile`) or could not be set (`pcap_setfilter`).
    case invalidFilter(path: String, filter: String, reason: String)
    /// Reading stopped in the middle of the file (for instance a truncated last packet) after
    /// `packetsDelivered` packets had been handed out; those packets were delivered before this was thrown.
    case readFailed(path: String, packetsDelivered: Int, reason: String)

    /// One line naming the file and what went wrong.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot read capture file '\(path)': \(reason)"
        case .unsupportedLinkType(let path, let linkType, let name):
            return "capture file '\(path)': unsupported link type \(linkType) (\(name))"
        case .invalidFilter(let path, let filter, let reason):
            return "capture file '\(path)': invalid filter '\(filter)': \(reason)"
        case .readFailed(let path, let packets, let reason):
            return "capture file '\(path)': read error after \(packets) packets: \(reason)"
        }
    }
}
