// SPDX-License-Identifier: Apache-2.0
//
// libFuzzer entry point for the whole offline path: the frames carved from the input are written
// as a pcap file and run through `OfflineRun` (libpcap reader, worker: decode, fragments, tunnels,
// flow table, TCP/UDP/ICMP state, expiry, and the conn/weird/tunnel writers), as `peregrine -r`
// does. The flow table is small so eviction happens too.
//
// Input: byte 0 picks the link type (low 3 bits), whether checksums are ignored (bit 3, `-C`) and
// whether every frame was cut by the snap length (bit 4: wire length = captured + 64). Then
// records: a time step byte (below 128: that many 10 ms; else (value - 127) * 4 seconds, enough
// to cross every inactivity timeout), a 16-bit big-endian length and that many frame bytes.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FuzzSupport
import PeregrineEngine

enum Setup {
    /// pcap LINKTYPE values of the link types the worker decodes.
    static let linkTypes: [UInt32] = [1, 101, 0, 108, 113, 276, 228, 229]

    /// A private directory for the pcap file and the logs, made once per fuzzing process.
    static let workDirectory: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        var template = Array("\(base)/peregrine-fuzz-worker-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
        atexit { removeWorkDirectory() }
        return String(cString: made)
    }()
}

/// Deletes the work directory and the files in it when libFuzzer exits normally (a crash leaves
/// it for inspection).
func removeWorkDirectory() {
    let path = Setup.workDirectory
    guard let dir = opendir(path) else { return }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { unlink(path + "/" + name) }
    }
    closedir(dir)
    rmdir(path)
}

/// Appends `value` little-endian (the byte order of the pcap header written below).
func le32(_ value: UInt32, _ out: inout [UInt8]) {
    out += [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF), UInt8((value >> 16) & 0xFF), UInt8(value >> 24)]
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWorker(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let selector = input.byte()
    var file: [UInt8] = []
    le32(0xA1B2_C3D4, &file)  // magic: microsecond timestamps
    file += [2, 0, 4, 0]  // version 2.4
    le32(0, &file)  // thiszone
    le32(0, &file)  // sigfigs
    le32(65_535, &file)  // snaplen
    le32(Setup.linkTypes[Int(selector & 0x07)], &file)  // network
    var micros: UInt64 = 1_000_000_000_000_000
    var frames = 0
    while !input.isAtEnd && frames < 512 {
        frames += 1
        let step = UInt64(input.byte())
        micros += step < 128 ? step * 10_000 : (step - 127) * 4_000_000
        let frame = input.record()
        le32(UInt32(micros / 1_000_000), &file)
        le32(UInt32(micros % 1_000_000), &file)
        le32(UInt32(frame.count), &file)
        le32(UInt32(frame.count + (selector & 0x10 != 0 ? 64 : 0)), &file)
        file += frame
    }
    let path = Setup.workDirectory + "/input.pcap"
    guard let handle = fopen(path, "wb") else { fatalError("cannot write \(path): errno \(errno)") }
    let written = file.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
    fclose(handle)
    fuzzCheck(written == file.count, "short write of the pcap file")

    var configuration = Configuration()
    configuration.logDirectory = Setup.workDirectory
    configuration.ignoreChecksums = selector & 0x08 != 0
    configuration.maxConnections = 32
    configuration.seed = 1
    do {
        _ = try OfflineRun(configuration: configuration).run(path: path)
    } catch {
        // A file the engine refuses (link type without a decoder) is a clean outcome.
    }
    return 0
}

runFuzzer(fuzzWorker)
