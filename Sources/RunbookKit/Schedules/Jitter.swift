import FoundationEssentials

/// How long to delay a slot's start, in whole seconds in `0..<bound`: stable
/// for a (schedule, slot) pair, so previews and restarts agree, and spread
/// across schedules. Jitter only ever delays. FNV-1a over the name and the
/// slot's UTC second, finished with SplitMix64.
///
/// - Returns: 0 when `bound` is 0 or negative.
public func jitterDelay(slot: Date, scheduleName: String, bound: Int) -> Int {
    guard bound > 0 else { return 0 }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in scheduleName.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    var second = UInt64(bitPattern: Int64(slot.timeIntervalSince1970.rounded(.down)))
    for _ in 0..<8 {
        hash ^= second & 0xff
        hash &*= 0x0000_0100_0000_01b3
        second >>= 8
    }
    return Int(SplitMix64.mix(hash &+ SplitMix64.golden) % UInt64(bound))
}
