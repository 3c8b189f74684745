// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineDecode
import PeregrinePolicy
import PeregrineSessions

/// The DHCP analyzer's glue: one datagram in; confirmation and the message for dhcp.log's
/// transaction out.
extension Worker {
    func deliverDHCP(_ bytes: UnsafeRawBufferPointer, t: TransportLayer, slot: Int, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        let payload = UnsafeRawBufferPointer(
            rebasing: bytes[t.payloadOffset..<(t.payloadOffset + t.capturedPayloadLength)])
        switch DHCPAnalyzer.deliver(payload, state: &c.pointee.analyzerSlot) {
        case .message(let message):
            c.pointee.services.insert(ServiceID.dhcp.rawValue)
            dhcpLog.message(message, isOriginator: isOriginator, connection: c.pointee, now: now, logs: &logs)
        case .violation, .ignored:
            break
        }
    }
}
