// SPDX-License-Identifier: Apache-2.0
#if canImport(Glibc)
import Glibc
#endif
import PeregrineCapture

/// Shunting under AF_PACKET capture: the XDP program (`bpf/peregrine_xdp.bpf.c`) with only its shunt
/// table on, attached to every capture interface. It has no AF_XDP socket, so every frame it does
/// not drop goes on to the kernel stack (its `no_socket` counter), where the fanout rings see it as
/// before; the frames of shunted flows never get that far.
///
/// Under AF_XDP capture the AF_XDP group loads the program itself; it passes `shunt: true` to
/// ``XDPProgram/init(directory:seed:socketCount:redirect:shunt:)`` and gives the workers its
/// ``XDPProgram/shuntTable``.
extension LiveRun {
    /// The program and its attachments, alive for the whole run (released, the links detach it).
    final class ShuntAttachment {
        let program: XDPProgram
        let links: [XDPLink]
        /// How each interface got it: native (driver) mode, or generic where the driver has no XDP.
        let modes: [XDPProgram.AttachMode]

        init(program: XDPProgram, links: [XDPLink], modes: [XDPProgram.AttachMode]) {
            self.program = program
            self.links = links
            self.modes = modes
        }

    }

    /// The run's shunting figures: the workers' and those of the program holding the shunt table
    /// (AF_PACKET's own, or the AF_XDP group's).
    static func shuntReport(program: XDPProgram, workers: [ShuntSummary]) -> ShuntReport {
        var report = ShuntReport()
        report.workers = workers.reduce(ShuntSummary(), +)
        report.kernelDropped = (try? program.count(.shunted)) ?? 0
        report.kernelPassed = (try? program.count(.shuntPassed)) ?? 0
        report.kernelPackets = (try? program.count(.packets)) ?? 0
        return report
    }

    /// What shunting did in a live run.
    public struct ShuntReport: Sendable {
        /// The workers' decisions and the counts they took back.
        public var workers = ShuntSummary()
        /// Packets the XDP program saw, dropped for shunted flows, and let through for them (SYN,
        /// FIN, RST), over every CPU.
        public var kernelPackets: UInt64 = 0
        public var kernelDropped: UInt64 = 0
        public var kernelPassed: UInt64 = 0
    }

    /// Loads the XDP program with its shunt table and attaches it to each of `interfaces` (native mode,
    /// generic where the driver refuses), when the configuration turns shunting on; nil otherwise.
    /// - Throws: ``EngineError`` naming the program's or the attachment's failure.
    static func attachShunting(_ configuration: Configuration, interfaces: [String]) throws -> ShuntAttachment? {
        guard configuration.shunt.enabled else { return nil }
        let program: XDPProgram
        do {
            program = try XDPProgram(
                directory: BPFObject.directory(explicit: configuration.bpfDirectory), seed: 0, socketCount: 1,
                shunt: true)
        } catch {
            throw EngineError("--shunt: \(error)")
        }
        var links: [XDPLink] = []
        var modes: [XDPProgram.AttachMode] = []
        for name in interfaces {
            let index = CInt(if_nametoindex(name))
            guard index > 0 else { throw EngineError("no such interface: \(name)") }
            do {
                links.append(try program.attach(interfaceIndex: index, mode: .native))
                modes.append(.native)
            } catch {
                do {
                    links.append(try program.attach(interfaceIndex: index, mode: .generic))
                    modes.append(.generic)
                } catch {
                    throw EngineError("--shunt: attaching the XDP program to \(name): \(error)")
                }
            }
        }
        return ShuntAttachment(program: program, links: links, modes: modes)
    }
}
