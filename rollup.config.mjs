// Bundles the action's two entry points (main and post) and the CLI into dist/ and copies the
// Python bootstrap next to them: dist/ is what the runner executes, so it must be self-contained.
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs'
import commonjs from '@rollup/plugin-commonjs'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import typescript from '@rollup/plugin-typescript'

const copyBootstrap = {
  name: 'copy-bootstrap',
  writeBundle() {
    mkdirSync('dist', { recursive: true })
    copyFileSync('src/celery/bootstrap.py', 'dist/bootstrap.py')
    copyFileSync('src/celery/drift.py', 'dist/drift.py')
    copyFileSync('src/celery/connections.py', 'dist/connections.py')
    copyFileSync('src/celery/schema.py', 'dist/schema.py')
    copyFileSync('src/celery/pgmq_probe.py', 'dist/pgmq_probe.py')
    copyFileSync('src/celery/configured.py', 'dist/configured.py')
    copyFileSync('src/celery/envreads.py', 'dist/envreads.py')
    copyFileSync('src/celery/quickstop.py', 'dist/quickstop.py')
    // The CLI is package.json's `bin`: executable, so a clone can run it directly too.
    chmodSync('dist/cli.js', 0o755)
  }
}

export default {
  input: { index: 'src/index.ts', post: 'src/post.ts', cli: 'src/cli.ts' },
  output: {
    dir: 'dist',
    format: 'es',
    entryFileNames: '[name].js',
    // Modules the entries share go to chunks named after their main module.
    chunkFileNames: 'shared-[name].js',
    banner: (chunk) => (chunk.isEntry && chunk.name === 'cli' ? '#!/usr/bin/env node' : ''),
    generatedCode: 'es2015'
  },
  // pg keeps an optional, lazy require of pg-native; the action never uses it.
  external: ['pg-native'],
  // @actions/core imports its OIDC client, and with it an HTTP client and undici, at load time; the
  // action never asks for an OIDC token. Declared free of side effects, they are left out unless
  // something used is in them (the pull-request feedback, loaded on demand, does use them).
  treeshake: { moduleSideEffects: (id) => !/node_modules\/(undici|@actions\/http-client|tunnel)\//.test(id) },
  plugins: [
    typescript({ tsconfig: './tsconfig.build.json' }),
    // execa-style packages need the node export condition; see docs/tooling facts.
    nodeResolve({ preferBuiltins: true, exportConditions: ['node'] }),
    commonjs(),
    copyBootstrap
  ],
  onwarn(warning, warn) {
    // zod ships misplaced /*#__PURE__*/ annotations and @actions/core has circular imports;
    // all three are harmless and would drown real warnings.
    // TypeScript's CommonJS helpers in @actions/* test `this` at module level (THIS_IS_UNDEFINED).
    if (['INVALID_ANNOTATION', 'CIRCULAR_DEPENDENCY', 'THIS_IS_UNDEFINED'].includes(warning.code)) return
    warn(warning)
  }
}
