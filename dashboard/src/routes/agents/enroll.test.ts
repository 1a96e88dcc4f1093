import { describe, expect, it } from 'vitest'
import { agentCommand, parseLabels, shellWord } from './enroll.ts'

describe('enrollment form', () => {
  it('reads labels typed as key=value, comma-separated, and names what is wrong', () => {
    expect(parseLabels('')).toEqual({ value: {}, error: null })
    expect(parseLabels(' zone=a , rack=3,')).toEqual({ value: { zone: 'a', rack: '3' }, error: null })
    expect(parseLabels('team=ops=sre')).toEqual({ value: { team: 'ops=sre' }, error: null })
    expect(parseLabels('zone').error).toBe('"zone": write key=value')
    expect(parseLabels('=a').error).toBe('"=a": write key=value')
    expect(parseLabels('Zone=a').error).toMatch(/^"Zone": lower-case letters/)
    expect(parseLabels('zone=a, zone=b').error).toBe('"zone" is given twice')
  })

  it('quotes shell words only when they need it', () => {
    expect(shellWord('stv_enroll_abc-123')).toBe('stv_enroll_abc-123')
    expect(shellWord('https://stavily.example.com:8443')).toBe('https://stavily.example.com:8443')
    expect(shellWord("it's $HOME")).toBe(`'it'\\''s $HOME'`)
  })

  it('builds the command that starts an agent with the token', () => {
    expect(agentCommand('http://127.0.0.1:8080', { token: 'stv_enroll_x', pool: 'web' })).toBe(
      'stavily-agent --orchestrator http://127.0.0.1:8080 --enrollment-token stv_enroll_x --data-dir /var/lib/stavily-agent --name "web-$(hostname)"',
    )
  })
})
