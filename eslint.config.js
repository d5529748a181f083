// `npm run lint`: ESLint's and typescript-eslint's recommended rules over the sources, tests,
// benchmarks and scripts. Formatting is prettier's business, not ESLint's.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/** Node's globals, for the plain .js/.mjs scripts (TypeScript files get them from @types/node). */
const NODE_GLOBALS = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'].map((name) => [name, 'readonly'])
)

export default tseslint.config({ ignores: ['dist/', 'node_modules/', '.venv/', '.tmp/', 'build/'] }, js.configs.recommended, tseslint.configs.recommended, {
  languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: NODE_GLOBALS },
  rules: {
    '@typescript-eslint/no-unused-vars': [
      'error',
      { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }
    ],
    // Off: matching control characters is the point wherever a regex names them. Untrusted
    // text (inputs, worker output, test reports) is checked and scrubbed for C0/C1 controls,
    // and the tests look for ANSI escapes (\x1b) in what a terminal receives.
    'no-control-regex': 'off'
  }
})
