// The JUnit reader on files that are no usable report, encodings, its bounds, large reports, globs
// and the workspace they must lie in.
import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { TestCase } from '../../src/junit/model.js'
import { MAX_DEPTH } from '../../src/junit/parse.js'
import { readJUnitReports, readReportFile, workspaceRoots } from '../../src/junit/read.js'
import { FIXTURES, scratchDir, read, readWritten, counts, suite } from './junit-read-checks.js'

describe('files that are not usable reports', () => {
  it('says a 0-byte file is empty', async () => {
    const { report } = await read('empty.xml')
    expect(report).toEqual({
      pattern: 'empty.xml',
      path: 'empty.xml',
      status: 'empty',
      detail: 'the file is empty (0 bytes)',
      bytes: 0,
      counts: counts({})
    })
  })

  it('says a whitespace-only file is empty', async () => {
    const { report } = await read('blank.xml')
    expect(report).toMatchObject({ status: 'empty', detail: 'the file holds only whitespace (6 bytes)', bytes: 6 })
    expect(report.tool).toBeUndefined()
  })

  it('says valid XML with another root is not JUnit', async () => {
    const { report, cases } = await read('not-junit-coverage.xml')
    expect(report).toMatchObject({
      status: 'not-junit',
      detail: 'the root element is <coverage>, not <testsuites> or <testsuite>',
      counts: counts({})
    })
    expect(report.tool).toBeUndefined()
    expect(cases).toEqual([])
  })

  it('keeps the cases of a cut-off file and says where it ends', async () => {
    const { report, cases } = await read('truncated.xml')
    expect(report).toMatchObject({
      status: 'malformed',
      tool: 'pytest',
      detail: 'line 24, column 77: unclosed tag: testcase; the file ends early'
    })
    expect(report.counts).toEqual(counts({ cases: 3, passed: 1, failed: 1, errored: 1 }))
    expect(cases.map((tc) => tc.name)).toEqual(['tests.test_broken', 'test_passes', 'test_fails'])
  })

  it('keeps the cases before a broken tag and nothing after it', async () => {
    const { report, cases } = await read('mismatched-tag.xml')
    expect(report).toMatchObject({ status: 'malformed', detail: 'line 9, column 54: unexpected close tag' })
    expect(report.counts).toEqual(counts({ cases: 2, passed: 1, failed: 1 }))
    expect(cases.map((tc) => tc.name)).toEqual(['test_one', 'test_two'])
  })

  it('says a binary file is malformed', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52])
    const { report } = await readWritten('image.xml', png)
    expect(report).toMatchObject({ status: 'malformed', detail: 'binary data (it holds NUL bytes), not XML text', bytes: 16 })
  })

  it('says text that is not XML is malformed, with its size and never its content', async () => {
    const content = 'DATABASE_PASSWORD=hunter2-secret\nFAILED tests/test_x.py::test_y - assert 1 == 2\n'
    const { report } = await readWritten('log.xml', content)
    expect(report).toMatchObject({
      status: 'malformed',
      detail: `not XML: ${content.length} bytes of text that does not start with "<" (its content is not shown)`
    })
    expect(JSON.stringify(report)).not.toContain('hunter2')
  })

  it(`ends a file nested deeper than ${MAX_DEPTH} elements as malformed, keeping the cases before it`, async () => {
    const deep = `${'<testsuite name="s">'.repeat(MAX_DEPTH + 10)}${'</testsuite>'.repeat(MAX_DEPTH + 10)}`
    const { report, cases } = await readWritten('deep.xml', suite(`<testcase classname="c" name="before"/>${deep}`))
    expect(report).toMatchObject({ status: 'malformed', detail: `line 2: elements nested deeper than ${MAX_DEPTH} levels; reading stopped there` })
    expect(cases.map((tc) => tc.name)).toEqual(['before'])
  })

  it('stops 2 million nested elements at the depth limit without reading the rest', async () => {
    // 14 MB, streamed to disk: read in full, saxes would hold 2 million open tags (~700 MB).
    const file = path.join(scratchDir(), 'deep-2m.xml')
    const out = createWriteStream(file)
    out.write('<testsuites>')
    const open = '<a>'.repeat(10_000)
    const close = '</a>'.repeat(10_000)
    for (let i = 0; i < 200; i++) if (!out.write(open)) await once(out, 'drain')
    for (let i = 0; i < 200; i++) if (!out.write(close)) await once(out, 'drain')
    out.end('</testsuites>')
    await once(out, 'close')
    const { report } = await read('deep-2m.xml', { cwd: scratchDir() })
    expect(report).toMatchObject({ status: 'malformed', detail: `line 1: elements nested deeper than ${MAX_DEPTH} levels; reading stopped there` })
  })

  it('does not parse a file over the size limit', async () => {
    const bytes = statSync(path.join(FIXTURES, 'pytest-xunit2.xml')).size
    const { report, cases } = await read('pytest-xunit2.xml', { maxFileBytes: 100 })
    expect(report).toMatchObject({
      status: 'unreadable',
      detail: `${(bytes / 1024).toFixed(1)} KiB is over the 100 bytes limit; not parsed`,
      bytes,
      counts: counts({})
    })
    expect(cases).toEqual([])
  })

  it('says a path that vanished or is not a regular file is unreadable', async () => {
    const onCase = (): void => {}
    const missing = await readReportFile(path.join(scratchDir(), 'gone.xml'), 'gone.xml', onCase)
    expect(missing.status).toBe('unreadable')
    expect(missing.detail).toMatch(/^cannot read it: ENOENT: no such file or directory/)
    const fifo = path.join(scratchDir(), 'fifo.xml')
    execFileSync('mkfifo', [fifo])
    expect(await readReportFile(fifo, 'fifo.xml', onCase)).toEqual({
      status: 'unreadable',
      detail: 'not a regular file',
      bytes: 0,
      counts: counts({})
    })
  })

  it('lets an error thrown by onCase through', async () => {
    const onCase = (): void => {
      throw new Error('caller broke')
    }
    await expect(readJUnitReports(['pytest-xunit2.xml'], { cwd: FIXTURES, onCase })).rejects.toThrow('caller broke')
  })
})

describe('encodings', () => {
  it('reads a UTF-8 byte order mark', async () => {
    const { report, cases } = await readWritten('bom.xml', `\ufeff${suite('<testcase classname="c" name="bom"/>')}`)
    expect(report.status).toBe('ok')
    expect(cases.map((tc) => tc.name)).toEqual(['bom'])
  })

  it('reads UTF-16 with a byte order mark', async () => {
    const text = suite('<testcase classname="c" name="wide ✓"/>').replace('utf-8', 'utf-16')
    const { report, cases } = await readWritten('utf16.xml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]))
    expect(report.status).toBe('ok')
    expect(cases.map((tc) => tc.name)).toEqual(['wide ✓'])
  })

  it('reads the encoding the XML declaration names', async () => {
    const text = suite('<testcase classname="c" name="test_café"/>').replace('utf-8', 'ISO-8859-1')
    const { cases } = await readWritten('latin1.xml', Buffer.from(text, 'latin1'))
    expect(cases.map((tc) => tc.name)).toEqual(['test_café'])
  })

  it('replaces a byte that is not UTF-8 instead of losing the report', async () => {
    const bytes = Buffer.concat([
      Buffer.from(suite('<testcase classname="c" name="t"><system-out>a').split('</testsuite>')[0] ?? ''),
      Buffer.from([0xff]),
      Buffer.from('b</system-out></testcase></testsuite></testsuites>')
    ])
    const { report, cases } = await readWritten('latin1-byte.xml', bytes)
    expect(report.status).toBe('ok')
    expect(cases[0]?.systemOut).toBe('a\ufffdb')
  })

  it('says an encoding it does not know is not readable as XML', async () => {
    const { report } = await readWritten('ebcdic.xml', '<?xml version="1.0" encoding="x-no-such"?><testsuites/>')
    expect(report).toMatchObject({
      status: 'malformed',
      detail: 'the XML declaration names an encoding this reader does not know: x-no-such'
    })
  })
})

describe('bounds', () => {
  it('cuts message, text, output and names to their limits and says so', async () => {
    const long = (n: number): string => 'x'.repeat(n)
    const body =
      `<testcase classname="c" name="${long(3_000)}"><failure message="${long(5_000)}">${long(20_000)}</failure>` +
      `<system-out>${long(10_000)}</system-out><system-err>${long(9_000)}</system-err></testcase>` +
      '<testcase classname="c" name="short"><failure message="m">t</failure></testcase>'
    const { cases } = await readWritten('long.xml', suite(body))
    const [cut, short] = cases
    expect(cut).toMatchObject({ outcome: 'failure', truncated: true })
    expect([cut?.name.length, cut?.message.length, cut?.text.length, cut?.systemOut.length, cut?.systemErr.length]).toEqual([
      2_000, 2_000, 16_384, 8_192, 8_192
    ])
    expect(short).toMatchObject({ message: 'm', text: 't', truncated: false })
  })

  it('never cuts a character in half', async () => {
    const { cases } = await readWritten('emoji.xml', suite(`<testcase classname="c" name="e"><failure>${'🎉'.repeat(9_000)}</failure></testcase>`))
    const text = cases[0]?.text ?? ''
    expect(text.length).toBe(16_384)
    expect(text).toBe('🎉'.repeat(8_192))
    // No message attribute: the first line, cut to 2,000 units on a character boundary.
    expect(cases[0]?.message).toBe('🎉'.repeat(1_000))
  })

  it('keeps only the start of a huge text node or CDATA section, and reads on', async () => {
    const numbered = (prefix: string, lines: number): string =>
      Array.from({ length: lines }, (_, i) => `${prefix} line ${String(i).padStart(6, '0')} ${'.'.repeat(40)}\n`).join('')
    const out = numbered('out', 40_000) // about 2 MB: several read chunks, drained piecewise
    const err = numbered('err', 40_000)
    const comment = 'c'.repeat(300_000)
    const body =
      `<testcase classname="c" name="loud"><failure message="m">t</failure><system-out>${out}</system-out>` +
      `<system-err><![CDATA[${err}]]></system-err></testcase>` +
      `<testcase classname="c" name="commented"><system-out>start<!--${comment}-->end</system-out></testcase>` +
      '<testcase classname="c" name="after"/>'
    const { report, cases } = await readWritten('huge-node.xml', suite(body))
    expect(report.status).toBe('ok')
    expect(cases.map((tc) => tc.name)).toEqual(['loud', 'commented', 'after'])
    expect(cases[0]?.systemOut).toBe(out.slice(0, 8_192))
    expect(cases[0]?.systemErr).toBe(err.slice(0, 8_192))
    expect(cases[0]?.truncated).toBe(true)
    expect(cases[1]).toMatchObject({ systemOut: 'startend', truncated: false })
  })
})

describe('a large report', () => {
  it('streams 100,000 cases, half of them failing, in document order', async () => {
    const file = path.join(scratchDir(), 'large.xml')
    const traceback = Array.from({ length: 14 }, (_, i) => `    frame_${i} = call(argument_${i})  # tests/test_mod.py:${i + 10}`).join('\n')
    const out = createWriteStream(file)
    const write = async (piece: string): Promise<void> => {
      if (!out.write(piece)) await once(out, 'drain')
    }
    await write('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest">')
    for (let i = 0; i < 100_000; i++) {
      await write(
        i % 2 === 0
          ? `<testcase classname="tests.test_mod" name="test_${i}" time="0.001"/>`
          : `<testcase classname="tests.test_mod" name="test_${i}" time="0.002"><failure message="value ${i}">def test_${i}():\n${traceback}\nE  assert ${i} == 0</failure></testcase>`
      )
    }
    await write('</testsuite></testsuites>\n')
    out.end()
    await once(out, 'finish')

    let next = 0
    let wrong = 0
    const { files } = await readJUnitReports(['large.xml'], {
      cwd: scratchDir(),
      onCase: (tc) => {
        const failing = next % 2 === 1
        if (
          tc.name !== `test_${next}` ||
          tc.outcome !== (failing ? 'failure' : 'passed') ||
          tc.message !== (failing ? `value ${next}` : '') ||
          (failing && !tc.text.endsWith(`E  assert ${next} == 0`))
        ) {
          wrong++
        }
        next++
      }
    })
    expect(wrong).toBe(0)
    expect(next).toBe(100_000)
    expect(files[0]).toMatchObject({ status: 'ok', tool: 'pytest', counts: counts({ cases: 100_000, passed: 50_000, failed: 50_000 }) })
  }, 60_000)
})

describe('globs', () => {
  it('lists matched files once, sorted, relative to cwd, with the first pattern that matched', async () => {
    const root = path.join(scratchDir(), 'workspace')
    for (const dir of ['reports/sub', 'reports/.hidden', 'reports/dir.xml', 'other']) mkdirSync(path.join(root, dir), { recursive: true })
    const junit = '<testsuites><testsuite name="s"><testcase classname="c" name="t"/></testsuite></testsuites>'
    for (const file of ['reports/b.xml', 'reports/a.xml', 'reports/sub/c.xml', 'reports/.hidden/d.xml', 'other/e.xml']) {
      writeFileSync(path.join(root, file), junit)
    }
    writeFileSync(path.join(root, 'reports/notes.txt'), 'not a report')
    const seen: string[] = []
    const result = await readJUnitReports(
      ['  ', 'reports/**/*.xml', 'other/e.xml', './reports/a.xml', 'missing/*.xml', '!reports/sub/**', 'reports/sub/*.xml'],
      { cwd: root, onCase: (tc) => seen.push(tc.report) }
    )
    expect(result.files.map((file) => [file.path, file.pattern, file.status])).toEqual([
      ['other/e.xml', 'other/e.xml', 'ok'],
      ['reports/.hidden/d.xml', 'reports/**/*.xml', 'ok'],
      ['reports/a.xml', 'reports/**/*.xml', 'ok'],
      ['reports/b.xml', 'reports/**/*.xml', 'ok']
    ])
    // A pattern whose every file is excluded matched nothing.
    expect(result.unmatched).toEqual(['missing/*.xml', 'reports/sub/*.xml'])
    expect(seen).toEqual(['other/e.xml', 'reports/.hidden/d.xml', 'reports/a.xml', 'reports/b.xml'])
  })

  it('reports the files of an absolute pattern as absolute paths, as the user wrote them', async () => {
    const result = await readJUnitReports([path.join(FIXTURES, 'vitest*.xml')], { cwd: FIXTURES, onCase: () => {} })
    expect(result.files.map((file) => file.path)).toEqual([path.join(FIXTURES, 'vitest-unhandled-errors.xml'), path.join(FIXTURES, 'vitest.xml')])
  })

  it('reports a glob with no file as unmatched and reads nothing', async () => {
    const result = await readJUnitReports(['no-such-dir/**/*.xml'], { cwd: FIXTURES, onCase: () => {} })
    expect(result).toEqual({ files: [], unmatched: ['no-such-dir/**/*.xml'], searched: [FIXTURES.replace(/\/$/, '')], fromWorkspace: [] })
  })
})

describe('the workspace', () => {
  /** A workspace with a reports folder, and a secret file next to it (outside). */
  function layout(): { workspace: string; secret: string } {
    const base = mkdtempSync(path.join(scratchDir(), 'ws-'))
    const workspace = path.join(base, 'workspace')
    mkdirSync(path.join(workspace, 'reports'), { recursive: true })
    const secret = path.join(base, 'shadow')
    writeFileSync(secret, 'root:$6$secret-hash:19000:0:99999:7:::\n')
    return { workspace, secret }
  }

  it('refuses a report that is a symlink to a file outside the workspace, naming where it leads, never its content', async () => {
    const { workspace, secret } = layout()
    symlinkSync(secret, path.join(workspace, 'reports', 'junit.xml'))
    const onCase = (): void => {}
    const result = await readJUnitReports(['reports/*.xml'], { cwd: workspace, roots: [workspace], onCase })
    expect(result.files).toEqual([
      {
        pattern: 'reports/*.xml',
        path: 'reports/junit.xml',
        status: 'unreadable',
        detail: `outside the workspace (it is a link to ${secret}): reports are read only from inside ${workspace}; not read`,
        bytes: 0,
        counts: counts({})
      }
    ])
    expect(JSON.stringify(result)).not.toContain('secret-hash')
  })

  it('refuses a report reached through a symlinked directory outside the workspace', async () => {
    const { workspace, secret } = layout()
    symlinkSync(path.dirname(secret), path.join(workspace, 'outside'))
    const result = await readJUnitReports(['outside/shadow'], { cwd: workspace, roots: [workspace], onCase: () => {} })
    expect(result.files[0]).toMatchObject({ status: 'unreadable', detail: expect.stringMatching(/^outside the workspace \(it is a link to .*shadow\)/) })
  })

  it('refuses an absolute pattern outside the workspace', async () => {
    const { workspace, secret } = layout()
    const result = await readJUnitReports([secret], { cwd: workspace, roots: [workspace], onCase: () => {} })
    expect(result.files[0]).toMatchObject({ status: 'unreadable', detail: `outside the workspace: reports are read only from inside ${workspace}; not read` })
  })

  it('checks the file it opened too: a link swapped in after the glob still leads nowhere outside', async () => {
    const { workspace, secret } = layout()
    const link = path.join(workspace, 'reports', 'junit.xml')
    symlinkSync(secret, link) // as if swapped in between the check of the matched path and the open
    const read = await readReportFile(link, 'reports/junit.xml', () => {}, undefined, [workspace])
    expect(read).toEqual({ status: 'unreadable', detail: `outside the workspace (it now leads to ${secret}); not read`, bytes: 0, counts: counts({}) })
  })

  it('reads a symlink that stays inside the workspace', async () => {
    const { workspace } = layout()
    writeFileSync(path.join(workspace, 'real.xml'), suite('<testcase classname="c" name="t"/>'))
    symlinkSync(path.join(workspace, 'real.xml'), path.join(workspace, 'reports', 'junit.xml'))
    const cases: TestCase[] = []
    const result = await readJUnitReports(['reports/junit.xml'], { cwd: workspace, roots: [workspace], onCase: (tc) => cases.push(tc) })
    expect(result.files[0]).toMatchObject({ status: 'ok', path: 'reports/junit.xml' })
    expect(cases.map((tc) => tc.name)).toEqual(['t'])
  })

  it('takes GITHUB_WORKSPACE as the workspace when set, else the current and the working directory', () => {
    expect(workspaceRoots('/w/app', { GITHUB_WORKSPACE: '/w' })).toEqual(['/w'])
    expect(workspaceRoots('/w/app', {})).toEqual([process.cwd(), '/w/app'])
  })
})

describe('globs relative to the workspace', () => {
  function layout(): { workspace: string; service: string } {
    const workspace = mkdtempSync(path.join(tmpdir(), 'cfg-junit-base-'))
    const service = path.join(workspace, 'service')
    mkdirSync(path.join(service, 'reports'), { recursive: true })
    return { workspace, service }
  }

  it('tries the workspace when a glob matches nothing in working-directory, and says so', async () => {
    const { workspace, service } = layout()
    writeFileSync(path.join(service, 'reports', 'junit.xml'), suite('<testcase classname="c" name="t"/>'))
    const cases: TestCase[] = []
    const result = await readJUnitReports(['service/reports/*.xml'], {
      cwd: service,
      fallbackCwd: workspace,
      roots: [workspace],
      onCase: (tc) => cases.push(tc)
    })
    expect(result.files[0]).toMatchObject({ status: 'ok', path: 'service/reports/junit.xml', pattern: 'service/reports/*.xml' })
    expect(cases.map((tc) => tc.name)).toEqual(['t'])
    expect(result.unmatched).toEqual([])
    expect(result.fromWorkspace).toEqual(['service/reports/*.xml'])
    expect(result.searched).toEqual([service, workspace])
  })

  it('prefers working-directory: a glob that matches there is not looked for in the workspace', async () => {
    const { workspace, service } = layout()
    writeFileSync(path.join(service, 'reports', 'junit.xml'), suite('<testcase classname="c" name="in-service"/>'))
    mkdirSync(path.join(workspace, 'reports'))
    writeFileSync(path.join(workspace, 'reports', 'junit.xml'), suite('<testcase classname="c" name="in-workspace"/>'))
    const cases: TestCase[] = []
    const result = await readJUnitReports(['reports/junit.xml'], { cwd: service, fallbackCwd: workspace, roots: [workspace], onCase: (tc) => cases.push(tc) })
    expect(cases.map((tc) => tc.name)).toEqual(['in-service'])
    expect(result.fromWorkspace).toEqual([])
  })

  it('names both places when a glob matches nothing anywhere', async () => {
    const { workspace, service } = layout()
    const result = await readJUnitReports(['reports/*.xml'], { cwd: service, fallbackCwd: workspace, roots: [workspace], onCase: () => {} })
    expect(result.unmatched).toEqual(['reports/*.xml'])
    expect(result.searched).toEqual([service, workspace])
    expect(result.files).toEqual([])
  })

  it('looks nowhere else without a fallback, or when the fallback is working-directory itself', async () => {
    const { workspace, service } = layout()
    writeFileSync(path.join(service, 'reports', 'junit.xml'), suite('<testcase classname="c" name="t"/>'))
    const without = await readJUnitReports(['service/reports/*.xml'], { cwd: service, roots: [workspace], onCase: () => {} })
    expect(without.unmatched).toEqual(['service/reports/*.xml'])
    expect(without.searched).toEqual([service])
    const same = await readJUnitReports(['nothing.xml'], { cwd: service, fallbackCwd: `${service}/`, roots: [workspace], onCase: () => {} })
    expect(same.searched).toEqual([service])
  })
})
