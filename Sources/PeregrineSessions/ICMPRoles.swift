// SPDX-License-Identifier: Apache-2.0

/// How Zeek turns an ICMP message into connection "ports".
///
/// Zeek (`src/packet_analysis/protocol/icmp/ICMP.cc`, `InitConnKey`) keys ICMP connections by
/// (source, type) and (destination, counterpart): request/reply pairs share a connection because
/// the reply's type is the request's counterpart and vice versa, so the canonical key matches.
/// Messages without a counterpart are "one way": their responder "port" is the ICMP code and their
/// key keeps packet order, so each direction is its own connection (conn.log shows `3  3` for a
/// port-unreachable, `143  0` for an MLDv2 report).
public enum ICMPRoles {
    /// The responder port for an ICMPv4 message and whether it is one way.
    /// Pairs: echo 8/0, timestamp 13/14, information 15/16, router solicitation 10 / advertisement 9,
    /// address mask 17/18.
    @inlinable
    public static func counterpartV4(type: UInt8, code: UInt8) -> (port: UInt16, oneWay: Bool) {
        switch type {
        case 8: (0, false)
        case 0: (8, false)
        case 13: (14, false)
        case 14: (13, false)
        case 15: (16, false)
        case 16: (15, false)
        case 10: (9, false)
        case 9: (10, false)
        case 17: (18, false)
        case 18: (17, false)
        default: (UInt16(code), true)
        }
    }

    /// The responder port for an ICMPv6 message and whether it is one way.
    /// Pairs: echo 128/129, MLD query 130 / report 131, router solicitation 133 / advertisement 134,
    /// neighbor solicitation 135 / advertisement 136, node information query 139 / response 140.
    @inlinable
    public static func counterpartV6(type: UInt8, code: UInt8) -> (port: UInt16, oneWay: Bool) {
        switch type {
        case 128: (129, false)
        case 129: (128, false)
        case 130: (131, false)
        case 131: (130, false)
        case 133: (134, false)
        case 134: (133, false)
        case 135: (136, false)
        case 136: (135, false)
        case 139: (140, false)
        case 140: (139, false)
        default: (UInt16(code), true)
        }
    }
}
