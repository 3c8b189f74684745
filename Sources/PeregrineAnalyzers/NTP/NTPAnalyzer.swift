// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Zeek's NTP analyzer (`src/analyzer/protocol/ntp/ntp-analyzer.pac`) for one datagram at a time.
///
/// Its per-connection state is two bits, kept in the connection's `analyzerSlot` word instead
/// of a pool: whether the roles were already swapped once, and whether a violation turned the
/// analyzer off.
public enum NTPAnalyzer {
    /// `analyzerSlot` bit: the analyzer already swapped the connection's roles (Zeek's `flipped_`).
    public static let flippedBit: UInt32 = 1
    /// `analyzerSlot` bit: a datagram failed to parse; the analyzer is off for the connection.
    public static let disabledBit: UInt32 = 2

    /// What one datagram did.
    public enum Delivery: Equatable, Sendable {
        /// Parsed: every NTP message confirms the protocol. `flipRoles` asks the engine to swap the
        /// connection's roles before the message event is handled: a server-mode message from the
        /// originator or a client-mode message from the responder, the first time only.
        case message(NTPMessage, flipRoles: Bool)
        /// Zeek's parser would throw: an analyzer violation; the analyzer is now off.
        case violation
        /// The analyzer was already off.
        case ignored
    }

    /// Parses one UDP payload of a connection whose NTP state word is `state`, updating it.
    public static func deliver(_ payload: UnsafeRawBufferPointer, isOriginator: Bool, state: inout UInt32) -> Delivery {
        guard state & disabledBit == 0 else { return .ignored }
        guard let m = NTPParser.parse(payload) else {
            state |= disabledBit
            return .violation
        }
        let wrongWay = (m.mode == NTPMessage.serverMode && isOriginator)
            || (m.mode == NTPMessage.clientMode && !isOriginator)
        let flip = wrongWay && state & flippedBit == 0
        if flip { state |= flippedBit }
        return .message(m, flipRoles: flip)
    }
}
