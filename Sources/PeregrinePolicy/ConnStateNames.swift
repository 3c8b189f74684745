// SPDX-License-Identifier: Apache-2.0

/// Zeek's `proto` enum values for conn.log and the other connection logs.
public enum TransportName {
    /// `tcp`, `udp`, `icmp` (ICMPv6 too) or `unknown_transport`, from the IP protocol number.
    public static func name(ipProtocol: UInt8) -> StaticString {
        switch ipProtocol {
        case 6: "tcp"
        case 17: "udp"
        case 1, 58: "icmp"
        default: "unknown_transport"
        }
    }
}
