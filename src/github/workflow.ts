// Facts about the workflow run that the Actions environment gives, shared by the annotations
// (sinks/actions.ts) and the check run (github/feedback.ts).

/**
 * The workflow file of this run, relative to the repository: `GITHUB_WORKFLOW_REF` is
 * `owner/repo/.github/workflows/x.yml@ref`. Undefined when unknown, or when the workflow lives in
 * another repository (a reusable workflow): an annotation there would point at no file of this one.
 */
export function workflowFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const ref = env.GITHUB_WORKFLOW_REF
  const repo = env.GITHUB_REPOSITORY
  if (!ref || !repo || !ref.startsWith(`${repo}/`)) return undefined
  const file = ref.slice(repo.length + 1).replace(/@[^@]*$/, '')
  return file.startsWith('.github/') ? file : undefined
}
