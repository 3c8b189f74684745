// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCore
import PeregrineDecode
import PeregrinePolicy
import PeregrineSessions

/// The DNS analyzer's glue: UDP datagrams and TCP stream chunks in, role swaps, confirmation,
/// violation and dns.log events out.
extension Worker {
    /// Hands a UDP payload to the connection's DNS analyzer, applies what it reports (role swap,
    /// confirmation, violation) and passes the message event to dns.log's policy.
    func deliverDNS(_ bytes: UnsafeRawBufferPointer, t: TransportLayer, slot: Int, isOriginator: inout Bool) {
        let c = flows.connection(at: slot)
        let payload = UnsafeRawBufferPointer(
            rebasing: bytes[t.payloadOffset..<(t.payloadOffset + t.capturedPayloadLength)])
        let responder = c.pointee.responder
        let multicast = responder.isIPv4 ? responder.ipv4Value >> 28 == 0xE : responder.high >> 56 == 0xFF
        let d = dns.deliver(
            c.pointee.analyzerSlot, payload: payload, isOriginator: isOriginator, responderIsMulticast: multicast,
            netBIOS: c.pointee.responderPort == 137, summarize: true, message: &dnsMessage, weirds: &weirds)
        if d.flipRoles {
            c.pointee.flipRoles()
            c.pointee.udp.flipRoles(history: &c.pointee.history)
            isOriginator.toggle()
        }
        if d.confirmed { c.pointee.services.insert(ServiceID.dns.rawValue) }
        if let w = d.violation {
            analyzerViolation(.dns, reason: w.name, data: nil, c)
            flows.reassign(slot: slot, list: .udp, time: now)
        }
        if d.hasMessage { dnsLog.message(dnsMessage, slot: c.pointee.analyzerSlot, connection: c.pointee, now: now, logs: &logs) }
    }

    /// A chunk of a DNS-over-TCP stream: complete messages go through the analyzer as over UDP.
    /// A role swap the first message asks for waits until reassembly returns (`pendingStreamFlip`).
    func deliverDNSStream(slot: Int, data: UnsafeRawBufferPointer, isOriginator: Bool) {
        let analyzerSlot = flows.connection(at: slot).pointee.analyzerSlot
        guard !dns.isDisabled(analyzerSlot) else { return }
        dnsFramer.deliver(analyzerSlot, data: data, isOriginator: isOriginator) { message in
            let c = flows.connection(at: slot)
            let d = dns.deliver(
                analyzerSlot, payload: message, isOriginator: isOriginator, responderIsMulticast: false,
                netBIOS: false, summarize: true, message: &dnsMessage, weirds: &weirds)
            if d.flipRoles { pendingStreamFlip = true }
            if d.confirmed { c.pointee.services.insert(ServiceID.dns.rawValue) }
            if let w = d.violation { analyzerViolation(.dns, reason: w.name, data: nil, c) }
            if d.hasMessage {
                dnsLog.message(dnsMessage, slot: analyzerSlot, connection: c.pointee, now: now, logs: &logs)
            }
        }
    }

    /// A content gap in a DNS-over-TCP stream: that direction's framing is lost.
    func gapDNSStream(slot: Int, isOriginator: Bool) {
        dnsFramer.gap(flows.connection(at: slot).pointee.analyzerSlot, isOriginator: isOriginator)
    }
}
