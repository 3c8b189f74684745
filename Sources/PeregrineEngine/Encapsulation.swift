// SPDX-License-Identifier: Apache-2.0
import PeregrineCore
import PeregrineDecode

/// The tunnels a packet arrived through, outermost first (Zeek's `EncapsulationStack`), carried
/// by value down the decapsulation recursion: at most `Tunnel.maxDepth` entries, inline.
struct Encapsulation {
    struct Entry {
        var uid: ConnectionUID
        var kind: TunnelKind
        var originator: IPAddress
        var responder: IPAddress
        var originatorPort: UInt16
        var responderPort: UInt16
        /// The flow-table slot of the outer connection when the tunnel is itself a connection (UDP
        /// tunnels, which get a CLOSE line); `nil` for IP-in-IP and GRE. Valid while the packet that
        /// carries this stack is processed.
        var connectionSlot: Int?
    }

    var entries: (Entry?, Entry?, Entry?, Entry?) = (nil, nil, nil, nil)
    var depth = 0

    static let none = Encapsulation()

    /// The stack with `entry` pushed (callers check `depth < Tunnel.maxDepth` first).
    func pushing(_ entry: Entry) -> Encapsulation {
        var e = self
        switch depth {
        case 0: e.entries.0 = entry
        case 1: e.entries.1 = entry
        case 2: e.entries.2 = entry
        default: e.entries.3 = entry
        }
        e.depth += 1
        return e
    }

    subscript(index: Int) -> Entry? {
        switch index {
        case 0: entries.0
        case 1: entries.1
        case 2: entries.2
        case 3: entries.3
        default: nil
        }
    }

    /// The innermost tunnel, if any.
    var innermost: Entry? { depth > 0 ? self[depth - 1] : nil }
}
