// SPDX-License-Identifier: Apache-2.0
import PeregrineCore

/// One worker's connections: a fixed-capacity open-addressing table over slots allocated once.
///
/// Layout (Suricata `flow-hash.c` for the idea, swift-collections `_HashTable` for keeping the
/// bucket words apart from the elements):
/// - `slots`: `capacity` connection records, never moved while in use; a stack of free slot numbers.
/// - `buckets`: a power-of-two array (at least twice `capacity`) of `UInt64` words, each holding the
///   upper 32 bits of the key's hash and `slot + 1` (0 = empty). Linear probing; removal shifts
///   later entries back (no tombstones), so probe chains never degrade.
/// - Expiry lists: every connection sits in exactly one intrusive FIFO list (`ExpiryClass`): the
///   per-protocol inactivity lists, ordered by last activity (a touched connection moves to the
///   tail), and the closing list, ordered by the time the connection closed. Because each list
///   has one delay, its head always holds the earliest deadline: expiry looks at a few heads.
///
/// When every slot is in use, inserting evicts the connection that has been idle longest (the
/// oldest head of the inactivity lists) and counts it, so a flood of new flows can never make the
/// table grow or fail. No locks: a table belongs to one worker thread (architecture.md, rule 2).
public final class FlowTable {
    /// Which expiry list a connection is on.
    public enum ExpiryClass: Int, CaseIterable, Sendable {
        /// `dns`: UDP connections under the DNS analyzer, whose expiry is the analyzer's own timer
        /// (Zeek's `dns_session_timeout`), armed at creation and re-armed by the engine rather than
        /// by activity.
        case tcp = 0, udp, icmp, other, dns, closing
    }

    /// How many connections fit.
    public let capacity: Int
    /// Memory one connection of capacity costs: its slot, key, hash, list links, list time and
    /// free-list entry, and at least two hash buckets (the bucket array is the power of two at
    /// least twice the capacity).
    public static let bytesPerConnection = MemoryLayout<Connection>.stride + MemoryLayout<FlowKey>.stride
        + MemoryLayout<UInt64>.stride * 3 + MemoryLayout<UInt32>.stride * 3 + MemoryLayout<UInt8>.stride
        + MemoryLayout<Int64>.stride
    @usableFromInline let bucketMask: Int
    @usableFromInline let seed: UInt64
    @usableFromInline let buckets: UnsafeMutablePointer<UInt64>
    @usableFromInline let slots: UnsafeMutablePointer<Connection>
    @usableFromInline let slotKeys: UnsafeMutablePointer<FlowKey>
    @usableFromInline let slotHash: UnsafeMutablePointer<UInt64>
    @usableFromInline let previous: UnsafeMutablePointer<UInt32>
    @usableFromInline let next: UnsafeMutablePointer<UInt32>
    @usableFromInline let listOfSlot: UnsafeMutablePointer<UInt8>
    /// When the slot's list position was set: last activity, or the close time on the closing list.
    @usableFromInline let listTime: UnsafeMutablePointer<Int64>
    @usableFromInline let freeSlots: UnsafeMutablePointer<UInt32>
    @usableFromInline var freeCount: Int
    /// First and last slot of each expiry list (indexed by `ExpiryClass.rawValue`), `none` when empty.
    @usableFromInline let heads: UnsafeMutablePointer<UInt32>
    @usableFromInline let tails: UnsafeMutablePointer<UInt32>

    @usableFromInline var liveCount = 0
    @usableFromInline var insertedCount: UInt64 = 0
    @usableFromInline var evictedCount: UInt64 = 0
    @usableFromInline var highWaterCount = 0

    /// Connections currently in the table.
    public var count: Int { liveCount }
    /// Connections inserted since start (Zeek's stats.log `*_conns` totals come from here).
    public var inserted: UInt64 { insertedCount }
    /// Connections evicted because the table was full (`flows.evicted`).
    public var evicted: UInt64 { evictedCount }
    /// Highest `count` seen.
    public var highWater: Int { highWaterCount }

    @usableFromInline static let none: UInt32 = .max
    /// Number of expiry lists (`ExpiryClass` cases), as a constant for the loops over them.
    @usableFromInline static let listCount = ExpiryClass.closing.rawValue + 1

    /// Allocates every structure once.
    /// - Parameters:
    ///   - capacity: the most connections held at once (at least 1).
    ///   - seed: the hash seed (random in production, fixed in tests).
    public init(capacity: Int, seed: UInt64) {
        precondition(capacity >= 1 && capacity < Int(UInt32.max - 1), "flow table capacity out of range")
        self.capacity = capacity
        var bucketCount = 16
        while bucketCount < capacity * 2 { bucketCount <<= 1 }
        bucketMask = bucketCount - 1
        self.seed = seed
        buckets = .allocate(capacity: bucketCount)
        buckets.initialize(repeating: 0, count: bucketCount)
        slots = .allocate(capacity: capacity)
        slotKeys = .allocate(capacity: capacity)
        slotHash = .allocate(capacity: capacity)
        previous = .allocate(capacity: capacity)
        next = .allocate(capacity: capacity)
        listOfSlot = .allocate(capacity: capacity)
        listTime = .allocate(capacity: capacity)
        freeSlots = .allocate(capacity: capacity)
        for i in 0..<capacity { freeSlots[i] = UInt32(capacity - 1 - i) }
        freeCount = capacity
        heads = .allocate(capacity: ExpiryClass.allCases.count)
        heads.initialize(repeating: Self.none, count: ExpiryClass.allCases.count)
        tails = .allocate(capacity: ExpiryClass.allCases.count)
        tails.initialize(repeating: Self.none, count: ExpiryClass.allCases.count)
    }

    deinit {
        removeAll { _ in }
        buckets.deallocate()
        slots.deallocate()
        slotKeys.deallocate()
        slotHash.deallocate()
        previous.deallocate()
        next.deallocate()
        listOfSlot.deallocate()
        listTime.deallocate()
        freeSlots.deallocate()
        heads.deallocate()
        tails.deallocate()
    }

    /// The hash the table uses for `key`.
    @inlinable
    public func hash(_ key: FlowKey) -> UInt64 { key.hash(seed: seed) }

    /// The slot holding `key`, or `nil`.
    @inlinable
    public func find(_ key: FlowKey, hash: UInt64) -> Int? {
        let tag = hash >> 32
        var b = Int(truncatingIfNeeded: hash) & bucketMask
        while true {
            let word = buckets[b]
            if word == 0 { return nil }
            if word >> 32 == tag {
                let slot = Int(word & 0xFFFF_FFFF) - 1
                if slotKeys[slot] == key { return slot }
            }
            b = (b + 1) & bucketMask
        }
    }

    /// The connection in `slot`, for reading and updating in place.
    @inlinable
    public func connection(at slot: Int) -> UnsafeMutablePointer<Connection> { slots + slot }

    /// Inserts `connection` under `key` (which must not be present) on list `list`, evicting the
    /// longest-idle connection first when the table is full.
    /// - Parameter onEvict: receives the evicted connection before its slot is reused.
    /// - Returns: the new connection's slot.
    @inlinable
    public func insert(
        _ connection: Connection, key: FlowKey, hash: UInt64, list: ExpiryClass, time: Timestamp,
        onEvict: (inout Connection) -> Void
    ) -> Int {
        if freeCount == 0, let victim = longestIdleSlot() {
            onEvict(&slots[victim])
            remove(slot: victim)
            evictedCount &+= 1
        }
        freeCount -= 1
        let slot = Int(freeSlots[freeCount])
        (slots + slot).initialize(to: connection)
        slotKeys[slot] = key
        slotHash[slot] = hash
        var b = Int(truncatingIfNeeded: hash) & bucketMask
        while buckets[b] != 0 { b = (b + 1) & bucketMask }
        buckets[b] = (hash >> 32) << 32 | UInt64(slot + 1)
        append(slot: slot, to: list, time: time)
        liveCount += 1
        insertedCount &+= 1
        if liveCount > highWaterCount { highWaterCount = liveCount }
        return slot
    }

    /// Records activity: moves `slot` to the tail of `list` (unless it is on the closing list,
    /// whose order is fixed by close time).
    @inlinable
    public func touch(slot: Int, list: ExpiryClass, time: Timestamp) {
        let current = Int(listOfSlot[slot])
        if current == ExpiryClass.closing.rawValue { return }
        if current == list.rawValue && tail(current) == UInt32(slot) {
            listTime[slot] = time.nanoseconds
            return
        }
        unlink(slot: slot)
        append(slot: slot, to: list, time: time)
    }

    /// Moves `slot` to the closing list with `time` as its close time (first call wins).
    @inlinable
    public func markClosing(slot: Int, time: Timestamp) {
        if Int(listOfSlot[slot]) == ExpiryClass.closing.rawValue { return }
        unlink(slot: slot)
        append(slot: slot, to: .closing, time: time)
    }

    /// Puts `slot` at the tail of `list` with list time `time`, wherever it was (a connection
    /// whose handshake finished leaves the attempt list, for instance).
    @inlinable
    public func reassign(slot: Int, list: ExpiryClass, time: Timestamp) {
        unlink(slot: slot)
        append(slot: slot, to: list, time: time)
    }

    /// The list `slot` is on.
    @inlinable
    public func list(of slot: Int) -> ExpiryClass { ExpiryClass(rawValue: Int(listOfSlot[slot])) ?? .other }

    /// Removes the connection in `slot` (deinitialising it).
    @inlinable
    public func remove(slot: Int) {
        unlink(slot: slot)
        let hash = slotHash[slot]
        var b = Int(truncatingIfNeeded: hash) & bucketMask
        while Int(buckets[b] & 0xFFFF_FFFF) != slot + 1 { b = (b + 1) & bucketMask }
        // Backward-shift deletion: pull later members of the probe run into the hole.
        var hole = b
        var j = (b + 1) & bucketMask
        while buckets[j] != 0 {
            let home = Int(truncatingIfNeeded: slotHash[Int(buckets[j] & 0xFFFF_FFFF) - 1]) & bucketMask
            // Move j into the hole if its home is not cyclically in (hole, j].
            let distanceHome = (j - home) & bucketMask
            let distanceHole = (j - hole) & bucketMask
            if distanceHome >= distanceHole {
                buckets[hole] = buckets[j]
                hole = j
            }
            j = (j + 1) & bucketMask
        }
        buckets[hole] = 0
        (slots + slot).deinitialize(count: 1)
        freeSlots[freeCount] = UInt32(slot)
        freeCount += 1
        liveCount -= 1
    }

    /// The delay after which a connection on each list expires.
    @frozen
    public struct Timeouts: Sendable {
        /// Inactivity timeouts per protocol, the DNS analyzer's timer period, and the delay before
        /// a closed connection is removed.
        public var tcp, udp, icmp, other, dns, closing: Interval

        public init(tcp: Interval, udp: Interval, icmp: Interval, other: Interval, dns: Interval, closing: Interval) {
            self.tcp = tcp
            self.udp = udp
            self.icmp = icmp
            self.other = other
            self.dns = dns
            self.closing = closing
        }

        @inlinable
        subscript(list: Int) -> Interval {
            switch list {
            case 0: tcp
            case 1: udp
            case 2: icmp
            case 3: other
            case 4: dns
            default: closing
            }
        }
    }

    /// What to do with a connection whose deadline passed.
    public enum ExpiryDecision: Sendable {
        /// Remove it.
        case remove
        /// Keep it, now on `list` with list time `time` (which must be later than the old deadline
        /// minus that list's delay, so the connection is not found again in the same pass).
        case keep(ExpiryClass, Timestamp)
    }

    /// Visits every connection whose deadline has passed: on each list a connection is due when
    /// its list time plus that list's delay is at or before `now`. `body` decides whether it goes.
    /// - Parameter body: receives each due connection before it is removed.
    @inlinable
    public func expire(now: Timestamp, timeouts: Timeouts, _ body: (inout Connection, ExpiryClass) -> ExpiryDecision) {
        for list in 0..<Self.listCount {
            let delay = timeouts[list].nanoseconds
            var guardCount = liveCount
            while guardCount > 0 {
                guardCount -= 1
                let h = head(list)
                if h == Self.none { break }
                let slot = Int(h)
                if listTime[slot] &+ delay > now.nanoseconds { break }
                switch body(&slots[slot], ExpiryClass(rawValue: list) ?? .other) {
                case .remove: remove(slot: slot)
                case .keep(let target, let time): reassign(slot: slot, list: target, time: time)
                }
            }
        }
    }

    /// The earliest time at which `expire` would remove something, or `nil` when empty.
    @inlinable
    public func nextDeadline(timeouts: Timeouts) -> Timestamp? {
        var best: Int64? = nil
        for list in 0..<Self.listCount {
            let h = head(list)
            if h == Self.none { continue }
            let d = listTime[Int(h)] &+ timeouts[list].nanoseconds
            if let b = best, b <= d { continue }
            best = d
        }
        return best.map { Timestamp(nanoseconds: $0) }
    }

    /// Removes every connection, oldest activity first per list (end of input, shutdown).
    public func removeAll(_ body: (inout Connection) -> Void) {
        for list in 0..<Self.listCount {
            while head(list) != Self.none {
                let slot = Int(head(list))
                body(&slots[slot])
                remove(slot: slot)
            }
        }
    }

    // MARK: - Lists

    @inlinable
    func head(_ list: Int) -> UInt32 { heads[list] }

    @inlinable
    func tail(_ list: Int) -> UInt32 { tails[list] }

    @usableFromInline
    func append(slot: Int, to list: ExpiryClass, time: Timestamp) {
        let l = list.rawValue
        let s = UInt32(slot)
        listOfSlot[slot] = UInt8(l)
        listTime[slot] = time.nanoseconds
        next[slot] = Self.none
        previous[slot] = tails[l]
        if tails[l] != Self.none { next[Int(tails[l])] = s } else { heads[l] = s }
        tails[l] = s
    }

    @usableFromInline
    func unlink(slot: Int) {
        let l = Int(listOfSlot[slot])
        let p = previous[slot], n = next[slot]
        if p != Self.none { next[Int(p)] = n } else { heads[l] = n }
        if n != Self.none { previous[Int(n)] = p } else { tails[l] = p }
    }

    /// The slot idle longest: the oldest head among the inactivity lists (closing connections are
    /// about to go anyway, so they go first).
    @usableFromInline
    func longestIdleSlot() -> Int? {
        let closing = ExpiryClass.closing.rawValue
        if heads[closing] != Self.none { return Int(heads[closing]) }
        var best: Int? = nil
        for list in 0..<ExpiryClass.closing.rawValue {
            let h = head(list)
            if h == Self.none { continue }
            if let b = best, listTime[b] <= listTime[Int(h)] { continue }
            best = Int(h)
        }
        return best
    }
}
