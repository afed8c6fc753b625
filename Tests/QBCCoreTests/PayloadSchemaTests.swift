import Foundation
import QBCCore
import QBCTestSupport
import Testing

@Suite struct PayloadSchemaTests {
    struct Suite: Decodable {
        struct Group: Decodable {
            struct Case: Decodable {
                let description: String
                let data: JSONValue
                let valid: Bool
            }
            let description: String
            let schema: JSONValue
            let tests: [Case]
        }
        let groups: [Group]
        let outsideTheSubset: [JSONValue]
    }

    static func fixture() throws -> Suite {
        let url = try #require(Bundle.module.url(forResource: "json-schema-test-suite", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(Suite.self, from: Data(contentsOf: url))
    }

    @Test func theTestSuiteCasesForTheSubsetPass() throws {
        let suite = try Self.fixture()
        var cases = 0
        for group in suite.groups {
            let schema = try PayloadSchema(group.schema)
            for test in group.tests {
                let violation = schema.violation(in: test.data)
                #expect((violation == nil) == test.valid, "\(group.description): \(test.description) (\(violation ?? "valid"))")
                cases += 1
            }
        }
        #expect(cases == 229)
    }

    @Test func keywordsOutsideTheSubsetAreRefused() throws {
        for schema in try Self.fixture().outsideTheSubset {
            #expect(throws: PayloadSchema.SchemaError.self) { try PayloadSchema(schema) }
        }
    }

    @Test func typesEnumsItemsAndLengths() throws {
        func check(_ schema: String, _ data: String) throws -> Bool {
            let parsed = try PayloadSchema(try #require(JSONValue.parse(Array(schema.utf8))))
            return parsed.violation(in: try #require(JSONValue.parse(Array(data.utf8)))) == nil
        }
        #expect(try check(#"{"type":"integer"}"#, "1.0"), "1.0 is an integer")
        #expect(try !check(#"{"type":"integer"}"#, "1.5"))
        #expect(try !check(#"{"type":"number"}"#, "true"), "booleans are not numbers")
        #expect(try check(#"{"type":["string","null"]}"#, "null"))
        #expect(try check(#"{"enum":[1,"a",{"k":[true]}]}"#, #"{"k":[true]}"#))
        #expect(try !check(#"{"enum":[1,"a"]}"#, "true"))
        #expect(try check(#"{"items":{"type":"string","maxLength":2}}"#, #"["ab","é"]"#), "lengths count code points")
        #expect(try !check(#"{"items":{"type":"string","maxLength":2}}"#, #"["abc"]"#))
        #expect(try !check(#"{"minLength":2}"#, #""💩""#))
        #expect(try !check(#"{"maximum":3}"#, "3.5"))
        #expect(try !check("false", "1"))
        #expect(throws: PayloadSchema.SchemaError.self) { try PayloadSchema(.object(["minLength": .number(-1)])) }
        #expect(throws: PayloadSchema.SchemaError.self) { try PayloadSchema(.object(["pattern": .string("(")])) }
    }
}
