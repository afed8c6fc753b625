import ArgumentParser
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "Change or list a chain's membership (admin-approved, on chain).",
        subcommands: [MemberAdd.self, MemberRemove.self, MemberList.self])
}

/// What `add` and `remove` share: who changes, which roles, who approves.
struct MembershipChangeOptions: ParsableArguments {
    @OptionGroup var node: NodeOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var key: KeyOptions
    @Option(name: .long, help: "The chain (id or name); default: the node's default chain.") var chain: String?
    @Option(name: .long, help: "The member's public key (64 hex digits), or its key file.") var member: String
    @Option(name: .long, help: "A role: admin, writer, reader, node or authority (repeatable).") var role: [String]
    @Option(name: .long, help: "Another admin's key file that approves the change (repeatable; the chain's quorum counts distinct admins).")
    var approver: [String] = []

    func submit(_ action: MembershipChange.Action) async throws {
        let member = try PublicKeyArgument.parse(member, option: "--member")
        guard let roles = Role(names: role) else {
            throw CLIError("unknown role in \(role); roles are admin, writer, reader, node, authority")
        }
        guard !roles.isEmpty else { throw CLIError("name at least one --role") }
        let sender = try key.load()
        var approvers = [sender]
        for path in approver {
            approvers.append(try KeyOptions.load(path, passphrase: key.passphrase))
        }
        let client = try node.client(chain: chain)
        let stats = try await callNode { try await client.stats() }
        guard let chainID = try? ChainID(hex: stats.chain) else { throw CLIError("the node reported an invalid chain id") }
        let change = MembershipChange(chain: chainID, action: action, member: member, roles: roles, nonce: .random())
        let proposal = MembershipProposal(change: change, approvals: approvers.map { Approval(approving: change, with: $0) })
        let tx = Transaction.make(chain: chainID, contentType: MembershipChange.contentType, payload: proposal.encoded, signer: sender)
        let result = try await callNode { try await client.submit(tx) }
        output.emit(result.id ?? tx.id.hex, ["id": result.id ?? tx.id.hex, "status": result.status])
    }
}

struct MemberAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Grant roles to a key (a new member when it had none); prints the transaction id.",
        discussion: "The change takes effect when its Quant is committed (documentation/chains.md, Membership governance).")
    @OptionGroup var change: MembershipChangeOptions
    func run() async throws { try await change.submit(.grant) }
}

struct MemberRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Take roles from a key (removed when none remain); prints the transaction id.",
        discussion: "A removed writer's waiting transactions are dropped; a removed node is refused by the chain's nodes.")
    @OptionGroup var change: MembershipChangeOptions
    func run() async throws { try await change.submit(.revoke) }
}

struct MemberList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List a chain's members and roles, at the tip or at a height.")
    @OptionGroup var node: NodeOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "The chain (id or name); default: the node's default chain.") var chain: String?
    @Option(name: .long, help: "The height (default: the tip).") var height: UInt64?

    func run() async throws {
        let members = try await callNode { try await node.client(chain: chain).members(height: height) }
        guard !output.json else { return printJSON(members) }
        print("height \(members.height), admin quorum \(members.adminQuorum)")
        for member in members.members { print("\(member.key) \(member.roles.joined(separator: ","))") }
    }
}
