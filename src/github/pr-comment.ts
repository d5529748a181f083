// The pull request's one comment: found again by its hidden marker and updated, or created.
// The marker is no proof of authorship — anyone who can comment can paste it — so a marked
// comment is adopted only when the token's own identity wrote it; anyone else's is left alone.
import type { GitHubClient } from './client.js'

/** Who writes a comment with the workflow's own GITHUB_TOKEN. */
export const ACTIONS_BOT_LOGIN = 'github-actions[bot]'

export interface IssueComment {
  id: number
  body?: string | null
  html_url?: string
  user?: { login?: string } | null
}

export interface Issue {
  owner: string
  repo: string
  issue_number: number
}

export interface CommentWritten {
  action: 'created' | 'updated'
  id: number
  url?: string
  /** Logins of other people's comments that carried the marker and were left alone. */
  ignoredAuthors?: string[]
}

/** Updates this token's comment that carries `tag`, or creates one. */
export async function upsertComment(client: GitHubClient, issue: Issue, tag: string, body: string): Promise<CommentWritten> {
  const { own, ignoredAuthors } = await findOwnMarkedComment(client, issue, tag)
  const { data } =
    own === undefined
      ? await client.rest.issues.createComment({ ...issue, body })
      : await client.rest.issues.updateComment({ owner: issue.owner, repo: issue.repo, comment_id: own.id, body })
  return {
    action: own === undefined ? 'created' : 'updated',
    id: data.id,
    ...(data.html_url ? { url: data.html_url } : {}),
    ...(ignoredAuthors.length > 0 ? { ignoredAuthors } : {})
  }
}

async function findOwnMarkedComment(client: GitHubClient, issue: Issue, tag: string): Promise<{ own?: IssueComment; ignoredAuthors: string[] }> {
  const comments: IssueComment[] = await client.paginate(client.rest.issues.listComments, { ...issue, per_page: 100 })
  const marked = comments.filter((comment) => comment.body?.includes(tag) === true)
  // The common first run has no marked comment: no need to ask who the token is.
  if (marked.length === 0) return { ignoredAuthors: [] }
  const login = (await tokenLogin(client)).toLowerCase()
  // The marker must also open the comment, as renderPrComment writes it: the same identity (the
  // workflow's GITHUB_TOKEN) also posts other workflows' comments, which may quote outside text
  // holding the marker (a pull request's description), and those must not be overwritten.
  const isOwn = (comment: IssueComment): boolean => comment.user?.login?.toLowerCase() === login && comment.body?.startsWith(tag) === true
  // The oldest of the token's own (the list is oldest first), so that reruns keep to one.
  const own = marked.find(isOwn)
  const ignoredAuthors = [...new Set(marked.filter((comment) => !isOwn(comment)).map((comment) => safeLogin(comment.user?.login)))]
  return own === undefined ? { ignoredAuthors } : { own, ignoredAuthors }
}

/**
 * Who the token acts as. GraphQL's `viewer` answers for a personal token and for an installation
 * token alike (`<app>[bot]`; the workflow's GITHUB_TOKEN is `github-actions[bot]`); `GET /user`
 * answers only the former (an installation token gets 403 "Resource not accessible by
 * integration"). When neither answers, the token is taken for the workflow's own: a wrong guess
 * can only leave a comment alone and post a new one, never adopt someone else's.
 */
export async function tokenLogin(client: GitHubClient): Promise<string> {
  try {
    const result = await client.graphql<{ viewer?: { login?: unknown } }>('query { viewer { login } }')
    const login = result.viewer?.login
    if (typeof login === 'string' && login !== '') return login
  } catch {
    // Next: the REST endpoint (an older GitHub Enterprise Server, a proxy that forbids GraphQL).
  }
  try {
    const { data } = await client.rest.users.getAuthenticated()
    if (typeof data.login === 'string' && data.login !== '') return data.login
  } catch {
    // An installation token: see above.
  }
  return ACTIONS_BOT_LOGIN
}

/** A login as GitHub allows them (letters, digits, hyphens; `[bot]` for apps), for one log line. */
function safeLogin(login: string | undefined): string {
  if (login === undefined || login === '') return 'a deleted account'
  const clean = login.replace(/[^A-Za-z0-9_.\-[\]]/g, '').slice(0, 60)
  return clean === '' ? 'an unnamed account' : clean
}
