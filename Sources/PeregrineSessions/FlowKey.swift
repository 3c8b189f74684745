// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// The direction-independent identity of a connection: both endpoints in a canonical order,
/// the transport protocol, and the VLAN tags (Zeek keys connections by VLAN too).
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
    public var vlan: UInt16
    public var innerVlan: UInt16
    /// Identifies the encapsulation a tunnelled flow arrived in (0 for none), so the same inner
    /// 5-tuple in two tunnels stays two connections.
    public var tunnelTag: UInt32

    /// Builds the key for a packet from `source` to `destination` and says whether the packet's
    /// source is the key's low endpoint.
    @inlinable
    public init(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        transportProtocol: UInt8, vlan: UInt16 = 0, innerVlan: UInt16 = 0, tunnelTag: UInt32 = 0
    ) {
        if source < destination || (source == destination && sourcePort <= destinationPort) {
            lowAddress = source; lowPort = sourcePort; highAddress = destination; highPort = destinationPort
        } else {
            lowAddress = destination; lowPort = destinationPort; highAddress = source; highPort = sourcePort
        }
        self.transportProtocol = transportProtocol
        self.vlan = vlan
        self.innerVlan = innerVlan
        self.tunnelTag = tunnelTag
    }
}
