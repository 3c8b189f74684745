// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// Connections an analyzer announced before they start: Zeek's `Analyzer::schedule_analyzer`
/// (`analyzer::Manager::ScheduleAnalyzer`), used by FTP for the data connection a `PORT`,
/// `EPRT`, `PASV` or `EPSV` exchange sets up.
///
/// A new TCP connection whose originator, responder and responder port match an entry that has
/// not expired gets the entry's analyzer instead of the one its port would pick. As in Zeek
/// (`Manager::GetScheduled`), a match does not use the entry up: it serves every matching
/// connection until it expires. The table is a fixed array scanned linearly: it holds only announcements of the
/// last few minutes, and the scan runs once per new TCP connection, not per packet. When it is
/// full the entry closest to expiry makes room, counted in ``evicted``.
public struct ExpectedConnections: Sendable {
    /// Entries held at once per worker: 1,024 pending data channels is far above what an FTP
    /// server opens per worker within ``lifetime``.
    public static let capacity = 1024
    /// How long an announcement waits for its connection: the `5mins` FTP's `main.zeek` passes
    /// to `Analyzer::schedule_analyzer`.
    public static let lifetime = Interval.seconds(300)

    struct Entry: Sendable {
        var originator: IPAddress
        var responder: IPAddress
        var responderPort: UInt16
        var kind: AnalyzerKind
        var expires: Timestamp
    }

    var entries: [Entry] = []
    /// Announcements dropped to make room.
    public private(set) var evicted: UInt64 = 0
    /// New connections that matched an announcement.
    public private(set) var matched: UInt64 = 0

    public init() {
        entries.reserveCapacity(Self.capacity)
    }

    /// Announced entries not yet used (some may have expired).
    public var count: Int { entries.count }

    /// Announces that `originator` will open a TCP connection to `responder`:`responderPort`,
    /// to be analysed by `kind`. A repeated announcement replaces the earlier one.
    public mutating func expect(
        originator: IPAddress, responder: IPAddress, responderPort: UInt16, kind: AnalyzerKind, now: Timestamp
    ) {
        let entry = Entry(
            originator: originator, responder: responder, responderPort: responderPort, kind: kind,
            expires: now.adding(Self.lifetime))
        if let i = index(originator: originator, responder: responder, responderPort: responderPort) {
            entries[i] = entry
            return
        }
        entries.removeAll { $0.expires <= now }
        if entries.count >= Self.capacity {
            var oldest = 0
            for i in 1..<entries.count where entries[i].expires < entries[oldest].expires { oldest = i }
            entries.remove(at: oldest)
            evicted &+= 1
        }
        entries.append(entry)
    }

    /// The analyzer announced for a new connection, if an unexpired entry matches.
    public mutating func analyzer(
        originator: IPAddress, responder: IPAddress, responderPort: UInt16, now: Timestamp
    ) -> AnalyzerKind? {
        guard !entries.isEmpty,
            let i = index(originator: originator, responder: responder, responderPort: responderPort),
            entries[i].expires > now
        else { return nil }
        matched &+= 1
        return entries[i].kind
    }

    func index(originator: IPAddress, responder: IPAddress, responderPort: UInt16) -> Int? {
        entries.firstIndex {
            $0.responderPort == responderPort && $0.responder == responder && $0.originator == originator
        }
    }
}
