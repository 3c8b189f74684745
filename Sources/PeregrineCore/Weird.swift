// SPDX-License-Identifier: Apache-2.0

/// A named protocol or decoding anomaly, written to weird.log with Zeek's spelling.
///
/// Each module declares the weirds it raises as static members in its own `Weirds.swift`
/// (`extension Weird { static let truncatedVLANHeader = Weird("truncated_VLAN_header", source: "VLAN") }`),
/// so every wire name is a literal declared once (style.md §3). A `Weird` is two static strings:
/// raising one costs nothing on the packet path.
@frozen
public struct Weird: Sendable {
    /// Zeek's name for the anomaly (`truncated_IP`, `bad_TCP_checksum`, ...).
    public let name: StaticString
    /// The layer or analyzer that raised it (`IP`, `TCP`, `VLAN`, ...): weird.log's `source`.
    public let source: StaticString

    @inlinable
    public init(_ name: StaticString, source: StaticString) {
        self.name = name
        self.source = source
    }

    /// The name as a `String` (for logging and rate-limit keys).
    public var nameString: String { name.description }
    /// The source as a `String`.
    public var sourceString: String { source.description }
}
