import ArgumentParser
import QBCClient
import QBCCore
import QBCCrypto
import QBCWire

struct BangCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bang", abstract: "Create a chain: sign its Bang from a spec file and send it to a node; prints its id.",
        discussion: """
            The spec has the fields of a config file's "chain" section (documentation/chains.md). The key must be an \
            admin in it; the node must hold the node role in it and tells the chain's other nodes.
            """)

    @OptionGroup var node: NodeOptions
    @OptionGroup var key: KeyOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "The chain spec (JSON).") var spec: String

    func run() async throws {
        let spec = try ChainSpec.read(path: spec)
        let creator = try key.load()
        let bang = try Self.sign(spec, by: creator)
        let created = try await callNode { try await node.client().create(bang) }
        output.emit("\(created.chain) \(created.name) \(created.status)", ["chain": created.chain, "name": created.name, "status": created.status])
    }

    static func sign(_ spec: ChainSpec, by creator: SigningKey) throws -> Bang {
        let rules: ChainRules
        do { rules = try spec.rules() } catch { throw CLIError("\(error)") }
        let bang = Bang(rules: rules, timestamp: spec.timestamp.map(Timestamp.init(milliseconds:)) ?? .now(), creator: creator)
        do throws(RuleError) { try bang.check() } catch { throw CLIError("\(error.message)") }
        return bang
    }
}

struct ForkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fork", abstract: "Fork a chain at a height into a new chain; prints the new chain's id.",
        discussion: """
            The fork starts from the parent's rules and its membership at HEIGHT; the spec file changes what it names \
            (at least a new "name"). The key must be an admin of the parent at HEIGHT and of the fork.
            """)

    @OptionGroup var node: NodeOptions
    @OptionGroup var key: KeyOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .long, help: "The parent chain (id or name).") var chain: String
    @Option(name: .long, help: "The height of the last Quant the fork shares with its parent.") var at: UInt64
    @Option(name: .long, help: "The changes (JSON, the fields of a chain spec).") var spec: String

    func run() async throws {
        let client = try node.client(chain: chain)
        let parent = try await callNode { try await client.bang() }
        let members = try await callNode { try await client.members(height: at) }
        let hash: Hash
        if at == 0 {
            hash = parent.id
        } else {
            let quant = try await callNode { try await client.quant(String(at)) }
            guard let parsed = try? Hash(hex: quant.header.hash) else { throw CLIError("the node sent a malformed Quant hash") }
            hash = parsed
        }
        var membership = [PublicKey: Role]()
        for member in members.members {
            guard let key = try? PublicKey(hex: member.key) else { throw CLIError("the node sent a malformed member key") }
            guard let roles = Role(names: member.roles) else { throw CLIError("the node sent unknown roles \(member.roles)") }
            membership[key] = roles
        }
        var base = ChainSpec(rules: parent.rules, membership: Membership(membership))
        base.fork = ForkPoint(parent: parent.id, height: at, hash: hash)
        let spec = try ChainSpec.read(path: spec, onto: base)
        guard spec.name != parent.rules.name else { throw CLIError("the fork needs its own \"name\" in the spec") }
        let bang = try BangCommand.sign(spec, by: try key.load())
        let created = try await callNode { try await node.client().create(bang) }
        output.emit("\(created.chain) \(created.name) \(created.status)", ["chain": created.chain, "name": created.name, "status": created.status])
    }
}
