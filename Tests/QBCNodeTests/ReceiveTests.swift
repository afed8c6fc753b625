import QBCCore
import QBCSQLiteStore
import QBCCrypto
import QBCNode
import QBCStorage
import QBCTestSupport
import Testing

@Suite struct ReceiveTests {
    func code(_ outcome: ReceiveOutcome) -> RuleError.Code? {
        if case .rejected(let error) = outcome { return error.code }
        return nil
    }

    @Test func aValidQuantFromElsewhereCommitsAndLeavesTheMempool() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let txs = (0..<10).map { chain.transaction(#"{"n":\#($0)}"#) }
        _ = try await service.admit(txs, now: chain.clock)
        #expect(await service.stats().mempoolSize == 10)
        let quant = chain.quant(Array(txs.prefix(6)), parent: nil)
        guard case .committed(let stored) = try await service.receive(quant, now: chain.clock) else {
            Issue.record("a valid Quant was not committed")
            return
        }
        #expect(stored.hash == quant.hash)
        let stats = await service.stats()
        #expect(stats.height == 1)
        #expect(stats.mempoolSize == 4)
        // The rest can still be sealed locally on top of it.
        guard case .sealed(let next) = try await service.leap(now: chain.clock) else {
            Issue.record("no Leap after receiving")
            return
        }
        #expect(next.header.previous == quant.hash)
        #expect(next.header.transactionCount == 4)
    }

    @Test func forgedQuantsAreRejectedAndChangeNothing() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let txs = (0..<4).map { chain.transaction(#"{"n":\#($0)}"#) }
        let good = chain.quant(txs, parent: nil)
        let now = chain.clock

        var badProof = good.header
        repeat { badProof.nonce &+= 1 } while badProof.hash.leadingZeroBits >= 4
        #expect(code(try await service.receive(Quant(header: badProof, transactions: txs), now: now)) == .badProof)

        let tampered = Transaction(
            body: .init(chain: txs[0].chain, sender: txs[0].sender, nonce: txs[0].body.nonce, timestamp: txs[0].timestamp,
                        contentType: txs[0].contentType, payload: Array(#"{"n":99}"#.utf8)),
            signature: txs[0].signature)
        #expect(code(try await service.receive(chain.quant([tampered] + txs.dropFirst(), parent: nil), now: now)) == .badSignature)

        var wrongRoot = good.header
        wrongRoot.merkleRoot = Hash.blake2b([1])
        wrongRoot = ProofOfWork.mine(wrongRoot) ?? wrongRoot
        #expect(code(try await service.receive(Quant(header: wrongRoot, transactions: txs), now: now)) == .badMerkleRoot)

        let outsider = chain.transaction("{}", by: SigningKey())
        #expect(code(try await service.receive(chain.quant([outsider], parent: nil), now: now)) == .notAuthorized)

        let lone = chain.quant(txs, parent: (1, good.hash))
        guard case .notOnTip(let height) = try await service.receive(lone, now: now) else {
            Issue.record("a Quant that does not extend the tip was not recognised")
            return
        }
        #expect(height == 0)
        #expect(await service.stats().height == 0)

        // Replays: the same transactions again in the next Quant.
        guard case .committed = try await service.receive(good, now: now) else {
            Issue.record("the valid Quant was refused")
            return
        }
        let replay = chain.quant([txs[1]], parent: (1, good.hash))
        #expect(code(try await service.receive(replay, now: now)) == .duplicate)
        #expect(await service.stats().height == 1)
    }
}

@Suite struct VerifiedCacheTests {
    /// A transaction in the mempool was verified at admission; a Quant carrying the same body with
    /// a different (forged) signature must still be checked and refused.
    @Test func onlyIdenticalSignaturesSkipVerification() async throws {
        let dir = try TemporaryDirectory()
        var chain = ChainBuilder()
        let (service, _) = try await openService(chain, in: dir)
        let tx = chain.transaction("{}")
        _ = try await service.admit([tx], now: chain.clock)
        let forged = Transaction(body: tx.body, signature: chain.admin.sign(tx.signingBytes))
        guard case .rejected(let error) = try await service.receive(chain.quant([forged], parent: nil), now: chain.clock) else {
            Issue.record("a forged signature rode on a verified transaction's id")
            return
        }
        #expect(error.code == .badSignature)
        guard case .committed = try await service.receive(chain.quant([tx], parent: nil), now: chain.clock) else {
            Issue.record("the verified transaction was refused")
            return
        }
    }
}
