import Glibc
import Testing
@testable import RunbookKit

@Suite("Job places")
struct JobPlacesTests {
    /// Whether `ticket`'s descriptor is readable (a place was handed to it, or the places closed).
    static func isWoken(_ ticket: JobPlaces.Ticket) -> Bool {
        var entry = pollfd(fd: ticket.descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1
    }

    @Test(arguments: [1, 3, 8])
    func atMostLimitHoldAPlace(limit: Int) throws {
        let places = JobPlaces(limit: limit)
        let tickets = try (0..<limit + 2).map { _ in try JobPlaces.Ticket() }
        let taken = tickets.map { places.take($0) }
        #expect(taken == Array(repeating: true, count: limit) + [false, false])
        #expect(places.taken == limit)
        #expect(!tickets.contains(where: Self.isWoken))
    }

    @Test func aGivenBackPlaceGoesToTheFirstInLine() throws {
        let places = JobPlaces(limit: 1)
        let holder = try JobPlaces.Ticket(), first = try JobPlaces.Ticket(), second = try JobPlaces.Ticket()
        #expect(places.take(holder))
        #expect(!places.take(first))
        #expect(!places.take(second))
        places.giveBack(holder)
        #expect(Self.isWoken(first) && places.holds(first))
        #expect(!Self.isWoken(second) && !places.holds(second))
        // Asking again once handed one is not a second place.
        #expect(places.take(first))
        #expect(places.taken == 1)
        places.giveBack(first)
        #expect(places.holds(second))
        places.giveBack(second)
        #expect(places.taken == 0)
    }

    @Test func leavingTheLineTakesNoPlace() throws {
        let places = JobPlaces(limit: 1)
        let holder = try JobPlaces.Ticket(), leaving = try JobPlaces.Ticket(), staying = try JobPlaces.Ticket()
        #expect(places.take(holder))
        #expect(!places.take(leaving))
        #expect(!places.take(staying))
        places.giveBack(leaving)
        places.giveBack(holder)
        #expect(!places.holds(leaving))
        #expect(places.holds(staying))
        // Giving back twice frees one place, not two.
        places.giveBack(staying)
        places.giveBack(staying)
        #expect(places.taken == 0)
        let a = try JobPlaces.Ticket(), b = try JobPlaces.Ticket()
        #expect(places.take(a))
        #expect(!places.take(b))
    }
}
