// SPDX-License-Identifier: Apache-2.0

/// Zeek's DHCP analyzer (`src/analyzer/protocol/dhcp/`) for one datagram at a time, on UDP ports
/// 67, 68 and 4011.
///
/// Its per-connection state is one bit in the connection's `analyzerSlot` word: a violation turned
/// the analyzer off (a bad cookie, a cut message, or a message without option 53, which Zeek still
/// hands on before the violation takes effect).
public enum DHCPAnalyzer {
    /// `analyzerSlot` bit: the analyzer is off for the connection.
    public static let disabledBit: UInt32 = 1

    /// What one datagram did.
    public enum Delivery: Equatable, Sendable {
        /// A message: Zeek confirms the protocol on every one it hands to `dhcp_message`.
        case message(DHCPMessage)
        /// Not a DHCP message Zeek would report; the analyzer is now off.
        case violation(DHCPParser.Failure)
        /// The analyzer was already off.
        case ignored
    }

    /// Parses one UDP payload of a connection whose DHCP state word is `state`, updating it.
    public static func deliver(_ payload: UnsafeRawBufferPointer, state: inout UInt32) -> Delivery {
        guard state & disabledBit == 0 else { return .ignored }
        switch DHCPParser.parse(payload) {
        case .success(let m):
            if m.messageType == 0 { state |= disabledBit }
            return .message(m)
        case .failure(let f):
            state |= disabledBit
            return .violation(f)
        }
    }
}
