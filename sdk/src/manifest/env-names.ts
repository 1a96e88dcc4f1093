// Environment variables a command may receive: names on an allow list (`permissions.env`,
// declared by the manifest AND granted by the operator), never a loader or interpreter hook.
// Each reserved name below turns a granted command into other code (a library, a script,
// another program) or makes it write where the fs grant does not reach, so no declaration
// or grant can pass it. Names are compared upper-cased: some programs read lower-case forms.

/**
 * What an environment variable name must look like (POSIX shells' rule).
 *
 * @example
 * ```ts
 * import { ENV_NAME } from '@stavily/sdk/manifest'
 * ENV_NAME.test('MY_APP_MODE') // true
 * ENV_NAME.test('MY-APP') // false
 * ```
 */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
/** A prefix and a trailing star, `MY_APP_*`: the prefix names at least one character. */
const ENV_PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,126}\*$/

const LOADER = 'a dynamic loader hook (it loads other code into the command)'
const SHELL = 'a shell startup or prompt hook (it runs shell code)'
const INTERPRETER = 'an interpreter hook (it loads or runs other code)'
const PROGRAM = 'a hook that makes the command run another program'
const CONFIG = 'it points the command at a configuration or data file that can run code or write files'
const HOST = 'the host sets it'

const EXACT: Record<string, string> = {
  PATH: HOST,
  HOME: CONFIG,
  ENV: SHELL,
  IFS: SHELL,
  CDPATH: SHELL,
  GLOBIGNORE: SHELL,
  PS4: SHELL,
  PROMPT_COMMAND: SHELL,
  SHELLOPTS: SHELL,
  BASHOPTS: SHELL,
  ZDOTDIR: SHELL,
  GCONV_PATH: LOADER,
  GLIBC_TUNABLES: LOADER,
  LOCPATH: LOADER,
  NLSPATH: LOADER,
  HOSTALIASES: CONFIG,
  RESOLV_HOST_CONF: CONFIG,
  OPENSSL_CONF: LOADER,
  OPENSSL_ENGINES: LOADER,
  OPENSSL_MODULES: LOADER,
  SSLKEYLOGFILE: CONFIG,
  RUBYOPT: INTERPRETER,
  RUBYLIB: INTERPRETER,
  PHPRC: INTERPRETER,
  PHP_INI_SCAN_DIR: INTERPRETER,
  TCLLIBPATH: INTERPRETER,
  CLASSPATH: INTERPRETER,
  JAVA_TOOL_OPTIONS: INTERPRETER,
  _JAVA_OPTIONS: INTERPRETER,
  JDK_JAVA_OPTIONS: INTERPRETER,
  EDITOR: PROGRAM,
  VISUAL: PROGRAM,
  PAGER: PROGRAM,
  BROWSER: PROGRAM,
  LESSOPEN: PROGRAM,
  LESSCLOSE: PROGRAM,
  KUBECONFIG: CONFIG,
  DOCKER_CONFIG: CONFIG,
  CURL_HOME: CONFIG,
  WGETRC: CONFIG,
  INPUTRC: CONFIG,
  // Option variables that carry a program to run or a file of commands: tar's
  // --to-command/--checkpoint-action, rsync's and cvs's remote shell, getconf's helper
  // folder, make's extra makefiles, go's -toolexec, a JVM's -javaagent, vim's startup commands.
  TAR_OPTIONS: PROGRAM,
  RSYNC_RSH: PROGRAM,
  RSYNC_CONNECT_PROG: PROGRAM,
  CVS_RSH: PROGRAM,
  GETCONF_DIR: PROGRAM,
  GOFLAGS: PROGRAM,
  RUSTC_WRAPPER: PROGRAM,
  VIMINIT: PROGRAM,
  EXINIT: PROGRAM,
  MAKEFILES: CONFIG,
  AWS_CONFIG_FILE: CONFIG,
  KRB5_CONFIG: CONFIG,
  MAVEN_OPTS: INTERPRETER,
  GRADLE_OPTS: INTERPRETER,
  ANT_OPTS: INTERPRETER,
  DOTNET_STARTUP_HOOKS: LOADER,
  GTK_MODULES: LOADER,
  GIO_EXTRA_MODULES: LOADER,
  QT_PLUGIN_PATH: LOADER,
}

const PREFIXES: [string, string][] = [
  ['LD_', LOADER],
  ['DYLD_', LOADER],
  ['CORECLR_', LOADER],
  ['MALLOC_', LOADER],
  ['BASH_', SHELL],
  ['PYTHON', INTERPRETER],
  ['PERL', INTERPRETER],
  ['NODE_', INTERPRETER],
  ['NPM_CONFIG_', INTERPRETER],
  ['LUA_', INTERPRETER],
  ['GIT_', PROGRAM],
  ['XDG_', CONFIG],
]

const SUFFIXES: [string, string][] = [
  ['_EDITOR', PROGRAM],
  ['_PAGER', PROGRAM],
  ['_ASKPASS', PROGRAM],
]

/**
 * Why the host never passes `name` to a command, or undefined when it may (if declared and
 * granted). Compared upper-cased.
 *
 * @example
 * ```ts
 * import { reservedEnvReason } from '@stavily/sdk/manifest'
 * reservedEnvReason('LD_AUDIT') // 'a dynamic loader hook (it loads other code into the command)'
 * reservedEnvReason('MY_APP_MODE') // undefined
 * ```
 */
export function reservedEnvReason(name: string): string | undefined {
  const upper = name.toUpperCase()
  const exact = Object.hasOwn(EXACT, upper) ? EXACT[upper] : undefined
  if (exact !== undefined) return exact
  for (const [prefix, why] of PREFIXES) if (upper.startsWith(prefix)) return why
  for (const [suffix, why] of SUFFIXES) if (upper.endsWith(suffix)) return why
  return undefined
}

/**
 * The problem with one `permissions.env` entry (a name such as `"CI"` or a prefix pattern
 * such as `"MY_APP_*"`), or undefined when it is fine. A reserved name, or a pattern every
 * name of which is reserved (`"LD_*"`), is a problem: it could never be passed.
 *
 * @example
 * ```ts
 * import { envEntryProblem } from '@stavily/sdk/manifest'
 * envEntryProblem('MY_APP_*') // undefined
 * envEntryProblem('BASH_ENV') // '"BASH_ENV" is a shell startup or prompt hook ...'
 * ```
 */
export function envEntryProblem(entry: unknown): string | undefined {
  const hint = 'expected an environment variable name such as "CI" or a prefix pattern such as "MY_APP_*"'
  if (typeof entry !== 'string') return `${hint}, got ${entry === null ? 'null' : typeof entry}`
  const shown = JSON.stringify(entry)
  if (ENV_PREFIX_PATTERN.test(entry)) {
    const prefix = entry.slice(0, -1).toUpperCase()
    const covering = PREFIXES.find(([p]) => prefix.startsWith(p))
    if (covering) {
      return `${shown} matches only reserved names (${covering[0]}*: ${covering[1]}); commands never receive them, whatever is declared or granted`
    }
    return undefined
  }
  if (!ENV_NAME.test(entry)) return `${shown} is not a valid name; ${hint}`
  const reason = reservedEnvReason(entry)
  if (reason !== undefined) {
    return `${shown} is reserved (${reason}); commands never receive it, whatever is declared or granted`
  }
  return undefined
}

/**
 * Whether an allow list of `permissions.env` entries (names and `PREFIX_*` patterns,
 * case-sensitive) covers `name`.
 *
 * @example
 * ```ts
 * import { envAllowed } from '@stavily/sdk/manifest'
 * envAllowed(['CI', 'MY_APP_*'], 'MY_APP_MODE') // true
 * ```
 */
export function envAllowed(entries: readonly string[], name: string): boolean {
  return entries.some((entry) => (entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name))
}
