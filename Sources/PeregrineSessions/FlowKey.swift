// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// The direction-independent identity of a connection: both endpoints in a canonical order and
/// the transport protocol, as Zeek's default `ConnKey` has it (no VLAN, no encapsulation: the same
/// inner 5-tuple seen through two tunnels is one connection, whose `tunnel_parents` lists both).
///
/// `lowAddress/lowPort` is the smaller endpoint by (address, port); which of the two is the
/// originator is connection state, not part of the key, so both directions find the same entry.
@frozen
public struct FlowKey: Hashable, Sendable {
    public var lowAddress: IPAddress
    public var highAddress: IPAddress
    public var lowPort: UInt16
    public var highPort: UInt16
    /// IP protocol number (6, 17, 1, 58, ...).
    public var transportProtocol: UInt8

    /// Builds the canonical key for a packet from `source` to `destination`.
    @inlinable
    public init(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        transportProtocol: UInt8
    ) {
        if source < destination || (source == destination && sourcePort <= destinationPort) {
            lowAddress = source; lowPort = sourcePort; highAddress = destination; highPort = destinationPort
        } else {
            lowAddress = destination; lowPort = destinationPort; highAddress = source; highPort = sourcePort
        }
        self.transportProtocol = transportProtocol
    }
}

extension FlowKey {
    /// A directional key: the endpoints kept in packet order. Zeek keys one-way ICMP messages
    /// (errors, unsolicited advertisements) this way, so each direction is its own connection.
    @inlinable
    public init(
        directionalSource source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        transportProtocol: UInt8
    ) {
        lowAddress = source
        lowPort = sourcePort
        highAddress = destination
        highPort = destinationPort
        self.transportProtocol = transportProtocol
    }

    /// A 64-bit hash of the key with `seed`, symmetric by construction (the key is canonical).
    ///
    /// Per-worker tables seed it randomly in production and fixedly in tests (style.md §4.9).
    /// The mixing folds 128-bit products of the key's words (the wyhash construction): a few
    /// multiplications, no loops, and every key bit reaches every hash bit.
    @inlinable
    public func hash(seed: UInt64) -> UInt64 {
        @inline(__always) func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let m = a.multipliedFullWidth(by: b)
            return m.high ^ m.low
        }
        let ports = UInt64(lowPort) << 32 | UInt64(highPort) << 16 | UInt64(transportProtocol)
        var h = mix(lowAddress.high ^ 0xA076_1D64_78BD_642F, lowAddress.low ^ seed)
        h = mix(h ^ highAddress.high ^ 0xE703_7ED1_A0B4_28DB, highAddress.low ^ 0x8EBC_6AF0_9C88_C6E3)
        return mix(h ^ ports, 0x5899_65CC_7537_4CC3 ^ seed)
    }
}
