import SpoolCore
import Testing

struct MailboxTests {
    @Test func theFirstPostSinceATakeAsksForOneAndATakeGetsEverythingInOrder() {
        let mailbox = Mailbox<Int>()
        #expect(mailbox.post(1))
        #expect(!mailbox.post(2))
        #expect(!mailbox.post(3))
        #expect(mailbox.takeAll() == [1, 2, 3])
        #expect(mailbox.takeAll() == [])
        #expect(mailbox.post(4))
        #expect(mailbox.takeAll() == [4])
    }
}
