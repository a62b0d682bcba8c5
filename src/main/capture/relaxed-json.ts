/**
 * A tolerant reader for JSON and JavaScript object literals as loggers print them (console.log / util.inspect dumps),
 * without eval: a small recursive-descent parser over the text.
 *
 * Accepts, beyond JSON: unquoted identifier keys; single-quoted, double-quoted and backtick strings (escapes \n \t \r
 * \b \f \v \0 \' \" \\ \xHH \uHHHH \u{H…} and line continuations); string concatenation `'ab' +\n 'cd'` (older Node
 * split long strings so); trailing commas; // and /* *\/ comments; undefined, NaN, ±Infinity, hex numbers, BigInt
 * suffix n; inspect's placeholders `[Object]`, `[Array]`, `[Function: f]`, `[Getter]`, `<ref *1>`, `[Circular *1]`,
 * `<Buffer 01 02>`, `... 3 more items` (read as null or skipped); `[Object: null prototype] {…}` reads as the object.
 * Nesting is limited to MAX_DEPTH so hostile input cannot overflow the stack; every loop advances, so it cannot hang.
 */

export const MAX_DEPTH = 100

export class RelaxedJsonError extends Error {
  /** Offset in the text where parsing stopped. */
  readonly offset: number
  constructor(message: string, offset: number) {
    super(message)
    this.name = 'RelaxedJsonError'
    this.offset = offset
  }
}

/** Parses one value starting at `start` (leading whitespace allowed); returns it and the offset just after it. */
export function parseRelaxed(text: string, start = 0): { value: unknown; end: number } {
  const parser = new Parser(text, start)
  const value = parser.value(0)
  return { value, end: parser.at }
}

const IDENTIFIER_START = /[A-Za-z_$]/
const IDENTIFIER_PART = /[A-Za-z0-9_$]/
const NUMBER = /[+-]?(?:Infinity|NaN|0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)n?/y

class Parser {
  at: number
  constructor(
    private readonly text: string,
    start: number,
  ) {
    this.at = start
  }

  private fail(what: string): never {
    const near = this.text.slice(this.at, this.at + 12).replace(/\s+/g, ' ')
    throw new RelaxedJsonError(
      this.at >= this.text.length ? `${what}, found the end of the text` : `${what}, found '${near}'`,
      this.at,
    )
  }

  /** Skips whitespace and comments. */
  private skip(): void {
    const text = this.text
    for (;;) {
      const c = text.charCodeAt(this.at)
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xa0 || c === 0xfeff) this.at++
      else if (c === 47 && text.charCodeAt(this.at + 1) === 47) {
        const end = text.indexOf('\n', this.at)
        this.at = end < 0 ? text.length : end + 1
      } else if (c === 47 && text.charCodeAt(this.at + 1) === 42) {
        const end = text.indexOf('*/', this.at + 2)
        if (end < 0) this.fail('unterminated comment')
        this.at = end + 2
      } else return
    }
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`)
    this.skip()
    const text = this.text
    const c = text[this.at]
    if (c === '{') return this.object(depth)
    if (c === '[') {
      const placeholder = this.placeholder()
      if (placeholder !== undefined) return placeholder.value(depth)
      return this.array(depth)
    }
    if (c === '"' || c === "'" || c === '`') {
      let s = this.string()
      // 'abc' +\n 'def': concatenation of string literals.
      for (;;) {
        const save = this.at
        this.skip()
        if (text[this.at] === '+') {
          this.at++
          this.skip()
          const d = text[this.at]
          if (d === '"' || d === "'" || d === '`') {
            s += this.string()
            continue
          }
        }
        this.at = save
        return s
      }
    }
    if (c === '<') {
      // <ref *1> { … } or <Buffer 01 02 …>
      const end = text.indexOf('>', this.at)
      if (end < 0) this.fail('unterminated <…>')
      const inner = text.slice(this.at + 1, end)
      this.at = end + 1
      if (inner.startsWith('ref ')) return this.value(depth + 1)
      return null
    }
    NUMBER.lastIndex = this.at
    const number = NUMBER.exec(text)
    if (number !== null && number.index === this.at) {
      this.at += number[0].length
      let literal = number[0]
      if (literal.endsWith('n')) literal = literal.slice(0, -1)
      if (/^[+-]?0[xX]/.test(literal)) {
        const sign = literal.startsWith('-') ? -1 : 1
        return sign * parseInt(literal.replace(/^[+-]?0[xX]/, ''), 16)
      }
      return Number(literal)
    }
    if (c !== undefined && IDENTIFIER_START.test(c)) {
      const word = this.identifier()
      if (word === 'true') return true
      if (word === 'false') return false
      if (word === 'null' || word === 'undefined') return null
      // Class-prefixed objects: `Foo { a: 1 }`, `Map(1) { … }`.
      this.skip()
      if (text[this.at] === '(') {
        const end = text.indexOf(')', this.at)
        if (end < 0) this.fail('unterminated (…)')
        this.at = end + 1
        this.skip()
      }
      if (text[this.at] === '{') return this.object(depth)
      this.fail(`unexpected word '${word}'`)
    }
    this.fail('expected a value')
  }

  /** `[Object]`, `[Function: x]`, `[Object: null prototype] {…}`: returns a continuation, or undefined if not one. */
  private placeholder(): { value: (depth: number) => unknown } | undefined {
    const match = /\[(?:Object|Array|Function|Getter|Setter|Getter\/Setter|Circular|class|AsyncFunction)[^\]\n]*\]/y
    match.lastIndex = this.at
    const m = match.exec(this.text)
    if (m === null) return undefined
    this.at += m[0].length
    if (m[0].includes('prototype]')) return { value: (depth) => this.value(depth + 1) }
    return { value: () => null }
  }

  private identifier(): string {
    const text = this.text
    const start = this.at
    while (this.at < text.length && IDENTIFIER_PART.test(text[this.at]!)) this.at++
    return text.slice(start, this.at)
  }

  /** Skips `... 12 more items` inside arrays and objects; true if it did. */
  private ellipsis(): boolean {
    if (!this.text.startsWith('...', this.at)) return false
    const m = /\.\.\.[^,\]}\n]*/y
    m.lastIndex = this.at
    const found = m.exec(this.text)
    this.at += found ? found[0].length : 3
    return true
  }

  private object(depth: number): Record<string, unknown> {
    const text = this.text
    this.at++ // {
    const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>
    for (;;) {
      this.skip()
      if (text[this.at] === '}') {
        this.at++
        return out
      }
      if (this.ellipsis()) {
        this.skip()
        if (text[this.at] === ',') this.at++
        continue
      }
      let key: string
      const c = text[this.at]
      if (c === '"' || c === "'" || c === '`') key = this.string()
      else if (c !== undefined && (IDENTIFIER_START.test(c) || /[0-9]/.test(c))) key = this.identifier()
      else if (c === '[') {
        // [Symbol(x)]: value — a computed key
        const end = text.indexOf(']', this.at)
        if (end < 0) this.fail('unterminated [key]')
        key = text.slice(this.at + 1, end)
        this.at = end + 1
      } else this.fail("expected a key or '}'")
      this.skip()
      if (text[this.at] !== ':') this.fail(`expected ':' after key '${key}'`)
      this.at++
      const value = this.value(depth + 1)
      if (key !== '__proto__') out[key] = value
      this.skip()
      const d = text[this.at]
      if (d === ',') this.at++
      else if (d !== '}') this.fail("expected ',' or '}'")
    }
  }

  private array(depth: number): unknown[] {
    const text = this.text
    this.at++ // [
    const out: unknown[] = []
    for (;;) {
      this.skip()
      if (text[this.at] === ']') {
        this.at++
        return out
      }
      if (this.ellipsis()) {
        this.skip()
        if (text[this.at] === ',') this.at++
        continue
      }
      // `<1 empty item>` holes in inspect output.
      if (text[this.at] === '<' && /^<\d+ empty items?>/.test(text.slice(this.at, this.at + 24))) {
        this.at = text.indexOf('>', this.at) + 1
        out.push(null)
      } else out.push(this.value(depth + 1))
      this.skip()
      const d = text[this.at]
      if (d === ',') this.at++
      else if (d !== ']') this.fail("expected ',' or ']'")
    }
  }

  private string(): string {
    const text = this.text
    const quote = text[this.at]!
    this.at++
    let out = ''
    let runStart = this.at
    for (;;) {
      if (this.at >= text.length) this.fail('unterminated string')
      const c = text[this.at]!
      if (c === quote) {
        out += text.slice(runStart, this.at)
        this.at++
        return out
      }
      if ((c === '\n' || c === '\r') && quote !== '`') this.fail('line break inside a string')
      if (c !== '\\') {
        this.at++
        continue
      }
      out += text.slice(runStart, this.at)
      const e = text[this.at + 1]
      this.at += 2
      switch (e) {
        case 'n':
          out += '\n'
          break
        case 't':
          out += '\t'
          break
        case 'r':
          out += '\r'
          break
        case 'b':
          out += '\b'
          break
        case 'f':
          out += '\f'
          break
        case 'v':
          out += '\v'
          break
        case '0':
          out += '\0'
          break
        case 'x': {
          const hex = text.slice(this.at, this.at + 2)
          if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail('bad \\x escape')
          out += String.fromCharCode(parseInt(hex, 16))
          this.at += 2
          break
        }
        case 'u': {
          if (text[this.at] === '{') {
            const end = text.indexOf('}', this.at)
            const hex = end < 0 ? '' : text.slice(this.at + 1, end)
            if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || parseInt(hex, 16) > 0x10ffff) this.fail('bad \\u{…} escape')
            out += String.fromCodePoint(parseInt(hex, 16))
            this.at = end + 1
          } else {
            const hex = text.slice(this.at, this.at + 4)
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape')
            out += String.fromCharCode(parseInt(hex, 16))
            this.at += 4
          }
          break
        }
        case '\r':
          if (text[this.at] === '\n') this.at++ // line continuation
          break
        case '\n':
          break
        case undefined:
          this.fail('unterminated string')
          break
        default:
          out += e // \' \" \\ \/ and any other escaped character
      }
      runStart = this.at
    }
  }
}
