// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import PeregrineCore
import PeregrinePolicy
import Synchronization

/// One worker's mailbox for report requests from the live run's manager thread.
///
/// The manager ORs what is due into a bit set and stores the wall-clock time of the request; the
/// worker takes the bits when a ring poll returns (after each block, or at least every
/// `LiveRun.pollMilliseconds` while idle) and writes its own lines into its own log ring. Only
/// these two words are shared, never the worker's counters. A request the worker has not taken
/// yet is merged with the next one: the worker's lines then cover the longer interval, and the
/// capture-loss interval is measured by the worker from its own last measurement.
final class ReportRequests: Sendable {
    /// Write a stats.log line.
    static let stats: UInt8 = 1
    /// Start counting ACKs and gaps (capture-loss's first event).
    static let startLoss: UInt8 = 2
    /// Write a capture_loss.log line.
    static let loss: UInt8 = 4

    /// Take the local networks of a reloaded configuration (``post(localNetworks:)``).
    static let settings: UInt8 = 8

    private let pending = Atomic<UInt8>(0)
    private let time = Atomic<Int64>(0)
    private let localNetworks = Mutex<LocalNetworks?>(nil)

    init() {}

    /// Posts what `due` asks for, at wall-clock time `time`; nothing when nothing is due.
    func post(_ due: ReportSchedule.Due, at time: Timestamp) {
        var bits: UInt8 = 0
        if due.stats { bits |= Self.stats }
        if due.startLoss { bits |= Self.startLoss }
        if due.lossDelta != nil { bits |= Self.loss }
        guard bits != 0 else { return }
        self.time.store(time.nanoseconds, ordering: .relaxed)
        pending.bitwiseOr(bits, ordering: .releasing)
    }

    /// Posts the local networks of a reloaded configuration (SIGHUP), for the worker's next logs.
    func post(localNetworks: LocalNetworks) {
        self.localNetworks.withLock { $0 = localNetworks }
        pending.bitwiseOr(Self.settings, ordering: .releasing)
    }

    /// The local networks posted and not taken yet.
    func takeLocalNetworks() -> LocalNetworks? {
        localNetworks.withLock { posted in
            defer { posted = nil }
            return posted
        }
    }

    /// The requests posted since the last call and the time of the latest, or `nil` when none is
    /// pending (one relaxed load: cheap enough for every ring block).
    func take() -> (bits: UInt8, time: Timestamp)? {
        guard pending.load(ordering: .relaxed) != 0 else { return nil }
        let bits = pending.exchange(0, ordering: .acquiring)
        return (bits, Timestamp(nanoseconds: time.load(ordering: .relaxed)))
    }
}

/// The live run's manager thread (architecture.md): keeps stats.log's and capture_loss.log's
/// schedule on the wall clock and, whenever something is due, asks every worker for its lines.
///
/// Offline both reports run on network time inside each worker (``ReportSchedule``, driven by the
/// packets); live they must appear on time even when no packet arrives, as Zeek's do (its network
/// time follows the wall clock while live input is idle). Every worker's lines of one interval
/// carry the same timestamp.
enum ReportManager {
    /// How long the manager sleeps at most before checking the stop flag again.
    static let stopCheckNanoseconds: Int64 = 100_000_000

    /// Runs until `stop` is set: posts what `schedule` finds due to every mailbox, starting with
    /// the run's first moment (stats.log's first line, capture-loss's start), as Zeek's timers
    /// scheduled at `zeek_init` fire at once.
    static func run(schedule: ReportSchedule, mailboxes: [ReportRequests], stop: StopFlag) {
        var schedule = schedule
        while !stop.isSet {
            let now = Worker.wallClock()
            if now >= schedule.nextDue {
                let due = schedule.due(at: now)
                for mailbox in mailboxes { mailbox.post(due, at: now) }
            }
            let wait = min(max(schedule.nextDue.since(Worker.wallClock()).nanoseconds, 0), stopCheckNanoseconds)
            var request = timespec(tv_sec: 0, tv_nsec: Int(wait))
            _ = nanosleep(&request, nil)
        }
    }
}
