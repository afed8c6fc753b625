/// A `pattern` of a payload schema: the ECMA-262 regular expressions schemas use, matched
/// anywhere in the string (unanchored, as JSON Schema says), over Unicode scalars, in time
/// proportional to the string's length times the pattern's size (documentation/chains.md).
///
/// Swift's `Regex` backtracks without a bound: `^(a|a)*b$` took 9.6 s on 24 characters, so any
/// writer could stall every node of a chain whose schema had such a pattern (found by fuzzing,
/// D55). Patterns are compiled here to a small program and run by a Pike VM, which follows every
/// alternative at once and never backtracks. Backreferences and lookaround need backtracking and
/// are refused when the chain is created.
struct Pattern: Sendable {
    /// Bytes of pattern source, and instructions after `{n,m}` are expanded.
    static let maxSourceBytes = 1024
    static let maxInstructions = 4096
    static let maxRepeat = 1000

    let source: String
    let program: [PatternInstruction]

    init(_ source: String, at path: String) throws(PayloadSchema.SchemaError) {
        guard source.utf8.count <= Self.maxSourceBytes else {
            throw PayloadSchema.SchemaError("\(path): patterns are at most \(Self.maxSourceBytes) bytes")
        }
        do {
            var parser = PatternParser(Array(source.unicodeScalars))
            let tree = try parser.parse()
            var compiler = PatternCompiler(limit: Self.maxInstructions)
            try compiler.emit(tree)
            compiler.program.append(.match)
            program = compiler.program
        } catch {
            throw PayloadSchema.SchemaError("\(path): pattern '\(source)': \(error.message)")
        }
        self.source = source
    }

    func matches(_ text: String) -> Bool { PatternVM(program: program).matches(text) }
}

/// Why a pattern cannot be used.
struct PatternError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// What one step of a pattern may consume.
enum PatternAtom: Sendable, Equatable {
    case scalar(Unicode.Scalar)
    /// `.`: any scalar but a line terminator.
    case any
    case set(ScalarSet)

    func matches(_ scalar: Unicode.Scalar) -> Bool {
        switch self {
        case .scalar(let expected): scalar == expected
        case .any: !ScalarSet.isLineTerminator(scalar)
        case .set(let set): set.contains(scalar)
        }
    }
}

/// A zero-width condition on the position.
enum PatternAssertion: Sendable, Equatable {
    case start, end, wordBoundary, notWordBoundary
}

/// A parsed pattern.
indirect enum PatternNode: Sendable, Equatable {
    case empty
    case atom(PatternAtom)
    case assertion(PatternAssertion)
    case sequence([PatternNode])
    case alternatives([PatternNode])
    /// `max` nil: unbounded.
    case repetition(PatternNode, min: Int, max: Int?)
}

extension PatternNode {
    /// True when `PatternCompiler.emit` adds no instruction for this node.
    var compilesToNothing: Bool {
        switch self {
        case .empty: true
        case .atom, .assertion, .alternatives: false
        case .sequence(let nodes): nodes.allSatisfy(\.compilesToNothing)
        case .repetition(let body, _, _): body.compilesToNothing
        }
    }
}

/// One instruction of a compiled pattern (Thompson's construction).
enum PatternInstruction: Sendable, Equatable {
    case atom(PatternAtom)
    case assertion(PatternAssertion)
    /// Go on at both targets.
    case split(Int, Int)
    case jump(Int)
    case match
}

struct PatternCompiler {
    let limit: Int
    var program: [PatternInstruction] = []

    init(limit: Int) { self.limit = limit }

    private mutating func append(_ instruction: PatternInstruction) throws(PatternError) -> Int {
        guard program.count < limit else {
            throw PatternError("it is too large once its repetitions are expanded (over \(limit) steps)")
        }
        program.append(instruction)
        return program.count - 1
    }

    mutating func emit(_ node: PatternNode) throws(PatternError) {
        switch node {
        case .empty: break
        case .atom(let atom): _ = try append(.atom(atom))
        case .assertion(let assertion): _ = try append(.assertion(assertion))
        case .sequence(let nodes): for node in nodes { try emit(node) }
        case .alternatives(let branches):
            var jumps = [Int]()
            for branch in branches.dropLast() {
                let split = try append(.split(0, 0))
                try emit(branch)
                jumps.append(try append(.jump(0)))
                program[split] = .split(split + 1, program.count)
            }
            if let last = branches.last { try emit(last) }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repetition(let body, let min, let max):
            // A body that compiles to nothing repeats to nothing: without this, nested `(){1000}`
            // would loop a billion times emitting nothing, never reaching the size limit. (Every
            // other emit adds an instruction, so the limit bounds the work.)
            guard !body.compilesToNothing else { return }
            if max == nil, min > 0 {
                // body{min-1} then L: body, split(L, next): `+` costs one copy of its body, so
                // nested `+` stay linear in size.
                for _ in 1..<min { try emit(body) }
                let loop = program.count
                try emit(body)
                _ = try append(.split(loop, program.count + 1))
                return
            }
            for _ in 0..<min { try emit(body) }
            guard let max else {
                let split = try append(.split(0, 0))
                try emit(body)
                _ = try append(.jump(split))
                program[split] = .split(split + 1, program.count)
                return
            }
            // (body (body …)?)?: every optional copy may stop and go to the end.
            var splits = [Int]()
            for _ in min..<max {
                splits.append(try append(.split(0, 0)))
                try emit(body)
            }
            for split in splits { program[split] = .split(split + 1, program.count) }
        }
    }
}

/// Runs a compiled pattern over scalars, every alternative in step (Pike's VM without captures):
/// at most one thread per instruction, so the work is the string's length times the program's.
/// The string is read as a stream (no copy of it), with one scalar of look-behind and look-ahead
/// for the assertions.
struct PatternVM {
    let program: [PatternInstruction]

    /// Where a thread stands: what the assertions look at.
    private struct Position {
        var index: Int
        var previous: Unicode.Scalar?
        var next: Unicode.Scalar?
    }

    func matches(_ text: String) -> Bool {
        var current = [Int]()
        var next = [Int]()
        // The step at which each instruction was last added: a thread per instruction per step.
        var seen = [Int](repeating: -1, count: program.count)
        var stack = [Int]()
        var scalars = text.unicodeScalars.makeIterator()
        var here = Position(index: 0, previous: nil, next: scalars.next())
        while true {
            // Unanchored: a new thread starts at every position.
            if add(0, at: here, to: &current, seen: &seen, stack: &stack) { return true }
            guard let scalar = here.next else { return false }
            let there = Position(index: here.index + 1, previous: scalar, next: scalars.next())
            next.removeAll(keepingCapacity: true)
            for pc in current {
                guard case .atom(let atom) = program[pc], atom.matches(scalar) else { continue }
                if add(pc + 1, at: there, to: &next, seen: &seen, stack: &stack) { return true }
            }
            swap(&current, &next)
            here = there
        }
    }

    /// Follows jumps, splits and assertions from `start`; adds the atoms reached to `list`.
    /// True when the end of the program is reached.
    private func add(_ start: Int, at position: Position, to list: inout [Int], seen: inout [Int], stack: inout [Int]) -> Bool {
        stack.append(start)
        while let pc = stack.popLast() {
            guard seen[pc] != position.index else { continue }
            seen[pc] = position.index
            switch program[pc] {
            case .match:
                stack.removeAll(keepingCapacity: true)
                return true
            case .atom: list.append(pc)
            case .jump(let target): stack.append(target)
            case .split(let first, let second):
                stack.append(second)
                stack.append(first)
            case .assertion(let assertion):
                if Self.holds(assertion, at: position) { stack.append(pc + 1) }
            }
        }
        return false
    }

    private static func holds(_ assertion: PatternAssertion, at position: Position) -> Bool {
        switch assertion {
        case .start: return position.previous == nil
        case .end: return position.next == nil
        case .wordBoundary, .notWordBoundary:
            let before = position.previous.map(ScalarSet.isWord) ?? false
            let after = position.next.map(ScalarSet.isWord) ?? false
            return (before != after) == (assertion == .wordBoundary)
        }
    }
}
