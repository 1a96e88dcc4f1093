import { ApiClient } from '../api-client.ts'
import { CliError, usageError } from '../cli-error.ts'
import { checkUrl, configPath, DEFAULT_URL, readConfig, writeConfig } from '../config-file.ts'
import { EXIT } from '../exit-codes.ts'
import { readSecretValue } from '../read-input.ts'
import type { CommandSpec } from '../spec.ts'

// `stavily login`: checks the token against the orchestrator, then stores URL and token
// in the config file (0600). The token comes from --token, or piped standard input, or a
// prompt that does not echo: the last two keep it out of shell history.

export const login: CommandSpec = {
  words: ['login'],
  summary: 'store the orchestrator URL and an API token for the other commands',
  args: [],
  options: {
    token: {
      type: 'string',
      value: 'TOKEN',
      description: 'the API token; without it (or with "-") it is read from standard input or asked for',
    },
    'no-check': {
      type: 'boolean',
      description: 'store without asking the orchestrator whether the token works',
    },
  },
  details:
    'The config file is $STAVILY_CONFIG, else ~/.config/stavily/config.json (mode 0600).\nSTAVILY_URL and STAVILY_TOKEN override what it says.',
  examples: [
    'stavily login --url http://127.0.0.1:8080          # asks for the token',
    'pass show stavily/admin | stavily login --url https://stavily.example.com',
  ],
  async run({ io, opts, out, json }) {
    const path = configPath(io.env)
    const stored = await readConfig(path, io.env).catch(() => ({}) as { url?: string })
    const url = checkUrl(
      opts.url ? '--url' : 'STAVILY_URL',
      (opts.url as string | undefined) ?? io.env.STAVILY_URL ?? stored.url ?? DEFAULT_URL,
    )
    let token = opts.token as string | undefined
    if (token === undefined || token === '-') token = (await readSecretValue(io, 'API token: ')).trim()
    if (token === '')
      throw usageError('no token given', 'pass --token TOKEN, pipe it in, or type it at the prompt')
    if (/\s/.test(token))
      throw usageError('the token contains white space: expected one word such as stv_admin_…')
    if (!opts['no-check']) {
      try {
        await new ApiClient(url, token).get('/agents', { limit: 1 })
      } catch (err) {
        if (err instanceof CliError && err.exitCode === EXIT.auth)
          throw new CliError(
            EXIT.auth,
            `the orchestrator at ${url} refused this token (${err.message})`,
            'check the token, or create one with an admin token: POST /api/v1/tokens',
          )
        throw err
      }
    }
    await writeConfig(path, { url, token })
    if (json) out.json({ url, configPath: path, checked: !opts['no-check'] })
    else out.line(`logged in to ${url}; saved in ${path}`)
    return EXIT.ok
  },
}
