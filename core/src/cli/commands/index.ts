import type { CommandSpec, GroupSpec } from '../spec.ts'
import { agentGroup } from './agent.ts'
import { auditGroup } from './audit.ts'
import { hookGroup } from './hook.ts'
import { instructionGroup } from './instruction.ts'
import { login } from './login.ts'
import { orgGroup } from './org.ts'
import { pluginGroup } from './plugin.ts'
import { runGroup } from './run.ts'
import { secretGroup } from './secret.ts'
import { server } from './server.ts'
import { tokenGroup } from './token.ts'
import { workflowGroup } from './workflow.ts'

// Every command, in the order `stavily help` lists them.

export const SINGLES: CommandSpec[] = [server, login]

export const GROUPS: GroupSpec[] = [
  workflowGroup,
  runGroup,
  instructionGroup,
  hookGroup,
  agentGroup,
  pluginGroup,
  secretGroup,
  auditGroup,
  tokenGroup,
  orgGroup,
]
