// SPDX-License-Identifier: Apache-2.0
import PeregrineAnalyzers
import PeregrineCapture
import PeregrineCore
import PeregrineDecode
import PeregrinePolicy
import PeregrineSessions

/// A worker's shunting: the policy (``ShuntPolicy``), the kernel table, and what it needs to give
/// each shunted connection its kernel counts back.
///
/// Everything here runs per connection (the shunt decision, the end of a shunt, an expiry check), never
/// per packet: on the packet path the worker only reads `Connection.shunt` and, with shunting on,
/// compares a connection's bytes with the threshold.
final class WorkerShunting {
    let table: ShuntTable
    let encrypted: Bool
    /// The byte threshold, `UInt64.max` when off (so the per-packet comparison needs no second test).
    let bytes: UInt64

    /// What a shunted connection needs when it ends: its kernel key, where its TCP sequence space
    /// stood, the kernel's packet count at the last expiry check, and the history letters already
    /// added for the kernel's retransmissions and zero windows (at a FIN or RST, before the end).
    struct Entry {
        var key: ShuntTable.Key
        var mark: TCPShuntMark
        var packetsSeen: UInt64
        var historyAdded = ShuntTable.Counts()
    }

    /// The shunted connections of this worker, by uid (at most ``ShuntTable/capacity``: the kernel
    /// refuses more).
    var entries: [ConnectionUID: Entry] = [:]

    /// Counters: connections shunted, refused (tunnelled, not established, or the table said no),
    /// ended (counts taken back), packets and IP bytes the kernel dropped and the worker restored, and
    /// entries that were gone when taken back (their counts are lost).
    var summary = ShuntSummary()

    init(table: ShuntTable, policy: ShuntPolicy) {
        self.table = table
        encrypted = policy.encrypted
        bytes = policy.bytes == 0 ? UInt64.max : policy.bytes
    }
}

/// What shunting did in a run (summed over the workers for ``LiveRun/Summary``).
public struct ShuntSummary: Sendable, Equatable {
    /// Connections handed to the kernel.
    public var shunted: UInt64 = 0
    /// Connections the policy chose that could not be shunted.
    public var refused: UInt64 = 0
    /// Shunts ended (connection removed, or a SYN came through) with the counts taken back.
    public var ended: UInt64 = 0
    /// Packets and IP bytes the kernel dropped for them and the workers added back into conn.log.
    public var packets: UInt64 = 0
    public var ipBytes: UInt64 = 0
    /// Entries missing when taken back (deleted behind the worker's back): their counts are lost.
    public var lost: UInt64 = 0

    public init() {}

    public static func + (a: ShuntSummary, b: ShuntSummary) -> ShuntSummary {
        var s = a
        s.shunted &+= b.shunted
        s.refused &+= b.refused
        s.ended &+= b.ended
        s.packets &+= b.packets
        s.ipBytes &+= b.ipBytes
        s.lost &+= b.lost
        return s
    }
}

extension Worker {
    /// Turns shunting on with `table` (the XDP program's, shared by every worker) when the
    /// configuration asks for it.
    func enableShunting(table: ShuntTable?) {
        guard config.shunt.enabled, let table else { return }
        shunting = WorkerShunting(table: table, policy: config.shunt)
    }

    /// A packet of a connection whose `shunt` is not `.none` reached the worker. The XDP program
    /// passes TCP segments with SYN, FIN or RST:
    /// - a SYN ends the shunt (a new connection on the 5-tuple, or a strange one: the worker sees
    ///   the rest);
    /// - before a FIN or RST the worker brings its sequence space and history up to what the kernel
    ///   saw (a read, the entry stays), so the state machine handles the segment as if it had seen
    ///   everything. The entry stays until the connection is removed: its last packets (the ACK of
    ///   the FIN) are dropped and counted like the others, and the counts are taken when nothing is
    ///   in flight any more (taking an entry while the kernel still counts into it can lose a packet
    ///   that another CPU counted between the read and the delete).
    /// Packets that were already on their way when the connection was shunted arrive here too and
    /// are simply processed.
    @inline(never)
    func shuntedPacket(_ c: UnsafeMutablePointer<Connection>, flags: TCPFlags) {
        guard c.pointee.shunt == .active, c.pointee.transportProtocol == 6 else { return }
        if flags.contains(.syn) {
            endShunt(&c.pointee)
        } else if !flags.intersection([.fin, .rst]).isEmpty {
            catchUpShunt(&c.pointee)
        }
    }

    /// Applies what the kernel saw so far of a shunted TCP connection to its state (sequence space,
    /// `T` and `W` letters), leaving the entry and the packet counts in the kernel.
    func catchUpShunt(_ c: inout Connection) {
        guard let s = shunting, var entry = s.entries[c.uid], let counts = s.table.peek(entry.key) else { return }
        Self.catchUp(counts, entry: &entry, connection: &c)
        s.entries[c.uid] = entry
    }

    /// The TCP part of the kernel's counts: sequence space up to what it saw (idempotent: positions
    /// only move forward from the same mark), history letters for the counts not yet added.
    static func catchUp(_ counts: ShuntTable.Counts, entry: inout WorkerShunting.Entry, connection c: inout Connection) {
        guard c.transportProtocol == 6 else { return }
        c.tcp.endShunt(
            mark: entry.mark, originatorSequence: counts.originator.sequenceAdvance,
            originatorAcknowledged: counts.responder.acknowledgementAdvance,
            responderSequence: counts.responder.sequenceAdvance,
            responderAcknowledged: counts.originator.acknowledgementAdvance)
        let added = entry.historyAdded
        c.tcp.addShuntedHistory(
            originatorRetransmissions: counts.originator.retransmissions &- added.originator.retransmissions,
            responderRetransmissions: counts.responder.retransmissions &- added.responder.retransmissions,
            originatorZeroWindows: counts.originator.zeroWindows &- added.originator.zeroWindows,
            responderZeroWindows: counts.responder.zeroWindows &- added.responder.zeroWindows, history: &c.history)
        entry.historyAdded = counts
    }

    /// The policy's decision, after a packet of a connection that is not shunted: shunts it when
    /// its handshake is over (TLS established, SSH authenticated) or it passed the byte threshold,
    /// and it can be shunted. Called per packet only with shunting on.
    @inline(never)
    func considerShunt(_ c: UnsafeMutablePointer<Connection>) {
        guard let s = shunting, c.pointee.shunt == .none else { return }
        let overThreshold = c.pointee.originatorIPBytes &+ c.pointee.responderIPBytes >= s.bytes
        guard overThreshold || (s.encrypted && handshakeOver(c.pointee)) else { return }
        let proto = c.pointee.transportProtocol
        // The XDP program keys on the outermost IP header; TCP must be past its handshake and not closing.
        guard proto == 6 || proto == 17, c.pointee.tunnelParents.isEmpty,
            proto == 17
                || (c.pointee.tcp.originator.state == .established && c.pointee.tcp.responder.state == .established)
        else {
            c.pointee.shunt = .refused
            s.summary.refused &+= 1
            return
        }
        let key = ShuntTable.Key(
            originator: c.pointee.originator, originatorPort: c.pointee.originatorPort, responder: c.pointee.responder,
            responderPort: c.pointee.responderPort, transportProtocol: proto)
        var mark = TCPShuntMark()
        var start = ShuntTable.Start()
        if proto == 6 {
            mark = c.pointee.tcp.shuntMark
            // Each side's highest sequence number, and the highest ACK it sent (its peer's `acked`).
            start.originatorSequence = UInt32(truncatingIfNeeded: mark.originatorLast)
            start.originatorAcknowledgement = UInt32(truncatingIfNeeded: mark.responderAcked)
            start.responderSequence = UInt32(truncatingIfNeeded: mark.responderLast)
            start.responderAcknowledgement = UInt32(truncatingIfNeeded: mark.originatorAcked)
        }
        guard s.table.add(key, start: start) == .added else {
            c.pointee.shunt = .refused
            s.summary.refused &+= 1
            return
        }
        c.pointee.shunt = .active
        if proto == 6 { c.pointee.tcp.beginShunt() }
        s.entries[c.pointee.uid] = WorkerShunting.Entry(key: key, mark: mark, packetsSeen: 0)
        s.summary.shunted &+= 1
    }

    /// Whether the connection's analyzer is done with it: TLS raised `ssl_established` (both sides
    /// encrypted; Zeek's SSL analyzer stops there), or SSH has an authentication outcome (which
    /// Zeek infers from encrypted packet sizes after NEWKEYS; shunting at NEWKEYS itself would leave
    /// ssh.log's `auth_success` and `auth_attempts` unset) or its analyzer was turned off.
    func handshakeOver(_ c: Connection) -> Bool {
        guard c.analyzerSlot != 0 else { return false }
        switch AnalyzerKind(rawValue: c.analyzer) {
        case .ssl: return ssl.isEstablished(c.analyzerSlot)
        case .ssh:
            return c.services.contains(ServiceID.ssh.rawValue)
                && (ssh.isDisabled(c.analyzerSlot) || sshLog.authenticationDecided(slot: c.analyzerSlot))
        default: return false
        }
    }

    /// Ends a connection's shunt: takes its entry out of the kernel table and adds what the kernel
    /// counted into the connection (packets, IP bytes, UDP payload bytes, TCP sequence space).
    func endShunt(_ c: inout Connection) {
        c.shunt = .ended
        guard let s = shunting, var entry = s.entries.removeValue(forKey: c.uid) else { return }
        s.summary.ended &+= 1
        guard let counts = s.table.take(entry.key) else {
            s.summary.lost &+= 1
            return
        }
        Self.add(counts, entry: &entry, to: &c)
        s.summary.packets &+= counts.packets
        s.summary.ipBytes &+= counts.originator.ipBytes &+ counts.responder.ipBytes
    }

    /// Adds a shunted connection's kernel counts into it.
    static func add(_ counts: ShuntTable.Counts, entry: inout WorkerShunting.Entry, to c: inout Connection) {
        c.originatorPackets &+= counts.originator.packets
        c.originatorIPBytes &+= counts.originator.ipBytes
        c.responderPackets &+= counts.responder.packets
        c.responderIPBytes &+= counts.responder.ipBytes
        switch c.transportProtocol {
        case 6:
            catchUp(counts, entry: &entry, connection: &c)
        case 17:
            if counts.originator.packets > 0 {
                c.udp.requestLength = max(c.udp.requestLength, 0) &+ Int64(counts.originator.payloadBytes)
            }
            if counts.responder.packets > 0 {
                c.udp.replyLength = max(c.udp.replyLength, 0) &+ Int64(counts.responder.payloadBytes)
            }
        default:
            break
        }
    }

    /// At an expiry pass, for a shunted connection whose inactivity timer ran out: the worker sees
    /// none of its packets, so the kernel's count says whether it is still alive. When the count grew
    /// since the last look, the connection's last time moves to now and it stays.
    func shuntKeepsAlive(_ c: inout Connection) -> Bool {
        guard let s = shunting, var entry = s.entries[c.uid], let counts = s.table.peek(entry.key) else { return false }
        guard counts.packets > entry.packetsSeen else { return false }
        entry.packetsSeen = counts.packets
        s.entries[c.uid] = entry
        c.lastTime = now
        return true
    }
}
