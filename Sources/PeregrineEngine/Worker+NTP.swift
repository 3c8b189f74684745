// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineDecode
import PeregrinePolicy
import PeregrineSessions

/// The NTP analyzer's glue: one datagram in; role swap, confirmation, violation and the ntp.log
/// line out.
extension Worker {
    /// Hands a UDP payload to NTP. Called after the datagram's history letter and payload length
    /// were recorded and before its packet and IP-byte counts are: a swap the message asks for
    /// (`Connection::FlipRoles`) moves everything counted so far, and the datagram itself is then
    /// counted with the direction it arrived in, which is what Zeek's conn.log shows for a
    /// connection whose first datagram was a server reply (`ntp-misordered`: `D^`, both
    /// datagrams on the originator's side). The history keeps its letters and gains `^`.
    func deliverNTP(_ bytes: UnsafeRawBufferPointer, t: TransportLayer, slot: Int, isOriginator: Bool) {
        let c = flows.connection(at: slot)
        let payload = UnsafeRawBufferPointer(
            rebasing: bytes[t.payloadOffset..<(t.payloadOffset + t.capturedPayloadLength)])
        switch NTPAnalyzer.deliver(payload, isOriginator: isOriginator, state: &c.pointee.analyzerSlot) {
        case .message(let message, let flip):
            if flip {
                c.pointee.flipRoles()
                c.pointee.udp.flipRoles(history: &c.pointee.history)
            }
            c.pointee.services.insert(ServiceID.ntp.rawValue)
            ntpLog.message(message, connection: c.pointee, now: now, logs: &logs)
        case .violation, .ignored:
            break
        }
    }
}
