// A local HTTP server that plays the parts of the GitHub API that pull-request feedback uses:
// issue comments (listed page by page, created, updated) and check runs, kept in memory, and who
// the token is (GraphQL `viewer`, REST `GET /user`). It records every request, enforces GitHub's
// documented limits the way GitHub does (422), and can be told to refuse requests the way GitHub
// refuses a token that may not write, or to fail the next ones the way a struggling GitHub does
// (502, a secondary rate limit's 429 with retry-after).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  /** The path without the query. */
  path: string
  query: URLSearchParams
  authorization?: string
  body?: unknown
}

export interface StoredComment {
  id: number
  issue: number
  body: string
  user: { login: string; type: 'User' | 'Bot' }
  html_url: string
}

export interface StoredCheckRun {
  id: number
  [field: string]: unknown
}

/** How the server answers a request that `refuse` matches, or one of `failNext`. */
export interface Refusal {
  status: number
  message: string
  headers?: Record<string, string>
}

/** What GitHub answers while it recovers: a bad gateway from its front end. */
export const BAD_GATEWAY: Refusal = { status: 502, message: 'Server Error' }
/** GitHub's secondary rate limit, as documented: 403 or 429, a message that says so, retry-after. */
export function secondaryRateLimit(retryAfterS: number): Refusal {
  return {
    status: 429,
    message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
    headers: { 'retry-after': String(retryAfterS) }
  }
}

/** GitHub's limits (characters; counted here in UTF-16 units and in code points, whichever is more). */
const COMMENT_BODY_MAX = 65_536
const CHECK_OUTPUT_MAX = 65_535
const ANNOTATIONS_PER_REQUEST = 50
const ANNOTATION_MESSAGE_MAX_BYTES = 64 * 1024
const PAGE_SIZE_DEFAULT = 30
const PAGE_SIZE_MAX = 100

/** Who the workflow's GITHUB_TOKEN writes as; a token listed in `logins` writes as its user. */
export const ACTIONS_BOT = 'github-actions[bot]'

export class FakeGitHub {
  readonly requests: RecordedRequest[] = []
  readonly comments: StoredComment[] = []
  readonly checkRuns: StoredCheckRun[] = []
  /**
   * Tokens of users (a PAT): `GET /user` and GraphQL's `viewer` name them. Other tokens are
   * installation tokens acting as `ACTIONS_BOT`: `viewer` names it, `GET /user` answers 403.
   */
  readonly logins = new Map<string, string>()
  /** Whether POST /graphql answers (false: 404, as where GraphQL is not served). */
  graphql = true
  /** When it returns a refusal for a request, the server answers with it instead. */
  refuse: (request: RecordedRequest) => Refusal | undefined = () => undefined
  /** Requests that match are never answered (a hung API). */
  hang: (request: RecordedRequest) => boolean = () => false
  /** How many of the next requests get `failure` instead of being served (see `failNext`). */
  private failuresLeft = 0
  private failure: Refusal = BAD_GATEWAY

  private nextId = 1_000
  private readonly server: Server

  private constructor() {
    this.server = createServer((request, response) => void this.handle(request, response))
    // Node closes idle keep-alive connections after 5 s, GitHub's API much later: with Node's
    // default, a client reusing a pooled connection right as it is closed gets ECONNRESET.
    this.server.keepAliveTimeout = 120_000
  }

  static async start(): Promise<FakeGitHub> {
    const github = new FakeGitHub()
    await new Promise<void>((resolve) => github.server.listen(0, '127.0.0.1', resolve))
    return github
  }

  get url(): string {
    const { port } = this.server.address() as AddressInfo
    return `http://127.0.0.1:${port}`
  }

  async stop(): Promise<void> {
    // Keep-alive sockets (undici pools them) would hold `close` open.
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  /** The next `count` requests get `answer` (then requests are served again); `Infinity` for all. */
  failNext(count: number, answer: Refusal): void {
    this.failuresLeft = count
    this.failure = answer
  }

  /** Stops failing requests (what `failNext` left). */
  recover(): void {
    this.failuresLeft = 0
  }

  /** Requests that change something: everything but GET, and GraphQL (a POST that only reads). */
  writes(): RecordedRequest[] {
    return this.requests.filter((request) => request.method !== 'GET' && request.path !== '/graphql')
  }

  /** A comment as someone else (another tool, a person) left it. */
  addComment(issue: number, body: string, login: string): StoredComment {
    const id = this.nextId++
    const comment: StoredComment = {
      id,
      issue,
      body,
      user: { login, type: login.endsWith('[bot]') ? 'Bot' : 'User' },
      html_url: `https://github.com/acme/shop/pull/${issue}#issuecomment-${id}`
    }
    this.comments.push(comment)
    return comment
  }

  commentsOn(issue: number): StoredComment[] {
    return this.comments.filter((comment) => comment.issue === issue)
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.url)
    const text = await readBody(request)
    const recorded: RecordedRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }),
      ...(text === '' ? {} : { body: JSON.parse(text) as unknown })
    }
    this.requests.push(recorded)
    if (this.hang(recorded)) return
    const refusal = this.failuresLeft > 0 ? (this.failuresLeft--, this.failure) : this.refuse(recorded)
    if (refusal !== undefined) {
      return send(response, refusal.status, { message: refusal.message, documentation_url: 'https://docs.github.com/rest' }, refusal.headers)
    }
    const [status, body, headers] = this.route(recorded, request.headers.authorization)
    send(response, status, body, headers)
  }

  private route(request: RecordedRequest, authorization: string | undefined): [number, unknown, Record<string, string>?] {
    const { method, path } = request
    let match: RegExpExecArray | null
    if (method === 'GET' && path === '/user') return this.user(authorization)
    if (method === 'POST' && path === '/graphql' && this.graphql) return this.graphqlQuery(request.body, authorization)
    if ((match = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(path))) {
      const issue = Number(match[1])
      if (method === 'GET') return this.listComments(issue, request.query, path)
      if (method === 'POST') return this.createComment(issue, request.body, authorization)
    }
    if ((match = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(path)) && method === 'PATCH') {
      return this.updateComment(Number(match[1]), request.body)
    }
    if (/^\/repos\/[^/]+\/[^/]+\/check-runs$/.test(path) && method === 'POST') return this.createCheckRun(request.body)
    return [404, { message: 'Not Found' }]
  }

  private user(authorization: string | undefined): [number, unknown] {
    const login = this.logins.get(tokenOf(authorization))
    // What GitHub answers an installation token (the workflow's GITHUB_TOKEN).
    return login === undefined ? [403, { message: 'Resource not accessible by integration' }] : [200, { login, type: 'User' }]
  }

  /** GraphQL as GitHub answers `query { viewer { login } }` (the only query feedback sends). */
  private graphqlQuery(body: unknown, authorization: string | undefined): [number, unknown] {
    const query = field(body, 'query')
    if (typeof query !== 'string' || !/\bviewer\s*\{\s*login\s*\}/.test(query)) {
      return [200, { errors: [{ message: `the fake serves only viewer { login }, got: ${String(query)}` }] }]
    }
    return [200, { data: { viewer: { login: this.logins.get(tokenOf(authorization)) ?? ACTIONS_BOT } } }]
  }

  private listComments(issue: number, query: URLSearchParams, path: string): [number, unknown, Record<string, string>] {
    const perPage = Math.min(Number(query.get('per_page') ?? PAGE_SIZE_DEFAULT), PAGE_SIZE_MAX)
    const page = Number(query.get('page') ?? 1)
    const all = this.commentsOn(issue)
    const pages = Math.max(1, Math.ceil(all.length / perPage))
    const link = (n: number, rel: string): string => `<${this.url}${path}?per_page=${perPage}&page=${n}>; rel="${rel}"`
    const links = [...(page < pages ? [link(page + 1, 'next'), link(pages, 'last')] : []), ...(page > 1 ? [link(1, 'first'), link(page - 1, 'prev')] : [])]
    return [200, all.slice((page - 1) * perPage, page * perPage), links.length > 0 ? { link: links.join(', ') } : {}]
  }

  private createComment(issue: number, body: unknown, authorization: string | undefined): [number, unknown] {
    const text = field(body, 'body')
    if (typeof text !== 'string' || text === '') return unprocessable('body is missing')
    if (characters(text) > COMMENT_BODY_MAX) return unprocessable(`Body is too long (maximum is ${COMMENT_BODY_MAX} characters)`)
    return [201, this.addComment(issue, text, this.logins.get(tokenOf(authorization)) ?? ACTIONS_BOT)]
  }

  private updateComment(id: number, body: unknown): [number, unknown] {
    const comment = this.comments.find((candidate) => candidate.id === id)
    if (comment === undefined) return [404, { message: 'Not Found' }]
    const text = field(body, 'body')
    if (typeof text !== 'string' || text === '') return unprocessable('body is missing')
    if (characters(text) > COMMENT_BODY_MAX) return unprocessable(`Body is too long (maximum is ${COMMENT_BODY_MAX} characters)`)
    comment.body = text
    return [200, comment]
  }

  private createCheckRun(body: unknown): [number, unknown] {
    const problem = checkRunProblem(body)
    if (problem !== undefined) return unprocessable(problem)
    const run: StoredCheckRun = { ...(body as object), id: this.nextId++ }
    this.checkRuns.push(run)
    return [201, run]
  }
}

/** What GitHub would refuse in a check run, or undefined. */
function checkRunProblem(body: unknown): string | undefined {
  if (typeof field(body, 'name') !== 'string' || typeof field(body, 'head_sha') !== 'string') return 'name and head_sha are required'
  const output = field(body, 'output')
  if (output === undefined) return undefined
  if (typeof field(output, 'title') !== 'string' || typeof field(output, 'summary') !== 'string') return 'output needs a title and a summary'
  for (const part of ['summary', 'text'] as const) {
    const text = field(output, part)
    if (typeof text === 'string' && characters(text) > CHECK_OUTPUT_MAX) return `output.${part} is too long (maximum is ${CHECK_OUTPUT_MAX} characters)`
  }
  const annotations = field(output, 'annotations')
  if (annotations === undefined) return undefined
  if (!Array.isArray(annotations) || annotations.length > ANNOTATIONS_PER_REQUEST) return `at most ${ANNOTATIONS_PER_REQUEST} annotations per request`
  for (const annotation of annotations as unknown[]) {
    for (const name of ['path', 'start_line', 'end_line', 'annotation_level', 'message']) {
      if (field(annotation, name) === undefined) return `annotation.${name} is required`
    }
    if (Buffer.byteLength(String(field(annotation, 'message')), 'utf8') > ANNOTATION_MESSAGE_MAX_BYTES) return 'annotation.message is too long'
  }
  return undefined
}

function unprocessable(message: string): [number, unknown] {
  return [422, { message: 'Validation Failed', errors: [{ message }] }]
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined
}

/** The stricter of the two ways to count characters. */
function characters(text: string): number {
  return Math.max(text.length, [...text].length)
}

function tokenOf(authorization: string | undefined): string {
  return (authorization ?? '').replace(/^(token|bearer)\s+/i, '')
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  response.end(JSON.stringify(body))
}
