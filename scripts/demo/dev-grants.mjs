// Extra grants for the dev agents, from the environment, added to the demo's own:
//   STAVILY_DEV_ACTION_GRANTS="--allow-command df --allow-read /var/log"
//   STAVILY_DEV_SENSOR_GRANTS="--allow-host status.example.com"
// The values are the agent's own --allow-* flags (docs/deploying-agents.md); each repeats,
// so they add to the demo's grants (curl, 127.0.0.1, the log folder) instead of replacing
// them, as a grant in an agent config file (STAVILY_AGENT_CONFIG) would, since flags win.

const WITH_VALUE = new Set([
  '--allow-host',
  '--allow-command',
  '--allow-secret',
  '--allow-read',
  '--allow-write',
  '--allow-env',
])
const ALONE = new Set(['--allow-private-network'])

/** The agent flags in one variable's value; throws with the variable's name and the bad word. */
export function parseGrantFlags(name, value) {
  const words = (value ?? '').trim().split(/\s+/).filter(Boolean)
  const flags = []
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (ALONE.has(w)) flags.push(w)
    else if (WITH_VALUE.has(w)) {
      const v = words[i + 1]
      if (v === undefined || v.startsWith('--')) throw new Error(`${name}: ${w} needs a value, e.g. ${w} df`)
      flags.push(w, v)
      i++
    } else
      throw new Error(
        `${name}: "${w}" is not a grant flag; expected ${[...WITH_VALUE, ...ALONE].join(', ')} (e.g. ${name}="--allow-command df")`,
      )
  }
  return flags
}

/** The extra flags for each dev agent. */
export function devAgentGrants(env) {
  return {
    sensor: parseGrantFlags('STAVILY_DEV_SENSOR_GRANTS', env.STAVILY_DEV_SENSOR_GRANTS),
    action: parseGrantFlags('STAVILY_DEV_ACTION_GRANTS', env.STAVILY_DEV_ACTION_GRANTS),
  }
}
