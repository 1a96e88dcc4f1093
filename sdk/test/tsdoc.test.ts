// Every public symbol of the SDK's three entries has TSDoc with an @example: plugin authors
// read these in their editor before they read any page. Parsing only (no type checking), so
// it stays fast: follows each entry's `export { ... } from './x.ts'` to the declaration.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { sdkRoot } from './bundle.ts'

// Re-exported from typebox as they are; their documentation is typebox's.
const THIRD_PARTY = new Set(['Type', 'Static', 'TSchema'])
const ENTRIES = ['src/index.ts', 'src/testing/index.ts', 'src/manifest/index.ts']

const parsed = new Map<string, ts.SourceFile>()
function source(file: string): ts.SourceFile {
  let sf = parsed.get(file)
  if (!sf) {
    sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true)
    parsed.set(file, sf)
  }
  return sf
}

/** The declaration of `name` exported by `file`, following relative re-exports. */
function declarationOf(file: string, name: string): ts.Node | undefined {
  const sf = source(file)
  for (const statement of sf.statements) {
    if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && statement.exportClause) {
      if (!ts.isNamedExports(statement.exportClause)) continue
      for (const element of statement.exportClause.elements) {
        if (element.name.text !== name) continue
        const target = (statement.moduleSpecifier as ts.StringLiteral).text
        if (!target.startsWith('.')) return undefined
        return declarationOf(join(dirname(file), target), (element.propertyName ?? element.name).text)
      }
    }
    const named =
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement)) &&
      statement.name?.text === name
    if (named) return statement
    if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name) && declaration.name.text === name) return statement
      }
    }
  }
  return undefined
}

function exportedNames(file: string): string[] {
  const names: string[] = []
  for (const statement of source(file).statements) {
    if (
      ts.isExportDeclaration(statement) &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const element of statement.exportClause.elements) names.push(element.name.text)
    }
  }
  return names
}

function hasExample(node: ts.Node): boolean {
  // Overloaded functions: the documented signature is the first one.
  return ts.getJSDocTags(node).some((tag) => tag.tagName.text === 'example')
}

describe('TSDoc', () => {
  for (const entry of ENTRIES) {
    it(`every public symbol of ${entry} has TSDoc with an @example`, () => {
      const file = join(sdkRoot, entry)
      const names = exportedNames(file).filter((name) => !THIRD_PARTY.has(name))
      expect(names.length).toBeGreaterThan(5)
      const missing = names.filter((name) => {
        const declaration = declarationOf(file, name)
        return declaration === undefined || !hasExample(declaration)
      })
      expect(missing).toEqual([])
    })
  }
})
